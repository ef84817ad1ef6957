/* Plan making: the pure half of the planner (docs/design.md, "Plan"). Each
 * function turns the config and the facts plan.c resolved (who hfinit is,
 * the users looked up, the Python chosen, the scripts found, the env_file
 * read) into svc_plan fields and verdicts. None makes a system call: all are
 * unit-tested without fork (tests/unit/test_plan_make.c). */
#ifndef HFINIT_PLAN_MAKE_H
#define HFINIT_PLAN_MAKE_H

#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "conf/config.h"
#include "plan/plan.h"
#include "plan/user.h"

/* The verdicts: the first error of a service wins (hint may be NULL); a
 * warning is added. 0, or -1 only when out of memory. */
int plan_fail(struct svc_plan *sp, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int plan_warn(struct svc_plan *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int64_t ms_ns(uint64_t ms);
/* The [hfinit] values, and per service (plan->svcs allocated for
 * cfg->nservices) the config pointer, policy, seccomp name and kind. */
void plan_make_globals(const struct config *cfg, struct plan *plan);
/* The config values the supervisor acts on, durations in nanoseconds. */
void plan_make_policy(const struct service_conf *sc, struct svc_policy *po);

/* watch = PATH...: absolute, a relative one from the service's workdir
 * (itself from cwd, hfinit's). -1 when out of memory. */
int plan_make_watch(const struct service_conf *sc, const char *cwd, struct svc_policy *po);

/* Who hfinit is and, with `user =`/`group =`, the lookup's result. */
struct user_facts {
	uid_t euid;
	gid_t egid;
	struct resolve_user self; /* ourselves, with our passwd home */
	int lookup;		  /* 0: found; -1: lookup_err says why */
	struct resolve_user found;
	struct err lookup_err;
};
int plan_make_user(const struct service_conf *sc, const struct user_facts *f, struct svc_plan *sp);
/* The distinct users the Python services run as (myself included when some
 * run as us and others as another user), into users (nsvcs + 1 entries);
 * none: as ourselves. */
size_t plan_python_users(const struct plan *plan, const struct resolve_user *myself,
			 struct resolve_user *users);
/* No working Python: every script service fails. -1 when out of memory. */
int plan_make_no_python(struct plan *plan);
/* file, argv (and script): the command, or python (NULL: "python3") with the
 * script as resolved in sp->spl (not found: the verdict) and its args. */
int plan_make_program(const struct service_conf *sc, const char *python, struct svc_plan *sp);
/* The inherited environment (hfinit's own variables left out) into sp->envp. */
int plan_make_env_base(struct svc_plan *sp, char *const *inherited);
/* After HOME: PYTHONUNBUFFERED=1 for a script unless `env =` sets it, the
 * env_file's lines (file_env; or file_err: the verdict), `env =`, a default
 * PATH for an empty environment; sp->path. */
int plan_make_env(const struct service_conf *sc, char *const *file_env, const struct err *file_err,
		  struct svc_plan *sp);
/* The child set-up a service's plan asks for (environment, PATH, workdir,
 * user and groups, umask, oom_score_adj, rlimits), into a fresh r: the one
 * translation behind svc_plan.spawn and the planner's dry run. */
void plan_make_spawn_setup(const struct service_conf *sc, const struct svc_plan *sp,
			   struct spawn_req *r);
/* The spawn request of the service and its exec probes, from the finished
 * plan (environment and sandbox); landlock_abi: what the kernel offers. */
void plan_make_spawn(const struct service_conf *sc, struct svc_plan *sp, int landlock_abi);

#endif
