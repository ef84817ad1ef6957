/* The plan: what each service will run, decided once at start-up from the
 * config and the resolution (docs/supervise.md), and never changed after. The
 * supervisor only reads it. `hfinit check` builds the same plan in its
 * collect-every-verdict mode, so check and start cannot disagree. */
#ifndef HFINIT_PLAN_H
#define HFINIT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf/config.h"
#include "plan/envsane.h"
#include "base/err.h"
#include "plan/resolve.h"

struct svc_plan {
	const struct service_conf *conf;
	char *file;   /* what to execute (a path, or a name searched on path) */
	char **argv;  /* NULL-terminated */
	char **envp;  /* the complete environment, NULL-terminated (NOTIFY_SOCKET added at spawn) */
	char *path;   /* the PATH value of envp, for the exec search (points into envp) */
	bool python;  /* a script service run by the resolved interpreter */
	char *script; /* resolved script path (python services) */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	gid_t groups[RESOLVE_MAX_GROUPS];
	size_t ngroups;
	/* The verdicts. error: NULL, or why the service cannot be set up (one
	 * line; the service fails at once, without retries); hint: what to do. */
	char *error;
	char *hint;
	char **warnings;	  /* NULL-terminated or NULL: it runs, but not as configured */
	bool has_user;		  /* user = or group = given */
	bool user_ok;		  /* looked up, and hfinit can be that user (or switch to it) */
	struct resolve_user user; /* when user_ok (also when not switching) */
	struct script_plan spl;	  /* python services: every path tried */
	struct envsane env;	  /* HOME and HF_HOME as decided */
	bool home_unusable;	  /* HOME could not be created: it runs with env.home anyway */
};

enum plan_mode {
	PLAN_START, /* log decisions, create HOME, stop early where nothing more is needed */
	PLAN_CHECK, /* no logs, nothing created; every Python candidate evaluated */
};

struct plan {
	struct svc_plan *svcs; /* in config order */
	size_t nsvcs;
	char **app_dirs;
	struct python_plan python; /* chosen < 0 and no candidates when no service needs it */
	bool python_needed;
	struct resolve_user *py_users; /* Python was verified as each (none: as ourselves) */
	size_t npy_users;
};

/* 0 with plan filled: a service that cannot be set up (python, a script, a
 * user, an env_file, a set-up step such as oom_score_adj) has its error set;
 * -1 with e only when planning itself could not run (out of memory). */
int plan_build(const struct config *cfg, struct plan *plan, enum plan_mode mode, struct err *e);
void plan_free(struct plan *plan);
struct spawn_req;
/* The child set-up a service's plan asks for (environment, PATH, workdir,
 * user and groups, umask, oom_score_adj, rlimits), into a fresh r: the one
 * translation used by the start, its exec probes and the planner's dry run.
 * The caller adds file, argv, stdio and the sandbox. */
void plan_spawn_setup(const struct svc_plan *sp, struct spawn_req *r);
/* Log why a service cannot be set up: its error, the script paths tried,
 * the hint. */
void plan_log_failure(const struct svc_plan *sp);
/* Logs every required service that cannot be set up; true if there is one. */
bool plan_required_failed(const struct plan *plan);
/* A candidate that looks intended (a venv) rejected before the chosen one:
 * its index, or -1; and the one warning line that says so. */
int plan_python_skipped(const struct python_plan *pp);
void plan_python_skipped_text(const struct python_plan *pp, int i, char *buf, size_t n);

/* Append or replace NAME=VALUE in a NULL-terminated, malloc'd environment. */
int env_set(char ***envp, const char *name, const char *value);
/* The value of name in envp, or NULL. */
const char *env_get(char *const *envp, const char *name);
/* env_set with a "NAME=VALUE" string (copied). */
int env_set_kv(char ***envp, const char *kv);
/* A variable of hfinit's own that services do not inherit (HFINIT_CONFIG, NOTIFY_SOCKET, ...). */
bool env_is_own(const char *kv);
/* Add the K=V lines of file to envp: blank lines and # comments skipped, an
 * "export " prefix allowed, values may be quoted. -1 with e naming file:line. */
int env_file_load(const char *file, char ***envp, struct err *e);

#endif
