#include "plan/plan_make.h"

#include "base/fmt.h"
#include "base/strv.h"
#include "conf/probe_spec.h"
#include "run/loop.h"
#include "run/watch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* vasprintf: messages are never cut. NULL on ENOMEM. */
static char *vfmt_alloc(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

/* The first error of a service wins; -1 only when out of memory. */
int plan_fail(struct svc_plan *sp, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (sp->error)
		return 0;
	va_start(ap, fmt);
	sp->error = vfmt_alloc(fmt, ap);
	va_end(ap);
	if (hint)
		sp->hint = strdup(hint);
	return sp->error && (!hint || sp->hint) ? 0 : -1;
}

int plan_warn(struct svc_plan *sp, const char *fmt, ...)
{
	size_t n = strv_len(sp->warnings);
	char **v = realloc(sp->warnings, (n + 2) * sizeof(*v));
	va_list ap;

	if (!v)
		return -1;
	sp->warnings = v;
	va_start(ap, fmt);
	v[n] = vfmt_alloc(fmt, ap);
	va_end(ap);
	v[n + 1] = NULL;
	return v[n] ? 0 : -1;
}

static char **argv_build(const char *first, const char *second, char *const *rest)
{
	size_t n = (first ? 1 : 0) + (second ? 1 : 0) + strv_len(rest);
	char **v = calloc(n + 1, sizeof(*v));
	size_t i = 0;

	if (!v)
		return NULL;
	if (first && !(v[i++] = strdup(first)))
		goto fail;
	if (second && !(v[i++] = strdup(second)))
		goto fail;
	for (; rest && *rest; rest++)
		if (!(v[i++] = strdup(*rest)))
			goto fail;
	return v;
fail:
	strv_free(v);
	return NULL;
}

/* The distinct users the Python services run as (ourselves included when
 * some run as us and others as another user); none: as ourselves. */
size_t plan_python_users(const struct plan *plan, const struct resolve_user *myself,
			 struct resolve_user *users)
{
	size_t n = 0;
	bool self = false;

	for (size_t i = 0; i < plan->nsvcs; i++) {
		const struct svc_plan *sp = &plan->svcs[i];
		bool seen = false;
		if (!sp->python || sp->error)
			continue;
		if (!sp->set_ids || (sp->uid == 0 && sp->gid == 0)) {
			self = true;
			continue;
		}
		for (size_t k = 0; k < n; k++)
			seen |= users[k].as.uid == sp->uid && users[k].as.gid == sp->gid;
		if (!seen) {
			users[n] = sp->user;
			users[n].as.groups = users[n].groups;
			n++;
		}
	}
	if (self && n > 0) {
		users[n] = *myself;
		users[n].as.groups = users[n].groups;
		n++;
	}
	return n;
}

int64_t ms_ns(uint64_t ms)
{
	return (int64_t)ms * NS_PER_MS;
}

/* The config values the supervisor acts on, durations in nanoseconds. */
void plan_make_policy(const struct service_conf *sc, struct svc_policy *po)
{
	memset(po, 0, sizeof(*po));
	po->name = sc->name;
	po->stage = sc->stage;
	po->required = sc->required;
	po->oneshot = sc->type == TYPE_ONESHOT;
	po->success_codes = sc->success_codes;
	po->watchdog_ns = ms_ns(sc->watchdog_ms);
	po->retries = sc->retries;
	po->retry_delay_ns = ms_ns(sc->retry_delay_ms);
	po->restart = sc->restart;
	po->restart_delay_ns = ms_ns(sc->restart_delay_ms);
	po->restart_max_delay_ns = ms_ns(sc->restart_max_delay_ms);
	po->restart_burst = sc->restart_burst;
	po->restart_window_ns = ms_ns(sc->restart_window_ms);
	po->stop_signal = sc->stop_signal;
	po->stop_timeout_ns = ms_ns(sc->stop_timeout_ms);
	po->ready.spec = &sc->ready;
	po->ready_timeout_ns = ms_ns(sc->ready_timeout_ms);
	po->health.spec = &sc->health;
	po->health_interval_ns = ms_ns(sc->health_interval_ms);
	po->health_failures = sc->health_failures;
	po->redact = sc->redact;
	po->log_prefix = sc->log_prefix;
	po->watch_ignore = sc->watch_ignore ? sc->watch_ignore : watch_default_ignore;
	po->watch_debounce_ns = ms_ns(sc->watch_debounce_ms);
	po->disabled = !sc->enabled;
	po->conds = sc->conds;
	po->nconds = sc->nconds;
	po->condition_timeout_ns = ms_ns(sc->condition_timeout_ms);
}

int plan_make_watch(const struct service_conf *sc, const char *cwd, struct svc_policy *po)
{
	const char *wd = sc->workdir ? sc->workdir : "";
	size_t n = strv_len(sc->watch);

	if (!n)
		return 0;
	if (!(po->watch = calloc(n + 1, sizeof(char *))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = sc->watch[i];
		int r = p[0] == '/' ? asprintf(&po->watch[i], "%s", p)
			: wd[0] == '/'
			    ? asprintf(&po->watch[i], "%s/%s", wd, p)
			    : asprintf(&po->watch[i], "%s/%s%s%s", cwd, wd, *wd ? "/" : "", p);
		if (r < 0) {
			po->watch[i] = NULL;
			return -1;
		}
	}
	return 0;
}

void plan_make_spawn_setup(const struct service_conf *sc, const struct svc_plan *sp,
			   struct spawn_req *r)
{
	spawn_req_init(r);
	r->envp = sp->envp;
	r->path = sp->path;
	r->workdir = sc->workdir;
	r->set_ids = sp->set_ids;
	r->uid = sp->uid;
	r->gid = sp->gid;
	r->groups = sp->groups;
	r->ngroups = sp->ngroups;
	r->umask = sc->has_umask ? (int)sc->umask : -1;
	r->oom_score_adj = sc->has_oom_score_adj ? sc->oom_score_adj : SPAWN_NO_OOM_ADJ;
	for (int i = 0; i < CRL_COUNT && r->nrlimits < SPAWN_MAX_RLIMITS; i++) {
		const struct rlimit_conf *rc = &sc->rlimits[i];
		struct spawn_rlimit *l = &r->rlimits[r->nrlimits];
		if (!rc->set)
			continue;
		l->resource = rc->resource;
		l->name = config_rlimit_name((enum config_rlimit)i);
		l->lim.rlim_cur =
		    rc->soft == CONFIG_RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)rc->soft;
		l->lim.rlim_max =
		    rc->hard == CONFIG_RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)rc->hard;
		r->nrlimits++;
	}
}

void plan_make_spawn(const struct service_conf *sc, struct svc_plan *sp, int landlock_abi)
{
	struct spawn_req *r = &sp->spawn;

	plan_make_spawn_setup(sc, sp, r);
	r->file = sp->file;
	r->argv = sp->argv;
	if (sp->seccomp) {
		r->seccomp = &sp->seccomp->prog;
		r->landlock_abi = landlock_abi;
		/* The notify socket is abstract and hfinit's: see docs/sandbox.md. */
		r->landlock_abstract = sp->policy.ready.spec->kind != PROBE_NOTIFY;
	}
}

void plan_make_globals(const struct config *cfg, struct plan *plan)
{
	plan->nsvcs = cfg->nservices;
	plan->log_format = cfg->log_format;
	plan->stop_timeout_ns = ms_ns(cfg->stop_timeout_ms);
	plan->probe_interval_ns = ms_ns(cfg->probe_interval_ms);
	plan->max_stage = config_max_stage(cfg);
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct svc_plan *sp = &plan->svcs[i];
		const struct service_conf *sc = &cfg->services[i];
		plan_make_policy(sc, &sp->policy);
		sp->seccomp_name = sc->seccomp;
		sp->python = sc->script != NULL;
		plan->python_needed |= sp->python;
	}
}

/* The user a service runs as. As root: looked up, switched to. Not root:
 * fine when it is ourselves; another uid cannot be switched to, and the
 * service runs as ours, with a warning (the same in check and at start). */
int plan_make_user(const struct service_conf *sc, const struct user_facts *f, struct svc_plan *sp)
{
	int line = sc->user_line ? sc->user_line : sc->group_line;
	const char *key = sc->user ? "user" : "group";
	const char *val = sc->user ? sc->user : sc->group;
	struct resolve_user u = f->found;

	sp->user = f->self;
	sp->run_uid = f->euid;
	if (!sc->user && !sc->group)
		return 0;
	sp->has_user = true;
	if (f->lookup < 0) {
		if (f->euid != 0)
			return plan_warn(
			    sp, "%s = %s: %s; hfinit runs as uid %u, not root, and it runs as that",
			    key, val, f->lookup_err.msg, (unsigned)f->euid);
		char hint[160];
		fmt_trunc(hint, sizeof(hint),
			  "create the user in the image (useradd -m -u 1000 %.40s) or fix `%s =` "
			  "(line %d)",
			  sc->user ? sc->user : "NAME", key, line);
		return plan_fail(sp, hint, "%s", f->lookup_err.msg);
	}
	if (!sc->user)
		u.as.uid = f->euid; /* group only: stay ourselves */
	if (f->euid != 0) {
		if (u.as.uid != f->euid || u.as.gid != f->egid)
			return plan_warn(
			    sp,
			    "%s = %s (uid %u gid %u): hfinit runs as uid %u gid %u, not root: "
			    "it cannot switch, the service runs as uid %u",
			    key, val, (unsigned)u.as.uid, (unsigned)u.as.gid, (unsigned)f->euid,
			    (unsigned)f->egid, (unsigned)f->euid);
		u.as.switch_ids = 0;
		sp->user = u;
		sp->user.as.groups = sp->user.groups;
		sp->user_ok = true;
		return 0;
	}
	sp->user = u;
	sp->user.as.switch_ids = 1;
	sp->user.as.groups = sp->user.groups;
	sp->user_ok = true;
	sp->set_ids = true;
	sp->uid = sp->run_uid = u.as.uid;
	sp->gid = u.as.gid;
	sp->ngroups = u.as.ngroups < RESOLVE_MAX_GROUPS ? u.as.ngroups : RESOLVE_MAX_GROUPS;
	memcpy(sp->groups, u.as.groups, sp->ngroups * sizeof(gid_t));
	return 0;
}

int plan_make_program(const struct service_conf *sc, const char *python, struct svc_plan *sp)
{
	const char *py = python ? python : "python3";

	if (!sp->python) {
		sp->file = strdup(sc->command[0]);
		sp->argv = argv_build(NULL, NULL, sc->command);
		return sp->file && sp->argv ? 0 : -1;
	}
	if (sp->spl.ntried && !sp->spl.found) {
		char hint[320];
		fmt_trunc(hint, sizeof(hint),
			  "set app_dirs in [hfinit] to the directory that holds it, or fix "
			  "`script =` (line %d); `hfinit check` lists every path tried",
			  sc->script_line);
		if (plan_fail(sp, hint, "script %s not found (%zu paths tried)", sc->script,
			      sp->spl.ntried) < 0)
			return -1;
	}
	sp->script = strdup(sp->spl.found ? sp->spl.path : sc->script);
	sp->file = strdup(py);
	sp->argv = argv_build(py, sp->script, sc->args);
	return sp->file && sp->argv && sp->script ? 0 : -1;
}

int plan_make_env_base(struct svc_plan *sp, char *const *inherited)
{
	for (char *const *p = inherited; p && *p; p++)
		if (!env_is_own(*p) && strchr(*p, '=') && env_set_kv(&sp->envp, *p) < 0)
			return -1;
	return 0;
}

int plan_make_env(const struct service_conf *sc, char *const *file_env, const struct err *file_err,
		  struct svc_plan *sp)
{
	if (sp->python && resolve_wants_unbuffered(sc->env) &&
	    env_set(&sp->envp, "PYTHONUNBUFFERED", "1") < 0)
		return -1;
	if (sc->env_file && file_err) {
		char hint[PATH_MAX + 64];
		if (file_err->code == ENOENT)
			fmt_trunc(hint, sizeof(hint),
				  "create %s in the image or fix `env_file =` (line %d)",
				  sc->env_file, sc->env_file_line);
		else
			fmt_trunc(hint, sizeof(hint), "fix %s or `env_file =` (line %d)",
				  sc->env_file, sc->env_file_line);
		if (plan_fail(sp, hint, "%s", file_err->msg) < 0)
			return -1;
	}
	for (char *const *kv = file_err ? NULL : file_env; kv && *kv; kv++)
		if (env_set_kv(&sp->envp, *kv) < 0)
			return -1;
	for (char **kv = sc->env; kv && *kv; kv++)
		if (env_set_kv(&sp->envp, *kv) < 0)
			return -1;
	if (!sp->envp && env_set(&sp->envp, "PATH", "/usr/local/bin:/usr/bin:/bin") < 0)
		return -1;
	sp->path = (char *)env_get(sp->envp, "PATH");
	return 0;
}

int plan_make_no_python(struct plan *plan)
{
	for (size_t i = 0; i < plan->nsvcs; i++)
		if (plan->svcs[i].python &&
		    plan_fail(&plan->svcs[i],
			      "see the Python candidates above, or run `hfinit check`",
			      "no working Python to run it") < 0)
			return -1;
	return 0;
}
