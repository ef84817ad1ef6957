#include "plan.h"

#include "envsane.h"
#include "log.h"
#include "parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Variables of hfinit's own that services must not inherit as they are. */
static const char *const own_vars[] = {"HFINIT_CONFIG", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
				       "LISTEN_FDNAMES"};

const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int env_put(char ***envp, char *kv)
{
	size_t n = strcspn(kv, "=");
	size_t len = 0;
	char **v = *envp;

	for (; v && v[len]; len++)
		if (strncmp(v[len], kv, n) == 0 && v[len][n] == '=') {
			free(v[len]);
			v[len] = kv;
			return 0;
		}
	v = realloc(v, (len + 2) * sizeof(*v));
	if (!v) {
		free(kv);
		return -1;
	}
	v[len] = kv;
	v[len + 1] = NULL;
	*envp = v;
	return 0;
}

int env_set(char ***envp, const char *name, const char *value)
{
	size_t n = strlen(name), m = strlen(value);
	char *kv = malloc(n + m + 2);

	if (!kv)
		return -1;
	memcpy(kv, name, n);
	kv[n] = '=';
	memcpy(kv + n + 1, value, m + 1);
	return env_put(envp, kv);
}

static int env_set_kv(char ***envp, const char *kv)
{
	char *dup = strdup(kv);
	return dup ? env_put(envp, dup) : -1;
}

static bool is_own(const char *kv)
{
	for (size_t i = 0; i < sizeof(own_vars) / sizeof(own_vars[0]); i++) {
		size_t n = strlen(own_vars[i]);
		if (strncmp(kv, own_vars[i], n) == 0 && kv[n] == '=')
			return true;
	}
	return false;
}

/* K=V lines; blank lines and # comments skipped; "export " prefix allowed;
 * values may be quoted with ' or " (the quotes are removed). */
static int env_file_load(const char *file, char ***envp, struct err *e)
{
	FILE *f = fopen(file, "re");
	char line[8192];
	int lineno = 0;

	if (!f)
		return err_sys(e, "env_file %s", file);
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *eq;
		size_t n;
		lineno++;
		n = strlen(s);
		if (n && s[n - 1] == '\n')
			s[--n] = '\0';
		else if (!feof(f)) {
			fclose(f);
			return err_set(e, EINVAL, "%s:%d: line too long (over %zu bytes)", file,
				       lineno, sizeof(line) - 2);
		}
		if (n && s[n - 1] == '\r')
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s += 7;
		eq = strchr(s, '=');
		if (!eq || !env_name_ok(s, (size_t)(eq - s))) {
			fclose(f);
			return err_set(e, EINVAL, "%s:%d: expected NAME=VALUE", file, lineno);
		}
		char *val = eq + 1;
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			memmove(val, val + 1, vl - 1);
		}
		*eq = '\0';
		if (env_set(envp, s, val) < 0) {
			fclose(f);
			return err_set(e, ENOMEM, "env_file %s: out of memory", file);
		}
	}
	fclose(f);
	return 0;
}

static int base_env(char ***envp)
{
	for (char **p = environ; p && *p; p++)
		if (!is_own(*p) && strchr(*p, '=') && env_set_kv(envp, *p) < 0)
			return -1;
	return 0;
}

static int svc_env(const struct config *cfg, const struct service_conf *sc, struct svc_plan *sp,
		   const struct resolve_user *u, struct err *e)
{
	struct envsane es;
	struct runas self = {0};
	(void)cfg;

	if (base_env(&sp->envp) < 0)
		return err_set(e, ENOMEM, "out of memory");
	/* HOME and HF_HOME that the service's user can write (DESIGN.md §3). */
	if (envsane_plan(&es, env_get(sp->envp, "HOME"), env_get(sp->envp, "HF_HOME"),
			 u && u->home[0] ? u->home : NULL, u ? &u->as : &self, e) < 0)
		return err_wrap(e, "service %s: HOME", sc->name);
	if (es.home_replaced)
		log_info("[%s] HOME=%s (%s)", sc->name, es.home, es.home_reason);
	if (es.hf_home_warning[0])
		log_warn("[%s] %s", sc->name, es.hf_home_warning);
	if (es.home_create &&
	    envsane_apply(&es, u ? u->as.uid : getuid(), u ? u->as.gid : getgid(), e) < 0)
		return err_wrap(e, "service %s", sc->name);
	if (env_set(&sp->envp, "HOME", es.home) < 0 ||
	    (es.hf_home[0] && env_set(&sp->envp, "HF_HOME", es.hf_home) < 0))
		return err_set(e, ENOMEM, "out of memory");
	if (sp->python && resolve_wants_unbuffered(sc->env) &&
	    env_set(&sp->envp, "PYTHONUNBUFFERED", "1") < 0)
		return err_set(e, ENOMEM, "out of memory");
	if (sc->env_file && env_file_load(sc->env_file, &sp->envp, e) < 0)
		return err_wrap(e, "service %s", sc->name);
	for (char **kv = sc->env; kv && *kv; kv++)
		if (env_set_kv(&sp->envp, *kv) < 0)
			return err_set(e, ENOMEM, "out of memory");
	if (!sp->envp && env_set(&sp->envp, "PATH", "/usr/local/bin:/usr/bin:/bin") < 0)
		return err_set(e, ENOMEM, "out of memory");
	sp->path = (char *)env_get(sp->envp, "PATH");
	return 0;
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

/* Append formatted text to buf (NUL-terminated), truncating what does not fit. */
static void append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= cap)
		return;
	va_start(ap, fmt);
	if (vsnprintf(buf + n, cap - n, fmt, ap) < 0)
		buf[n] = '\0';
	va_end(ap);
}

/* Every candidate and its verdict, for the failure message. */
static void python_failure(const struct python_plan *pp, struct err *e)
{
	e->code = ENOENT;
	e->msg[0] = '\0';
	append(e->msg, sizeof(e->msg), "no working Python: %s", pp->error);
	for (size_t i = 0; i < pp->ncands; i++) {
		char d[512];
		py_candidate_describe(&pp->cands[i], d, sizeof(d));
		append(e->msg, sizeof(e->msg), "\n  %-22s %s: %s", pp->cands[i].source,
		       pp->cands[i].path[0] ? pp->cands[i].path : "-", d);
	}
	if (pp->hint[0])
		append(e->msg, sizeof(e->msg), "\n  hint: %s", pp->hint);
}

static void script_failure(const struct service_conf *sc, const struct script_plan *sp,
			   struct err *e)
{
	e->code = ENOENT;
	e->msg[0] = '\0';
	append(e->msg, sizeof(e->msg), "service %s: script %s not found; tried:", sc->name,
	       sc->script);
	for (size_t i = 0; i < sp->ntried; i++)
		append(e->msg, sizeof(e->msg), "\n  %s: %s", sp->tried[i].path,
		       script_verdict_name(sp->tried[i].verdict));
	append(e->msg, sizeof(e->msg),
	       "\n  hint: set app_dirs in [hfinit] to the directory that holds it, or give an "
	       "absolute path; run `hfinit check` for details");
}

int plan_build(const struct config *cfg, struct plan *plan, struct err *e)
{
	struct resolve_user *users = NULL;     /* distinct users of Python services */
	struct resolve_user *svc_users = NULL; /* each service's user, when set_ids */
	size_t nusers = 0;
	bool root = geteuid() == 0;
	int rc = -1;

	memset(plan, 0, sizeof(*plan));
	plan->python.chosen = -1;
	plan->svcs = calloc(cfg->nservices ? cfg->nservices : 1, sizeof(*plan->svcs));
	users = calloc(cfg->nservices ? cfg->nservices : 1, sizeof(*users));
	svc_users = calloc(cfg->nservices ? cfg->nservices : 1, sizeof(*svc_users));
	if (!plan->svcs || !users || !svc_users) {
		err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	plan->nsvcs = cfg->nservices;
	if (resolve_app_dirs(cfg->app_dirs, &plan->app_dirs, e) < 0)
		goto out;

	/* Users first: Python is verified as each user a Python service runs as. */
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_conf *sc = &cfg->services[i];
		struct svc_plan *sp = &plan->svcs[i];
		sp->conf = sc;
		sp->python = sc->script != NULL;
		if (!sc->user && !sc->group)
			continue;
		if (!root) {
			log_info("[%s] not root: user/group ignored, runs as uid %d", sc->name,
				 (int)getuid());
			continue;
		}
		struct resolve_user u;
		if (resolve_user_lookup(sc->user ? sc->user : "0", sc->group, &u, e) < 0) {
			err_wrap(e, "%s:%d: [service:%s] user", cfg->file,
				 sc->user_line ? sc->user_line : sc->group_line, sc->name);
			goto out;
		}
		sp->set_ids = true;
		sp->uid = u.as.uid;
		sp->gid = u.as.gid;
		sp->ngroups = u.as.ngroups < RESOLVE_MAX_GROUPS ? u.as.ngroups : RESOLVE_MAX_GROUPS;
		memcpy(sp->groups, u.as.groups, sp->ngroups * sizeof(gid_t));
		/* runas.groups points into u.groups: each copy points into its own. */
		svc_users[i] = u;
		svc_users[i].as.groups = svc_users[i].groups;
		if (sp->python) {
			bool seen = false;
			for (size_t k = 0; k < nusers; k++)
				seen |= users[k].as.uid == u.as.uid && users[k].as.gid == u.as.gid;
			if (!seen) {
				users[nusers] = u;
				users[nusers].as.groups = users[nusers].groups;
				nusers++;
			}
		}
	}
	for (size_t i = 0; i < cfg->nservices; i++)
		plan->python_needed |= plan->svcs[i].python;

	if (plan->python_needed) {
		struct python_opts po = {0};
		po.conf_python = cfg->python;
		po.timeout_ms = (int)cfg->python_timeout_ms;
		po.app_dirs = plan->app_dirs;
		po.users = users;
		po.nusers = nusers;
		if (resolve_python(&po, &plan->python, e) < 0)
			goto out;
		if (plan->python.chosen < 0) {
			python_failure(&plan->python, e);
			goto out;
		}
		log_info("python: %s (%s, from %s)", plan->python.cands[plan->python.chosen].path,
			 plan->python.cands[plan->python.chosen].version,
			 plan->python.cands[plan->python.chosen].source);
	}

	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_conf *sc = &cfg->services[i];
		struct svc_plan *sp = &plan->svcs[i];
		/* HOME and the script are checked as the user the service runs as. */
		struct resolve_user *u = sp->set_ids ? &svc_users[i] : NULL;
		if (sp->python) {
			struct script_plan spl;
			struct runas as = {0};
			if (sp->set_ids) {
				as.switch_ids = 1;
				as.uid = sp->uid;
				as.gid = sp->gid;
				as.groups = sp->groups;
				as.ngroups = sp->ngroups;
			}
			if (resolve_script(sc->script, plan->app_dirs, sp->set_ids ? &as : NULL,
					   &spl, e) < 0)
				goto out;
			if (!spl.found) {
				script_failure(sc, &spl, e);
				script_plan_free(&spl);
				goto out;
			}
			sp->script = strdup(spl.path);
			script_plan_free(&spl);
			const char *py = plan->python.cands[plan->python.chosen].path;
			sp->file = strdup(py);
			sp->argv = argv_build(py, sp->script, sc->args);
		} else {
			sp->file = strdup(sc->command[0]);
			sp->argv = argv_build(NULL, NULL, sc->command);
		}
		if (!sp->file || !sp->argv || (sp->python && !sp->script)) {
			err_set(e, ENOMEM, "out of memory");
			goto out;
		}
		if (svc_env(cfg, sc, sp, u, e) < 0)
			goto out;
	}
	rc = 0;
out:
	free(users);
	free(svc_users);
	if (rc < 0)
		plan_free(plan);
	return rc;
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; plan->svcs && i < plan->nsvcs; i++) {
		struct svc_plan *sp = &plan->svcs[i];
		free(sp->file);
		free(sp->script);
		strv_free(sp->argv);
		strv_free(sp->envp);
	}
	free(plan->svcs);
	resolve_strv_free(plan->app_dirs);
	python_plan_free(&plan->python);
	memset(plan, 0, sizeof(*plan));
	plan->python.chosen = -1;
}
