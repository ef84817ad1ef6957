/* The plan (docs/design.md, "Plan"): what each service will run and how it
 * is supervised, decided once at start-up from the config and the machine
 * (users, Python, scripts, files, the sandbox programs, probe addresses),
 * and never changed after. It is the supervisor's input: every value the
 * supervisor acts on is here, in the loop's unit. `hfinit check` builds the
 * same plan in its collect-every-verdict mode, so check and start cannot
 * disagree.
 *
 * plan.c does the resolving (the effects); plan_make.c turns the config and
 * what was resolved into svc_plans and verdicts (pure, plan_make.h). */
#ifndef HFINIT_PLAN_H
#define HFINIT_PLAN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf/config.h"
#include "plan/env.h"
#include "base/err.h"
#include "plan/python.h"
#include "plan/script.h"
#include "plan/user.h"
#include "plan/sandbox.h"
#include "run/spawn.h"

/* A readiness or health probe as the supervisor runs it: the parsed spec
 * (kind, text, regex, argv, fd) and, for tcp/http, the address resolved once
 * by the planner (at start only: `hfinit check` does not look hosts up). */
struct plan_probe {
	const struct probe *spec; /* never NULL (kind PROBE_NONE when unset) */
	bool resolved;		  /* tcp/http: sa/salen hold the first address */
	struct sockaddr_storage sa;
	socklen_t salen;
	struct err err; /* tcp/http at start, not resolved: why ("service NAME: ...") */
};

/* Every value of the service's config that the supervisor acts on, read once;
 * durations in the event loop's unit (nanoseconds, names end in _ns).
 * Strings and probe specs point into the config, which outlives the plan. */
struct svc_policy {
	const char *name;
	unsigned stage; /* >= 1 */
	bool required;
	bool oneshot;			    /* type = oneshot: done when it exits clean */
	const unsigned char *success_codes; /* 32 bytes: bit N set when exit N is clean */
	int64_t watchdog_ns;		    /* notify: WATCHDOG=1 at least this often; 0: none */
	unsigned retries;		    /* attempts in all, >= 1 */
	int64_t retry_delay_ns;
	enum restart_policy restart;
	int64_t restart_delay_ns;     /* back-off start, doubles each restart */
	int64_t restart_max_delay_ns; /* back-off cap */
	unsigned restart_burst;	      /* give up after this many restarts ... */
	int64_t restart_window_ns;    /* ... within this window */
	int stop_signal;
	int64_t stop_timeout_ns;
	struct plan_probe ready;
	int64_t ready_timeout_ns;
	struct plan_probe health; /* spec->kind PROBE_NONE when unset */
	int64_t health_interval_ns;
	unsigned health_failures; /* in a row -> restart */
	bool redact;		  /* secret values in output lines become *** */
	const char *log_prefix;	  /* NULL = "[NAME] " */
	/* Dev Mode: a change under watch restarts it (docs/devmode.md) */
	char **watch;		   /* absolute paths (owned by the plan), NULL = no watch */
	char *const *watch_ignore; /* the config's globs, or watch_default_ignore */
	int64_t watch_debounce_ns; /* of quiet before the restart */

	/* conditions (docs/supervise.md): evaluated when the stage opens */
	bool disabled; /* enabled = no */
	const struct condition *conds;
	size_t nconds;
	int64_t condition_timeout_ns; /* an exec: condition at most */
};

struct svc_plan {
	struct svc_policy policy;
	/* seccomp = NAME: the compiled profile (owned by the plan), NULL when the
	 * service has none or it could not be built (plan.sandbox_err says why). */
	const char *seccomp_name; /* NULL = no sandbox */
	const struct sandbox_profile *seccomp;
	/* The child set-up, built once: the environment, PATH, workdir, ids, umask,
	 * oom_score_adj, rlimits (plan_make_spawn_setup), file, argv, the seccomp
	 * program and Landlock. The supervisor adds at spawn time only stdio, the
	 * signal mask, the fd:N pipe and the environment with NOTIFY_SOCKET. */
	struct spawn_req spawn;
	char *file;  /* what to execute (a path, or a name searched on path) */
	char **argv; /* NULL-terminated */
	char **envp; /* the complete environment, NULL-terminated (NOTIFY_SOCKET added at spawn) */
	char *path;  /* the PATH value of envp, for the exec search (points into envp) */
	/* command services: command[0] looked up like execvp (relative to
	 * workdir when it has a '/'): exec_errno 0 and the path found, or
	 * ENOENT/EACCES and the first unusable match (""). Not a verdict: the
	 * start tries anyway, check reports it. */
	char exec_path[PATH_MAX];
	int exec_errno;
	bool python;  /* a script service run by the resolved interpreter */
	char *script; /* resolved script path (python services) */
	bool set_ids;
	uid_t run_uid; /* the uid it runs as: uid when set_ids, else hfinit's */
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
	/* [hfinit] values the supervisor reads */
	enum log_format log_format;
	int64_t stop_timeout_ns;   /* the final grace period at shutdown */
	int64_t probe_interval_ns; /* between readiness probe attempts */
	unsigned max_stage;
	/* Every profile a service names, compiled once before any fork. When one
	 * cannot be built, sandbox_err.msg says which and why (nothing may start:
	 * never unsandboxed) and no service has a program. */
	struct sandbox_set sandbox;
	struct err sandbox_err;
};

/* 0 with plan filled: a service that cannot be set up (python, a script, a
 * user, an env_file, a set-up step such as oom_score_adj) has its error set;
 * -1 with e only when planning itself could not run (out of memory). */
int plan_build(const struct config *cfg, struct plan *plan, enum plan_mode mode, struct err *e);
void plan_free(struct plan *plan);
/* Set NAME=VALUE in every service's environment (HFINIT_STATUS_DIR), keeping
 * the prebuilt spawn requests pointing at it. -1 when out of memory. */
int plan_setenv(struct plan *plan, const char *name, const char *value);
/* Whether the test of a path: or env: condition is true now (the negation
 * not applied), with why: "exists", "no such file", "is set", "is empty"... */
bool plan_cond_test(const struct condition *c, char *why, size_t n);
/* Log why a service cannot be set up: its error, the script paths tried,
 * the hint. */
void plan_log_failure(const struct svc_plan *sp);
/* Logs every required service that cannot be set up; true if there is one. */
bool plan_required_failed(const struct plan *plan);
/* A candidate that looks intended (a venv) rejected before the chosen one:
 * its index, or -1; and the one warning line that says so. */
int plan_python_skipped(const struct python_plan *pp);
void plan_python_skipped_text(const struct python_plan *pp, int i, char *buf, size_t n);

#endif
