/* The check report: the plan built in its collect-every-verdict mode, plus
 * what only `hfinit check` adds (the command lookup, the `requires` imports,
 * the kernel's seccomp support, the status dir), and its text and JSON forms. */
#ifndef HFINIT_REPORT_H
#define HFINIT_REPORT_H

#include <limits.h>
#include <stdio.h>

#include "base/err.h"
#include "conf/config.h"
#include "plan/plan.h"
#include "plan/sandbox.h"
#include "plan/statusdir.h"

enum report_status { RS_OK, RS_WARN, RS_SKIP, RS_FAIL };
/* "ok", "warn", "skip", "FAIL" */
extern const char *const report_status_word[];

#define MAX_HINTS	4
#define REQUIRES_MIN_MS 60000

struct missing_mod {
	char module[128];
	char error[512];
	int not_found; /* ModuleNotFoundError (else it exists but fails to import) */
};

/* One service's row: the planner's verdicts (p), and what only check adds
 * (the `requires` imports). */
struct svc_check {
	const struct service_conf *s;
	const struct svc_plan *p;
	enum report_status status;
	char summary[PATH_MAX + 256];
	int is_python;
	const char *user_msg;	 /* the user verdict, when not plainly ok */
	const char *workdir_msg; /* the planner's error, when about these keys */
	const char *envfile_msg;
	const char *setup_msg; /* the planner's error, when not shown in another line */
	int req_state;	       /* 0 not checked, 1 all import, 2 some fail, 3 could not check */
	char req_msg[sizeof(((struct err *)0)->msg) + 64]; /* holds an err message and a prefix */
	struct missing_mod *missing;
	size_t nmissing;
	char *hints[MAX_HINTS]; /* allocated: never cut */
	int nhints;
};

struct env_check {
	char user[64];
	const struct svc_plan *sp; /* the first service of that user: its HOME decision */
};

struct report {
	struct config_location loc;
	struct config *cfg;
	char load_error[1024];

	struct plan plan; /* built by the start's planner, in its check mode */

	struct statusdir sd;
	enum report_status sd_status;
	char sd_hint[512];

	enum report_status sc_status;
	char sc_detail[512];
	int sc_needed;

	enum report_status py_status;
	int py_needed;
	int py_skipped; /* a venv rejected before the chosen Python, or -1 */

	struct env_check envs[16];
	size_t nenvs;

	struct svc_check *svcs;
	size_t nsvcs;
	int problems;
};

/* Locate and load the config (-c FILE or NULL) into a fresh r; r->cfg is
 * NULL (load_error says why) or a config that may have diagnostics. */
void report_load(struct report *r, const char *opt_config);
/* Every check, on a valid config: 0 with r->problems counted (the verdicts
 * are in r), -1 with e only when checking itself could not run. */
int report_run(struct report *r, struct err *e);
void report_free(struct report *r);
/* The report as text on stdout, every secret shown as ***. */
void report_print_text(const struct report *r);
/* The config's errors (load error or diagnostics) as text on stdout. */
void report_print_config_errors(const struct report *r);
/* The report as one JSON document on stdout (also for a config with errors:
 * exit_code 2); -1 if it could not be built. */
int report_print_json(const struct report *r, int exit_code);

#endif
