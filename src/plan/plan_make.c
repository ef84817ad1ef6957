#include "plan/plan_make.h"

#include "base/strv.h"
#include "run/landlock.h"
#include "run/loop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* vsnprintf into a new allocation: messages are never cut. NULL on ENOMEM. */
static char *vfmt_alloc(const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	char *s;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	(void)vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* The first error of a service wins; -1 only when out of memory. */
int svc_fail(struct svc_plan *sp, const char *hint, const char *fmt, ...)
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

int svc_warn(struct svc_plan *sp, const char *fmt, ...)
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

char **argv_build(const char *first, const char *second, char *const *rest)
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
size_t python_users(const struct plan *plan, struct resolve_user *users)
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
	if (self && n > 0)
		resolve_user_self(&users[n++]);
	return n;
}

int64_t ms_ns(uint64_t ms)
{
	return (int64_t)ms * NS_PER_MS;
}

/* The config values the supervisor acts on, durations in nanoseconds. */
void svc_policy_make(const struct service_conf *sc, struct svc_policy *po)
{
	memset(po, 0, sizeof(*po));
	po->name = sc->name;
	po->stage = sc->stage;
	po->required = sc->required;
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
}

void plan_spawn_setup(const struct svc_plan *sp, struct spawn_req *r)
{
	const struct service_conf *sc = sp->conf;

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

/* The spawn request of the service and its exec probes, once, from the
 * finished plan (after its environment and sandbox). */
void svc_spawn_build(struct svc_plan *sp)
{
	struct spawn_req *r = &sp->spawn;

	plan_spawn_setup(sp, r);
	r->file = sp->file;
	r->argv = sp->argv;
	if (sp->seccomp) {
		r->seccomp = &sp->seccomp->prog;
		r->landlock_abi = landlock_abi(NULL);
		/* The notify socket is abstract and hfinit's: see docs/sandbox.md. */
		r->landlock_abstract = sp->policy.ready.spec->kind != PROBE_NOTIFY;
	}
}
