#include "plan/plan.h"
#include "plan/plan_make.h"

#include "plan/env.h"
#include "base/log.h"
#include "base/strv.h"
#include "conf/probe_spec.h"
#include "run/landlock.h"
#include "run/netprobe.h"
#include "run/spawn.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/* 0, or the errno that creating dir (and the missing directories above it)
 * would fail with, as hfinit: the nearest existing ancestor must be writable. */
static int create_errno(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return ENAMETOOLONG;
	while (stat(p, &st) != 0) {
		char *slash = strrchr(p, '/');
		if (errno != ENOENT || !slash)
			return errno ? errno : ENOENT;
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	return access(p, W_OK | X_OK) == 0 ? 0 : errno;
}

/* When HOME cannot be made: keep an existing inherited or passwd HOME (it
 * can still be read), else the path that could not be created. */
static void home_keep(struct envsane *es, const char *inherited, const char *pw_home)
{
	struct stat st;
	const char *keep = NULL;

	if (inherited && inherited[0] && strcmp(inherited, "/") != 0 &&
	    strcmp(inherited, "/nonexistent") != 0 && stat(inherited, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		keep = inherited;
	else if (pw_home && pw_home[0] && stat(pw_home, &st) == 0 && S_ISDIR(st.st_mode))
		keep = pw_home;
	if (keep)
		fmt_trunc(es->home, sizeof(es->home), "%s", keep);
	if (keep && keep == inherited)
		es->home_replaced = 0; /* it keeps what it had */
	if (es->hf_home_default)
		fmt_trunc(es->hf_home, sizeof(es->hf_home), "%s/.cache/huggingface",
			  strcmp(es->home, "/") == 0 ? "" : es->home);
}

#define HOME_RO_HINT                                                                               \
	"give it a writable /tmp (docker run --tmpfs /tmp, or a Kubernetes emptyDir volume "       \
	"at /tmp) or set HOME to a writable directory"

/* HOME and HF_HOME that the service's user can write (docs/supervise.md):
 * a usable inherited HOME, else the passwd home of the uid it runs as, else
 * a fallback under /tmp. One that cannot be made is a warning, not a failure. */
static int svc_home(const struct service_conf *sc, struct svc_plan *sp, enum plan_mode mode)
{
	const char *own = env_get(sc->env, "HOME"); /* `env = HOME=...` wins */
	const char *inherited = own ? own : env_get(sp->envp, "HOME");
	const char *pw_home = sp->user.home[0] ? sp->user.home : NULL;
	struct runas self = {0};
	struct envsane *es = &sp->env;
	struct err e;
	int err = 0;

	if (envsane_plan(es, inherited, env_get(sp->envp, "HF_HOME"), pw_home,
			 sp->set_ids ? &sp->user.as : &self, &e) < 0)
		return plan_fail(sp, NULL, "HOME: %s", e.msg);
	if (own) { /* the service's own choice: nothing replaced or created */
		es->home_replaced = es->home_create = 0;
		fmt_trunc(es->home, sizeof(es->home), "%s", own);
		home_keep(es, NULL, NULL);
	}
	if (es->hf_home_warning[0] && plan_warn(sp, "%s", es->hf_home_warning) < 0)
		return -1;
	if (es->home_create) {
		if (mode == PLAN_START) {
			if (envsane_apply(es, sp->set_ids ? sp->uid : getuid(),
					  sp->set_ids ? sp->gid : getgid(), &e) < 0)
				err = e.code ? e.code : EIO;
		} else if ((err = create_errno(es->home)) != 0) {
			(void)err_set(&e, err, "cannot create %s: %s", es->home, strerror(err));
		}
	}
	if (mode == PLAN_START && es->home_replaced && !err)
		log_info("[%s] HOME=%s (%s)", sp->policy.name, es->home, es->home_reason);
	if (err) {
		/* never the path that could not be made or was refused (another
		 * uid may own it): an existing inherited or passwd HOME, else none */
		fmt_trunc(es->home, sizeof(es->home), "/nonexistent");
		sp->home_unusable = true;
		home_keep(es, inherited, pw_home);
		if (plan_warn(sp, "HOME: %s; it runs with HOME=%s, not writable (%s)", e.msg,
			      es->home, HOME_RO_HINT) < 0)
			return -1;
	}
	if (env_set(&sp->envp, "HOME", es->home) < 0 ||
	    (es->hf_home[0] && env_set(&sp->envp, "HF_HOME", es->hf_home) < 0))
		return -1;
	return 0;
}

/* The environment: inherited, HOME (decided and made here), then what
 * plan_make_env adds (the env_file read here, `env =`, PATH). */
static int svc_env(const struct service_conf *sc, struct svc_plan *sp, enum plan_mode mode)
{
	char **file_env = NULL;
	struct err fe;
	int rc;

	if (plan_make_env_base(sp, environ) < 0 || svc_home(sc, sp, mode) < 0)
		return -1;
	err_clear(&fe);
	if (sc->env_file && env_file_load(sc->env_file, &file_env, &fe) < 0 && fe.code == ENOMEM) {
		strv_free(file_env);
		return -1;
	}
	rc = plan_make_env(sc, file_env, fe.msg[0] ? &fe : NULL, sp);
	strv_free(file_env);
	return rc;
}

/* What plan_make_user needs to know: who hfinit is, and the configured
 * user looked up. */
static void user_facts(const struct service_conf *sc, struct user_facts *f)
{
	struct passwd *pw;

	memset(f, 0, sizeof(*f));
	f->euid = geteuid();
	f->egid = getegid();
	resolve_user_self(&f->self);
	pw = getpwuid(getuid());
	if (pw && pw->pw_dir)
		fmt_trunc(f->self.home, sizeof(f->self.home), "%s", pw->pw_dir);
	if (sc->user || sc->group)
		f->lookup = resolve_user_lookup(sc->user ? sc->user : "0", sc->group, &f->found,
						&f->lookup_err);
}

/* Every set-up step of spawn() (workdir, rlimits, oom_score_adj, the user
 * switch) run in a child that stops before exec: a step that cannot succeed
 * is known before anything starts, tested as the service's user. */
static int svc_setup_probe(const struct service_conf *sc, struct svc_plan *sp)
{
	struct spawn_req r;
	struct err e;
	int hint;
	pid_t pid;

	plan_make_spawn_setup(sc, sp, &r);
	r.dry_run = true;
	r.file = sp->file;
	r.argv = sp->argv;
	if (spawn(&r, &pid, &hint, &e) == 0)
		return 0;
	if (hint != SPAWN_HINT_SETUP)
		return 0; /* a transient failure (fork, pipe): the real start will tell */
	return plan_fail(sp, NULL, "%s", e.msg);
}

/* A script service's script, looked up under the app dirs as its user: 0,
 * 1 when the lookup could not run (the verdict says why; no program), -1
 * when out of memory. */
static int svc_script(const struct plan *plan, const struct service_conf *sc, struct svc_plan *sp)
{
	struct err e;

	if (!sp->python)
		return 0;
	/* Resolved even when Python is missing: check shows every path. */
	if (resolve_script(sc->script, plan->app_dirs, sp->set_ids ? &sp->user.as : NULL, &sp->spl,
			   &e) < 0)
		return plan_fail(sp, NULL, "script %s: %s", sc->script, e.msg) < 0 ? -1 : 1;
	return 0;
}

/* watch = PATH...: made absolute; a path that is not there is not watched
 * (a warning, in check and at start alike). */
static int svc_watch(const struct service_conf *sc, struct svc_plan *sp)
{
	char cwd[PATH_MAX];
	struct stat st;

	if (!sc->watch)
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	if (plan_make_watch(sc, cwd, &sp->policy) < 0)
		return -1;
	for (char **p = sp->policy.watch; *p; p++)
		if (stat(*p, &st) < 0 &&
		    plan_warn(sp, "watch = %s: %s: not watched", *p, strerror(errno)) < 0)
			return -1;
	return 0;
}

/* A command service's program looked up on its PATH, as execvp will (a
 * relative name with a '/' from its workdir). */
static void svc_exec_lookup(const struct service_conf *sc, struct svc_plan *sp)
{
	const char *argv0 = sc->command && sc->command[0] ? sc->command[0] : NULL;
	char joined[PATH_MAX];

	if (sp->python || !argv0)
		return;
	if (strchr(argv0, '/') && argv0[0] != '/' && sc->workdir) {
		fmt_trunc(joined, sizeof(joined), "%s/%s", sc->workdir, argv0);
		argv0 = joined;
	}
	sp->exec_errno = resolve_on_path(argv0, sp->path, sp->exec_path, sizeof(sp->exec_path));
}

/* The first candidate that looks intended (a venv) rejected before the
 * chosen one; -1 if none. */
int plan_python_skipped(const struct python_plan *pp)
{
	for (int i = 0; i < pp->chosen; i++) {
		const struct py_candidate *c = &pp->cands[i];
		bool venv = strcmp(c->source, "VIRTUAL_ENV") == 0 ||
			    strcmp(c->source, "UV_PROJECT_ENVIRONMENT") == 0 ||
			    strcmp(c->source, "venv") == 0;
		if (venv && c->verdict != PV_UNSET && c->verdict != PV_MISSING)
			return i;
	}
	return -1;
}

void plan_python_skipped_text(const struct python_plan *pp, int i, char *buf, size_t n)
{
	const struct py_candidate *c = &pp->cands[i], *ch = &pp->cands[pp->chosen];
	char d[1024], who[48] = "";

	py_candidate_describe(c, d, sizeof(d));
	if (!strstr(c->detail, "(as user"))
		fmt_trunc(who, sizeof(who), " (as uid %u)", (unsigned)geteuid());
	fmt_trunc(buf, n, "python: %.1024s (%s) skipped: %s%s; using %.1024s (Python %s, from %s)",
		  c->path, c->source, d, who, ch->path, ch->version, ch->source);
}

static void python_log(const struct python_plan *pp, bool required)
{
	enum log_level lvl = required ? LOG_LVL_ERROR : LOG_LVL_WARN;

	log_msg(lvl, "no working Python: %s", pp->error);
	for (size_t i = 0; i < pp->ncands; i++) {
		char d[1024];
		py_candidate_describe(&pp->cands[i], d, sizeof(d));
		log_msg(lvl, "  %-22s %s: %s", pp->cands[i].source,
			pp->cands[i].path[0] ? pp->cands[i].path : "-", d);
	}
	if (pp->hint[0])
		log_msg(lvl, "  hint: %s", pp->hint);
}

static int plan_python(const struct config *cfg, struct plan *plan, enum plan_mode mode,
		       struct err *e)
{
	struct resolve_user *users = calloc(plan->nsvcs + 1, sizeof(*users));
	struct python_opts po = {0};
	struct resolve_user self;
	bool required = false;
	int rc;

	if (!users)
		return err_set(e, ENOMEM, "out of memory");
	po.conf_python = cfg->python;
	po.timeout_ms = (int)cfg->python_timeout_ms;
	po.app_dirs = plan->app_dirs;
	po.users = users;
	resolve_user_self(&self);
	po.nusers = plan_python_users(plan, &self, users);
	po.check_all = mode == PLAN_CHECK;
	plan->py_users = users;
	plan->npy_users = po.nusers;
	for (size_t i = 0; i < po.nusers; i++)
		users[i].as.groups = users[i].groups;
	rc = resolve_python(&po, &plan->python, e);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < plan->nsvcs; i++)
		required |= plan->svcs[i].python && plan->svcs[i].policy.required;
	if (plan->python.chosen < 0) {
		if (mode == PLAN_START)
			python_log(&plan->python, required);
		if (plan_make_no_python(plan) < 0)
			return err_set(e, ENOMEM, "out of memory");
		return 0;
	}
	if (mode == PLAN_START) {
		const struct py_candidate *c = &plan->python.cands[plan->python.chosen];
		int sk = plan_python_skipped(&plan->python);
		log_info("python: %s (%s, from %s)", c->path, c->version, c->source);
		if (sk >= 0) {
			char w[3072];
			plan_python_skipped_text(&plan->python, sk, w, sizeof(w));
			log_warn("%s", w);
		}
	}
	return 0;
}

/* A tcp/http probe's address, looked up once (at start, before any fork). */
static void probe_resolve(const char *name, struct plan_probe *pp)
{
	enum probe_kind k = pp->spec->kind;

	if (k != PROBE_TCP && k != PROBE_HTTP)
		return;
	if (probe_addr(pp->spec, &pp->sa, &pp->salen, &pp->err) < 0) {
		(void)err_wrap(&pp->err, "service %s", name);
		return;
	}
	pp->resolved = true;
}

/* Compile every profile a service names; a failure is kept in sandbox_err
 * (nothing may start, never unsandboxed) and leaves no service a program. */
static void plan_sandbox(const struct config *cfg, struct plan *plan)
{
	if (sandbox_compile(cfg, &plan->sandbox, &plan->sandbox_err) < 0) {
		if (!plan->sandbox_err.msg[0])
			(void)err_set(&plan->sandbox_err, EINVAL,
				      "seccomp: cannot build a profile");
		return;
	}
	err_clear(&plan->sandbox_err);
	for (size_t i = 0; i < plan->nsvcs; i++)
		plan->svcs[i].seccomp = sandbox_find(&plan->sandbox, plan->svcs[i].seccomp_name);
}

int plan_setenv(struct plan *plan, const char *name, const char *value)
{
	for (size_t i = 0; i < plan->nsvcs; i++) {
		struct svc_plan *sp = &plan->svcs[i];
		if (env_set(&sp->envp, name, value) < 0)
			return -1;
		sp->path = (char *)env_get(sp->envp, "PATH");
		sp->spawn.envp = sp->envp;
		sp->spawn.path = sp->path;
	}
	return 0;
}

/* The chosen interpreter, or NULL. */
static const char *plan_python_path(const struct plan *plan)
{
	return plan->python.chosen >= 0 ? plan->python.cands[plan->python.chosen].path : NULL;
}

static void svc_log_warnings(const struct svc_plan *sp)
{
	for (char **w = sp->warnings; w && *w; w++)
		log_warn("[%s] %s", sp->policy.name, *w);
}

int plan_build(const struct config *cfg, struct plan *plan, enum plan_mode mode, struct err *e)
{
	memset(plan, 0, sizeof(*plan));
	plan->python.chosen = -1;
	plan->svcs = calloc(cfg->nservices ? cfg->nservices : 1, sizeof(*plan->svcs));
	if (!plan->svcs)
		return err_set(e, ENOMEM, "out of memory");
	plan_make_globals(cfg, plan);
	if (resolve_app_dirs(cfg->app_dirs, &plan->app_dirs, e) < 0)
		goto fail;
	/* Users first: Python is verified as each user a Python service runs as. */
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct user_facts f;
		user_facts(&cfg->services[i], &f);
		if (plan_make_user(&cfg->services[i], &f, &plan->svcs[i]) < 0)
			goto oom;
	}
	if (plan->python_needed && plan_python(cfg, plan, mode, e) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct service_conf *sc = &cfg->services[i];
		struct svc_plan *sp = &plan->svcs[i];
		int rc = svc_script(plan, sc, sp);
		if (rc < 0 || (rc == 0 && plan_make_program(sc, plan_python_path(plan), sp) < 0) ||
		    svc_env(sc, sp, mode) < 0)
			goto oom;
		svc_exec_lookup(sc, sp);
		if (svc_watch(sc, sp) < 0)
			goto oom;
		if (!sp->error && svc_setup_probe(sc, sp) < 0)
			goto oom;
		if (mode == PLAN_START)
			svc_log_warnings(sp);
	}
	plan_sandbox(cfg, plan);
	for (size_t i = 0; i < cfg->nservices; i++) {
		struct svc_plan *sp = &plan->svcs[i];
		if (mode == PLAN_START) {
			probe_resolve(sp->policy.name, &sp->policy.ready);
			probe_resolve(sp->policy.name, &sp->policy.health);
		}
		plan_make_spawn(&cfg->services[i], sp, sp->seccomp ? landlock_abi(NULL) : 0);
	}
	return 0;
oom:
	err_set(e, ENOMEM, "out of memory");
fail:
	plan_free(plan);
	return -1;
}

void plan_log_failure(const struct svc_plan *sp)
{
	log_error("[%s] cannot start: %s", sp->policy.name, sp->error);
	for (size_t k = 0; sp->python && !sp->spl.found && k < sp->spl.ntried; k++)
		log_error("[%s]   %s: %s", sp->policy.name, sp->spl.tried[k].path,
			  script_verdict_name(sp->spl.tried[k].verdict));
	if (sp->hint)
		log_info("[%s] hint: %s", sp->policy.name, sp->hint);
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; plan->svcs && i < plan->nsvcs; i++) {
		struct svc_plan *sp = &plan->svcs[i];
		free(sp->file);
		free(sp->script);
		free(sp->error);
		free(sp->hint);
		strv_free(sp->warnings);
		strv_free(sp->argv);
		strv_free(sp->envp);
		strv_free(sp->policy.watch);
		script_plan_free(&sp->spl);
	}
	free(plan->svcs);
	free(plan->py_users);
	sandbox_free(&plan->sandbox);
	strv_free(plan->app_dirs);
	python_plan_free(&plan->python);
	memset(plan, 0, sizeof(*plan));
	plan->python.chosen = -1;
}

bool plan_required_failed(const struct plan *plan)
{
	bool any = false;

	for (size_t i = 0; i < plan->nsvcs; i++)
		if (plan->svcs[i].error && plan->svcs[i].policy.required) {
			plan_log_failure(&plan->svcs[i]);
			any = true;
		}
	return any;
}

/* stat, not lstat: a link to an existing device counts (docs/config.md). */
bool plan_cond_test(const struct condition *c, char *why, size_t n)
{
	struct stat st;
	const char *v;
	bool t;

	if (c->kind == COND_PATH) {
		t = stat(c->arg, &st) == 0;
		snprintf(why, n, "%s",
			 t		   ? "exists"
			 : errno == ENOENT ? "no such file"
					   : strerror(errno));
		return t;
	}
	v = getenv(c->arg);
	t = v && *v;
	snprintf(why, n, "%s", t ? "is set" : v ? "is empty" : "is not set");
	return t;
}
