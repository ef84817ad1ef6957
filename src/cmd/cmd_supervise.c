/* `hfinit [-c FILE] [-v]`: the main mode. Set-up may fail and exit (2: config,
 * 3: resolution); once the first service is started, only the supervisor's
 * shutdown ends hfinit. */
#include "cmd/cmd_supervise.h"

#include "conf/config.h"
#include "base/log.h"
#include "run/pid1.h"
#include "plan/plan.h"
#include "plan/sandbox.h"
#include "status/status.h"
#include "sup/supervise.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: hfinit [-c FILE] [-v]          supervise the services of a config\n"
			"       hfinit -h                      all modes\n");
	return 2;
}

int cmd_supervise(int argc, char **argv)
{
	const char *opt_config = NULL;
	struct config_location loc;
	struct pid1_signals sigs;
	struct config *cfg;
	struct plan plan;
	struct status_writer *status;
	struct err e;
	int verbose = 0, code;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			opt_config = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			opt_config = argv[i] + 9;
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else {
			log_error("unexpected argument \"%s\"", argv[i]);
			return usage();
		}
	}
	config_locate(opt_config, &loc);
	cfg = config_load(&loc, &e);
	if (!cfg) {
		log_error("%s", e.msg);
		return 2;
	}
	log_setup(verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO, cfg->log_format);
	if (!config_ok(cfg)) {
		config_diags_print(cfg, stderr);
		log_error("%s: invalid configuration, nothing started (hfinit check -c %s)",
			  cfg->file, cfg->file);
		config_free(cfg);
		return 2;
	}
	if (cfg->nservices == 0) {
		log_error("%s: no [service:NAME] sections: nothing to supervise", cfg->file);
		config_free(cfg);
		return 2;
	}
	/* Signals first: resolution runs children (python -c), and from here on a
	 * SIGTERM must not kill hfinit before it can stop what it started. */
	if (pid1_block_signals(&sigs, &e) < 0) {
		log_error("%s", e.msg);
		config_free(cfg);
		return 1;
	}
	if (getpid() != 1 && pid1_set_subreaper() < 0)
		log_errno(LOG_LVL_WARN, errno,
			  "PR_SET_CHILD_SUBREAPER: orphans will not be reaped");
	/* The status dir first: services learn it as $HFINIT_STATUS_DIR. */
	status = status_open(cfg->status_dir);
	if (plan_build(cfg, &plan, PLAN_START, &e) < 0) {
		log_error("%s", e.msg);
		status_close(status);
		config_free(cfg);
		return 3;
	}
	/* A required service that cannot be set up: nothing starts. An optional
	 * one is failed when its stage comes, and the others run (degraded). */
	if (plan_required_failed(&plan)) {
		log_error("a required service cannot be set up: nothing started");
		status_close(status);
		plan_free(&plan);
		config_free(cfg);
		return 3;
	}
	/* Seccomp profiles: compiled once by the planner, before any fork; one
	 * that cannot be built is a failed start, never an unsandboxed one. */
	if (plan.sandbox_err.msg[0]) {
		log_error("%s; nothing started", plan.sandbox_err.msg);
		status_close(status);
		plan_free(&plan);
		config_free(cfg);
		return 1;
	}
	sandbox_landlock_warn(cfg);
	if (status_dir(status) && plan_setenv(&plan, "HFINIT_STATUS_DIR", status_dir(status)) < 0) {
		log_error("out of memory");
		status_close(status);
		plan_free(&plan);
		config_free(cfg);
		return 1;
	}
	code = supervise(cfg, &plan, status, &sigs.blocked, &sigs.orig_mask, &plan.sandbox);
	status_close(status);
	plan_free(&plan);
	config_free(cfg);
	return code;
}
