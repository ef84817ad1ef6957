/* `hfinit [-c FILE] [-n] [-v]`: the main mode. Set-up may fail and exit (2:
 * usage or config, 3: resolution, 1: hfinit itself); this is the only place
 * that bails, and only before supervise() starts the first service: from
 * then on only the supervisor's shutdown ends hfinit. Everything set up here
 * is released by its cleanup attribute (base/cleanup.h) on every return. */
#include "cmd/cmd_supervise.h"

#include "base/cleanup.h"
#include "base/log.h"
#include "cmd/cmd_version.h"
#include "conf/config.h"
#include "plan/plan.h"
#include "plan/sandbox.h"
#include "run/pid1.h"
#include "status/status.h"
#include "sup/supervise.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct sup_opts {
	const char *config; /* -c FILE; NULL: $HFINIT_CONFIG, else the default path */
	bool verbose;	    /* -v */
	bool test;	    /* -n: check the config, start nothing */
};

static void config_freep(struct config **cfg)
{
	config_free(*cfg);
}

static void status_closep(struct status_writer **w)
{
	status_close(*w);
}

static int usage_error(void)
{
	(void)usage_print("supervise", stderr);
	return 2;
}

/* -1: go on; else the exit code (0 after -h). */
static int parse_opts(int argc, char **argv, struct sup_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 0; /* a fresh scan (glibc and musl) */
	while ((c = getopt_long(argc, argv, "+:c:nvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'n':
			o->test = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			(void)usage_print("supervise", stdout);
			return 0;
		case ':':
			/* -c/--config is the only option with a value */
			log_error("option -c/--config needs a FILE");
			return usage_error();
		default:
			if (optopt)
				log_error("unknown option -%c", optopt);
			else
				log_error("unknown option \"%s\"", argv[optind - 1]);
			return usage_error();
		}
	}
	if (optind < argc) {
		log_error("unexpected argument \"%s\"", argv[optind]);
		return usage_error();
	}
	return -1;
}

/* The config, valid and with services: 0, or 2 with the errors logged. */
static int load(const struct sup_opts *o, struct config **out)
{
	struct config_location loc;
	struct config *cfg;
	struct err e;

	config_locate(o->config, &loc);
	*out = cfg = config_load(&loc, &e);
	if (!cfg) {
		log_error("%s", e.msg);
		return 2;
	}
	log_setup(o->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO, cfg->log_format);
	log_set_timestamps(cfg->log_timestamps);
	if (!config_ok(cfg)) {
		config_diags_print(cfg, stderr);
		log_error("%s: invalid configuration, nothing started (hfinit check -c %s)",
			  cfg->file, cfg->file);
		return 2;
	}
	if (cfg->nservices == 0) {
		log_error("%s: no [service:NAME] sections: nothing to supervise", cfg->file);
		return 2;
	}
	return 0;
}

/* -n (ntpd's config test): planned and compiled as the start would, nothing
 * started; "configuration OK" and 0, or the errors and 2. Not inlined: its
 * struct plan (about 20 KiB, zeroed) would sit in cmd_supervise's frame
 * beside the real one, and every supervising hfinit would carry both pages. */
static __attribute__((noinline)) int config_test(const struct config *cfg)
{
	CLEANUP(plan_free) struct plan plan = {0};
	struct err e;

	if (plan_build(cfg, &plan, PLAN_CHECK, &e) < 0) {
		log_error("%s", e.msg);
		return 2;
	}
	if (plan.sandbox_err.msg[0]) {
		log_error("%s", plan.sandbox_err.msg);
		return 2;
	}
	if (plan_required_failed(&plan)) {
		log_error("%s: a required service cannot be set up", cfg->file);
		return 2;
	}
	fprintf(stderr, "configuration OK\n");
	return 0;
}

int cmd_supervise(int argc, char **argv)
{
	CLEANUP(config_freep) struct config *cfg = NULL;
	CLEANUP(plan_free) struct plan plan = {0};
	CLEANUP(status_closep) struct status_writer *status = NULL;
	struct pid1_signals sigs;
	struct sup_opts o;
	struct err e;
	int code;

	if ((code = parse_opts(argc, argv, &o)) >= 0 || (code = load(&o, &cfg)) != 0)
		return code;
	if (o.test)
		return config_test(cfg);
	/* Signals first: resolution runs children (python -c), and from here on a
	 * SIGTERM must not kill hfinit before it can stop what it started. */
	if (pid1_block_signals(&sigs, &e) < 0) {
		log_error("%s", e.msg);
		return 1;
	}
	if (getpid() != 1 && pid1_set_subreaper() < 0)
		log_errno(LOG_LVL_WARN, errno,
			  "PR_SET_CHILD_SUBREAPER: orphans will not be reaped");
	/* The status dir first: services learn it as $HFINIT_STATUS_DIR. */
	status = status_open(cfg->status_dir);
	if (plan_build(cfg, &plan, PLAN_START, &e) < 0) {
		log_error("%s", e.msg);
		return 3;
	}
	/* A required service that cannot be set up: nothing starts. An optional
	 * one is failed when its stage comes, and the others run (degraded). */
	if (plan_required_failed(&plan)) {
		log_error("a required service cannot be set up: nothing started");
		return 3;
	}
	/* Seccomp profiles: compiled once by the planner, before any fork; one
	 * that cannot be built is a failed start, never an unsandboxed one. */
	if (plan.sandbox_err.msg[0]) {
		log_error("%s; nothing started", plan.sandbox_err.msg);
		return 1;
	}
	sandbox_landlock_warn(cfg);
	if (status_dir(status) && plan_setenv(&plan, "HFINIT_STATUS_DIR", status_dir(status)) < 0) {
		log_error("out of memory");
		return 1;
	}
	/* The last bail is above: supervise() starts the first service. */
	code = supervise(&plan, status, &sigs);
	return code;
}
