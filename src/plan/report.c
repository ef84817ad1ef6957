#include "plan/check.h"
#include "run/landlock.h"
#include "plan/sandbox.h"

#include "conf/config.h"
#include "plan/envsane.h"
#include "base/json.h"
#include "plan/plan.h"
#include "base/redact.h"
#include "plan/resolve.h"
#include "run/runcmd.h"
#include "plan/statusdir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

enum status { ST_OK, ST_WARN, ST_SKIP, ST_FAIL };
static const char *const status_word[] = {"ok", "warn", "skip", "FAIL"};

#define MAX_HINTS	4
#define REQUIRES_MIN_MS 60000

struct missing_mod {
	char module[128];
	char error[512];
	int not_found; /* ModuleNotFoundError (else it exists but fails to import) */
};

/* One service's row: the planner's verdicts (p), and what only check adds
 * (the command lookup, the `requires` imports). */
struct svc_check {
	const struct service_conf *s;
	const struct svc_plan *p;
	enum status status;
	char summary[PATH_MAX + 256];
	int is_python;
	const char *user_msg; /* the user verdict, when not plainly ok */
	char cmd_found[PATH_MAX];
	int cmd_err;
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
	enum status sd_status;
	char sd_hint[512];

	enum status sc_status;
	char sc_detail[512];
	int sc_needed;
	struct sandbox_set sb; /* the services' profiles, compiled as at start-up */
	int sb_failed;
	char sb_error[1024];

	enum status py_status;
	int py_needed;
	int py_skipped; /* a venv rejected before the chosen Python, or -1 */

	struct env_check envs[16];
	size_t nenvs;

	struct svc_check *svcs;
	size_t nsvcs;
	int problems;
};

static void add_hint(struct svc_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_hint(struct svc_check *c, const char *fmt, ...)
{
	va_list ap, aq;
	int n;

	if (c->nhints >= MAX_HINTS)
		return;
	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n >= 0 && (c->hints[c->nhints] = malloc((size_t)n + 1)) != NULL) {
		(void)vsnprintf(c->hints[c->nhints], (size_t)n + 1, fmt, ap);
		c->nhints++;
	}
	va_end(ap);
}

/* --- seccomp ----------------------------------------------------------------- */

/* Whether the kernel takes a filter: sandbox_kernel_check() loads one in a
 * forked child. */
static enum status check_seccomp(char *detail, size_t n)
{
	const struct scmp_version *v = seccomp_version();
	struct err e;

	if (sandbox_kernel_check(&e) < 0) {
		fmt_trunc(detail, n, "%s", e.msg);
		return ST_FAIL;
	}
	fmt_trunc(detail, n, "the kernel accepts seccomp filters (libseccomp %u.%u.%u)", v->major,
		  v->minor, v->micro);
	return ST_OK;
}

/* --- helpers ------------------------------------------------------------------- */

/* Module name -> pip package, where they differ (the common ones). */
static const char *pip_name(const char *module)
{
	static const char *const map[][2] = {
	    {"cv2", "opencv-python-headless"},
	    {"PIL", "pillow"},
	    {"sklearn", "scikit-learn"},
	    {"yaml", "pyyaml"},
	    {"skimage", "scikit-image"},
	    {"bs4", "beautifulsoup4"},
	    {"dotenv", "python-dotenv"},
	    {"google.protobuf", "protobuf"},
	    {"attr", "attrs"},
	    {"dateutil", "python-dateutil"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(module, map[i][0]) == 0)
			return map[i][1];
	return module;
}

/* Imports every required module with the resolved Python as the service user;
 * one line per failure: "MODULE\tKIND\tMESSAGE". */
static const char requires_code[] =
    "import importlib, sys\n"
    "if sys.argv[1]: sys.path.insert(0, sys.argv[1])\n"
    "for m in sys.argv[2:]:\n"
    "    try:\n"
    "        importlib.import_module(m)\n"
    "    except BaseException as e:\n"
    "        msg = (str(e).splitlines() or [''])[0]\n"
    "        kind = 'missing' if isinstance(e, ImportError) and getattr(e, 'name', None) "
    "and (m == e.name or m.startswith(e.name + '.')) else 'broken'\n"
    "        sys.stdout.write('%s\\t%s\\t%s: %s\\n' % (m, kind, type(e).__name__, msg))\n";

static void check_requires(struct report *r, struct svc_check *c)
{
	const struct py_candidate *py = &r->plan.python.cands[r->plan.python.chosen];
	size_t nreq = strv_len(c->s->requires), k = 0;
	char **argv = calloc(nreq + 5, sizeof(*argv));
	/* The environment the service gets (HOME, HF_HOME, env_file, env):
	 * some libraries create cache directories at import time. */
	char *const *envp = c->p->envp;
	char dir[PATH_MAX] = "";
	struct runcmd_spec spec = {.path = py->path, .capture_max = 64 * 1024};
	struct runcmd_result res;
	struct err e;
	long tmo = (long)r->cfg->python_timeout_ms;

	if (!argv || !envp) {
		fmt_trunc(c->req_msg, sizeof(c->req_msg), "out of memory");
		c->req_state = 3;
		goto out;
	}
	if (c->p->spl.found) {
		char *slash;

		fmt_trunc(dir, sizeof(dir), "%s", c->p->spl.path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	argv[k++] = (char *)py->path;
	argv[k++] = "-c";
	argv[k++] = (char *)requires_code;
	argv[k++] = dir;
	for (size_t i = 0; i < nreq; i++)
	argv[k++] = c->s->requires[i];
	spec.argv = argv;
	spec.envp = envp;
	spec.timeout_ms = (int)(tmo > REQUIRES_MIN_MS ? tmo : REQUIRES_MIN_MS);
	if (c->p->set_ids)
		spec.as = c->p->user.as;
	if (runcmd(&spec, &res, &e) != 0) {
		fmt_trunc(c->req_msg, sizeof(c->req_msg), "%s", e.msg);
		c->req_state = 3;
		goto out;
	}
	if (res.failed_step != RC_STEP_NONE || res.timed_out || !res.exited || res.code != 0) {
		char line[256];

		first_line(res.err, res.err_len, line, sizeof(line));
		if (res.timed_out)
			fmt_trunc(c->req_msg, sizeof(c->req_msg),
				  "importing them did not finish within %d s",
				  spec.timeout_ms / 1000);
		else
			fmt_trunc(c->req_msg, sizeof(c->req_msg), "the import check failed: %s",
				  line[0] ? line : "no output");
		c->req_state = 3;
		runcmd_result_free(&res);
		goto out;
	}
	for (char *p = res.out; *p;) {
		char *nl = strchr(p, '\n'), *t1, *t2;
		struct missing_mod *mm, *nm;

		if (nl)
			*nl = '\0';
		t1 = strchr(p, '\t');
		t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (t1 && t2) {
			nm = realloc(c->missing, (c->nmissing + 1) * sizeof(*c->missing));
			if (!nm)
				break;
			c->missing = nm;
			mm = &c->missing[c->nmissing++];
			*t1 = *t2 = '\0';
			fmt_trunc(mm->module, sizeof(mm->module), "%s", p);
			mm->not_found = strcmp(t1 + 1, "missing") == 0;
			fmt_trunc(mm->error, sizeof(mm->error), "%s", t2 + 1);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	c->req_state = c->nmissing ? 2 : 1;
	runcmd_result_free(&res);
out:
	free(argv);
}

/* --- the checks ------------------------------------------------------------------ */

/* A verdict against a required service fails the check; against an
 * optional one it is a warning: the start runs degraded without it. */
static void svc_fail(struct svc_check *c)
{
	c->status = c->s->required ? ST_FAIL : ST_WARN;
}

static void check_command(struct svc_check *c)
{
	const struct service_conf *s = c->s;
	const char *path = c->p->path;
	const char *argv0 = s->command[0];
	char joined[PATH_MAX];

	if (strchr(argv0, '/') && argv0[0] != '/' && s->workdir) {
		fmt_trunc(joined, sizeof(joined), "%s/%s", s->workdir, argv0);
		argv0 = joined;
	}
	c->cmd_err = resolve_on_path(argv0, path, c->cmd_found, sizeof(c->cmd_found));
	if (c->cmd_err == 0) {
		fmt_trunc(c->summary, sizeof(c->summary), "command %s", c->cmd_found);
	} else if (c->cmd_err == EACCES) {
		fmt_trunc(c->summary, sizeof(c->summary), "command %s is not executable",
			  c->cmd_found);
		add_hint(c, "chmod +x %s", c->cmd_found);
		svc_fail(c);
	} else {
		fmt_trunc(c->summary, sizeof(c->summary), "command %s not found%s%s", s->command[0],
			  strchr(argv0, '/') ? "" : " on $PATH=",
			  strchr(argv0, '/') ? "" : (path ? path : ""));
		add_hint(
		    c, "install it in the image or give its absolute path in `command =` (line %d)",
		    s->command_line);
		svc_fail(c);
	}
}

static void script_hints(struct svc_check *c)
{
	const struct service_conf *s = c->s;
	size_t nd = 0;

	for (size_t i = 0; i < c->p->spl.ntried; i++)
		nd += c->p->spl.tried[i].verdict == SV_NOT_READABLE;
	if (nd)
		add_hint(c, "make the script readable by the service user (chmod a+r, or chown it "
			    "in the Dockerfile)");
	if (s->script[0] == '/')
		add_hint(c, "check the path in `script =` (line %d)", s->script_line);
	else
		add_hint(c,
			 "relative scripts are looked up under each app dir D as D/%s, D/dist/%s "
			 "and D/src/%s: fix `script =` (line %d), set `app_dirs =` in [hfinit] or "
			 "$APP_DIR, or copy the file into the image",
			 s->script, s->script, s->script, s->script_line);
}

/* The planner's verdict, as a row: its error, else its warnings. */
static void plan_verdict(struct report *r, struct svc_check *c)
{
	const struct svc_plan *p = c->p;
	const struct service_conf *s = c->s;

	if (c->is_python && p->spl.found)
		fmt_trunc(c->summary, sizeof(c->summary), "script %s", p->spl.path);
	else if (c->is_python && p->spl.ntried) {
		fmt_trunc(c->summary, sizeof(c->summary), "script %s not found (%zu paths tried)",
			  s->script, p->spl.ntried);
		script_hints(c);
	} else if (c->is_python)
		fmt_trunc(c->summary, sizeof(c->summary), "script %s", s->script);
	if (p->has_user && !p->user_ok)
		c->user_msg = p->error ? p->error : p->warnings ? p->warnings[0] : "";
	if (!p->error) {
		if (p->warnings)
			c->status = ST_WARN;
		return;
	}
	svc_fail(c);
	if (c->is_python && r->plan.python.chosen < 0) {
		size_t k = strlen(c->summary);
		/* reported under python; marked here too */
		fmt_trunc(c->summary + k, sizeof(c->summary) - k, "; no working Python to run it");
	} else if (strncmp(p->error, "workdir = ", 10) == 0) {
		c->workdir_msg = p->error;
	} else if (s->env_file && strstr(p->error, s->env_file)) {
		c->envfile_msg = p->error;
	} else if (p->error != c->user_msg && !(c->is_python && p->spl.ntried && !p->spl.found)) {
		c->setup_msg = p->error;
	}
	if (p->hint && !(c->is_python && p->spl.ntried && !p->spl.found) &&
	    !(c->is_python && r->plan.python.chosen < 0))
		add_hint(c, "%s", p->hint);
}

static void requires_hints(struct report *r, struct svc_check *c)
{
	const struct python_plan *pp = &r->plan.python;

	for (size_t i = 0; i < c->nmissing; i++) {
		const struct missing_mod *m = &c->missing[i];
		const char *top = m->module;
		char topbuf[128];
		char *dot;

		if (strcmp(pip_name(m->module), m->module) == 0 && (dot = strchr(top, '.'))) {
			fmt_trunc(topbuf, sizeof(topbuf), "%.*s", (int)(dot - top), top);
			top = topbuf;
		}
		if (!m->not_found)
			add_hint(c, "module %s is installed but fails to import: %s", m->module,
				 m->error);
		else if (r->py_skipped >= 0)
			add_hint(c,
				 "module %s is missing from %s; %s was skipped (see python above) "
				 "and is probably where it is installed: make it usable by the "
				 "service user (chown -R it, or create the venv as that user)",
				 m->module, pp->cands[pp->chosen].path,
				 pp->cands[r->py_skipped].path);
		else
			add_hint(c, "module %s is missing: %s -m pip install %s", m->module,
				 pp->cands[pp->chosen].path, pip_name(top));
	}
}

/* The kernel does not count a root process against RLIMIT_NPROC. */
static void check_nproc(struct svc_check *c)
{
	const struct svc_plan *p = c->p;

	if (!c->s->rlimits[CRL_NPROC].set || (p->set_ids ? p->uid : geteuid()) != 0)
		return;
	add_hint(c, "rlimit_nproc does not bind a service that runs as root: the kernel does not "
		    "count root's processes against it; set `user =` for it to apply");
	if (c->status == ST_OK)
		c->status = ST_WARN;
}

static void check_service(struct report *r, struct svc_check *c)
{
	const struct service_conf *s = c->s;

	c->is_python = s->script != NULL;
	if (!c->is_python && s->command && s->command[0])
		check_command(c);
	plan_verdict(r, c);
	check_nproc(c);
	if (s->requires && c->is_python && r->plan.python.chosen >= 0 && !c->p->error) {
		check_requires(r, c);
		if (c->req_state != 1)
			svc_fail(c);
		requires_hints(r, c);
	} else if (s->requires && c->is_python) {
		c->req_state = 3;
		fmt_trunc(c->req_msg, sizeof(c->req_msg), "not checked: %s",
			  c->p->error ? "the service cannot be set up (see above)"
				      : "no working Python");
	}
}

/* One row per distinct user the services run as, with that user's HOME. */
static void check_env(struct report *r)
{
	for (size_t i = 0; i < r->nsvcs && r->nenvs < sizeof(r->envs) / sizeof(r->envs[0]); i++) {
		const struct svc_plan *sp = &r->plan.svcs[i];
		uid_t uid = sp->set_ids ? sp->uid : geteuid();
		struct env_check *ec = &r->envs[r->nenvs];
		struct passwd *pw;
		size_t k;

		for (k = 0; k < r->nenvs; k++) {
			const struct svc_plan *o = r->envs[k].sp;
			if ((o->set_ids ? o->uid : geteuid()) == uid)
				break;
		}
		if (k < r->nenvs)
			continue;
		pw = getpwuid(uid);
		if (pw)
			fmt_trunc(ec->user, sizeof(ec->user), "%s", pw->pw_name);
		else
			fmt_trunc(ec->user, sizeof(ec->user), "uid %u", (unsigned)uid);
		ec->sp = sp;
		r->nenvs++;
	}
}

static void check_status_dir(struct report *r)
{
	struct err e;

	if (statusdir_choose(&r->sd, r->cfg->status_dir, 0, &e) == 0) {
		r->sd_status = ST_OK;
		return;
	}
	/* The services run without status files (a warning at start). */
	r->sd_status = ST_WARN;
	if (r->sd.explicit_choice)
		fmt_trunc(
		    r->sd_hint, sizeof(r->sd_hint),
		    "make %s a directory writable by uid %u (e.g. in the Dockerfile: RUN mkdir "
		    "-p %s && chown %u %s), or unset %s to choose one automatically",
		    r->sd.tried[0].path, (unsigned)geteuid(), r->sd.tried[0].path,
		    (unsigned)geteuid(), r->sd.tried[0].path,
		    strcmp(r->sd.tried[0].source, "config") == 0 ? "`status_dir =` in [hfinit]"
								 : "$HFINIT_STATUS_DIR");
	else
		fmt_trunc(r->sd_hint, sizeof(r->sd_hint),
			  "without status files `hfinit health` cannot answer: give hfinit a "
			  "writable /tmp (docker run --tmpfs /tmp, or a Kubernetes emptyDir "
			  "volume at /tmp), or set $HFINIT_STATUS_DIR");
}

static int run_checks(struct report *r, struct err *e)
{
	bool py_required = false;

	check_status_dir(r);
	for (size_t i = 0; i < r->cfg->nservices; i++)
		r->sc_needed |= r->cfg->services[i].seccomp != NULL;
	r->sc_status = check_seccomp(r->sc_detail, sizeof(r->sc_detail));
	if (sandbox_compile(r->cfg, &r->sb, e) < 0) {
		r->sb_failed = 1;
		fmt_trunc(r->sb_error, sizeof(r->sb_error), "%s", e->msg);
	}
	if (r->sc_status == ST_FAIL && !r->sc_needed)
		r->sc_status = ST_WARN;

	if (plan_build(r->cfg, &r->plan, PLAN_CHECK, e) < 0)
		return -1;
	r->py_needed = r->plan.python_needed;
	for (size_t i = 0; i < r->nsvcs; i++)
		py_required |= r->plan.svcs[i].python && r->cfg->services[i].required;
	r->py_skipped = r->plan.python.chosen >= 0 ? plan_python_skipped(&r->plan.python) : -1;
	if (r->plan.python.chosen >= 0)
		r->py_status = r->py_skipped >= 0 ? ST_WARN : ST_OK;
	else
		r->py_status = py_required ? ST_FAIL : r->py_needed ? ST_WARN : ST_SKIP;
	for (size_t i = 0; i < r->nsvcs; i++) {
		struct svc_check *c = &r->svcs[i];

		c->s = &r->cfg->services[i];
		c->p = &r->plan.svcs[i];
		check_service(r, c);
	}
	check_env(r);

	r->problems += r->sc_status == ST_FAIL;
	r->problems += r->sb_failed;
	r->problems += r->py_status == ST_FAIL;
	for (size_t i = 0; i < r->nsvcs; i++)
		r->problems += r->svcs[i].status == ST_FAIL;
	return 0;
}

/* --- text output ----------------------------------------------------------------- */

#define IND "          "

static void row(FILE *f, enum status st, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row(FILE *f, enum status st, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-5s %-16s ", status_word[st], what);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static void print_service(FILE *f, const struct report *r, const struct svc_check *c)
{
	char what[96];

	fmt_trunc(what, sizeof(what), "service %s", c->s->name);
	row(f, c->status, what, "%s", c->summary);
	if (c->s->user || c->s->group)
		fprintf(f, IND "user: %s%s\n",
			c->p->user_ok ? (c->s->user ? c->s->user : "(self)") : "",
			c->p->user_ok ? "" : c->user_msg);
	for (char **w = c->p->warnings; w && *w; w++)
		if (strncmp(*w, "HOME: ", 6) != 0 && strncmp(*w, "HF_HOME", 7) != 0 &&
		    (!c->user_msg || *w != c->user_msg))
			fprintf(f, IND "%s\n", *w);
	if (c->s->script && (!c->p->spl.found || c->p->spl.ntried > 1))
		for (size_t k = 0; k < c->p->spl.ntried; k++) {
			const struct script_try *t = &c->p->spl.tried[k];

			fprintf(f, IND "%s %s: %s",
				c->p->spl.found && k + 1 == c->p->spl.ntried ? "*" : "-", t->path,
				script_verdict_name(t->verdict));
			if (t->detail[0])
				fprintf(f, " (%s)", t->detail);
			fputc('\n', f);
		}
	if (c->s->seccomp) {
		const struct sandbox_profile *p = sandbox_find(&r->sb, c->s->seccomp);
		if (p)
			fprintf(f, IND "sandbox: %s (%u rules), %s\n", p->name, p->rules,
				landlock_abi(NULL) ? "own Landlock domain" : "no Landlock");
		else
			fprintf(f, IND "sandbox: %s: cannot be built: %s\n", c->s->seccomp,
				r->sb_error);
	}
	if (c->setup_msg)
		fprintf(f, IND "cannot start: %s\n", c->setup_msg);
	if (c->workdir_msg)
		fprintf(f, IND "%s\n", c->workdir_msg);
	if (c->envfile_msg)
		fprintf(f, IND "%s\n", c->envfile_msg);
	for (char **v = c->s->env; v && *v; v++) {
		char shown[1024];

		env_redact_assignment(*v, shown, sizeof(shown));
		fprintf(f, IND "env %s\n", shown);
	}
	if (!c->s->redact)
		fprintf(f, IND "output: not redacted (redact = no)\n");
	if (c->s->requires) {
		char *joined = strv_join(c->s->requires);

		if (c->req_state == 1)
			fprintf(f, IND "requires %s: all import\n", joined ? joined : "");
		else if (c->req_state == 2)
			for (size_t k = 0; k < c->nmissing; k++)
				fprintf(f, IND "requires %s: %s\n", c->missing[k].module,
					c->missing[k].error);
		else
			fprintf(f, IND "requires %s: %s\n", joined ? joined : "", c->req_msg);
		free(joined);
	}
	for (int k = 0; k < c->nhints; k++)
		fprintf(f, IND "hint: %s\n", c->hints[k]);
}

/* The Landlock row (only when filtered services get no domain). */
static void print_landlock(FILE *f, const struct report *r)
{
	struct sandbox_svc *v = calloc(r->nsvcs ? r->nsvcs : 1, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < r->nsvcs; i++) {
		const struct svc_check *c = &r->svcs[i];
		v[i] = (struct sandbox_svc){c->s->name, c->p->set_ids ? c->p->uid : geteuid(),
					    c->s->seccomp != NULL};
	}
	sandbox_landlock_check(f, IND, v, r->nsvcs);
	free(v);
}

static void print_text(FILE *f, const struct report *r)
{
	char desc[1024];
	int warnings = (r->sd_status == ST_WARN) + (r->py_status == ST_WARN), degraded = 0;

	for (size_t i = 0; i < r->nsvcs; i++) {
		warnings += r->svcs[i].status == ST_WARN;
		degraded |= r->svcs[i].status == ST_WARN && r->svcs[i].p->error;
	}

	fprintf(f, "hfinit check: %s (%s)\n\n", r->cfg->file, config_source_name(r->loc.source));
	row(f, ST_OK, "config", "%zu service%s, %zu seccomp profile%s", r->cfg->nservices,
	    r->cfg->nservices == 1 ? "" : "s", r->cfg->nprofiles,
	    r->cfg->nprofiles == 1 ? "" : "s");

	if (r->sd_status == ST_OK) {
		const struct statusdir_try *t = &r->sd.tried[r->sd.chosen];

		row(f, ST_OK, "status dir", "%s%s", t->path, t->exists ? "" : " (will be created)");
	} else {
		row(f, ST_WARN, "status dir", "no usable status directory: no status files");
	}
	for (int i = 0; i < r->sd.ntried; i++)
		if (!r->sd.tried[i].usable)
			fprintf(f, IND "%s (%s): %s\n", r->sd.tried[i].path, r->sd.tried[i].source,
				r->sd.tried[i].why);
	if (r->sd_status != ST_OK)
		fprintf(f, IND "hint: %s\n", r->sd_hint);

	row(f, r->sc_status, "seccomp", "%s%s", r->sc_detail,
	    r->sc_status == ST_WARN ? " (no service uses a profile)" : "");
	if (r->sc_status == ST_FAIL)
		fprintf(f, IND "hint: run the container without a seccomp profile that blocks "
			       "seccomp(2)/prctl, or remove `seccomp =` from the services\n");
	print_landlock(f, r);

	if (r->plan.python.chosen >= 0) {
		const struct py_candidate *c = &r->plan.python.cands[r->plan.python.chosen];

		row(f, r->py_status, "python", "%s (Python %s, from %s)", c->path, c->version,
		    c->source);
		if (r->py_skipped >= 0) {
			char w[3072];
			plan_python_skipped_text(&r->plan.python, r->py_skipped, w, sizeof(w));
			fprintf(f, IND "%s\n", w);
		}
	} else {
		row(f, r->py_status, "python", "%s%s", r->plan.python.error,
		    r->py_needed ? "" : " (no service uses `script =`)");
	}
	if (r->plan.npy_users) {
		fprintf(f, IND "verified as:");
		for (size_t i = 0; i < r->plan.npy_users; i++)
			fprintf(f, " %s",
				r->plan.py_users[i].as.switch_ids ? r->plan.py_users[i].name
								  : "root");
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->plan.python.ncands; i++) {
		const struct py_candidate *c = &r->plan.python.cands[i];

		py_candidate_describe(c, desc, sizeof(desc));
		fprintf(f, IND "%s %-22s %s%s%s\n", (int)i == r->plan.python.chosen ? "*" : "-",
			c->source, c->path, c->path[0] ? ": " : "", desc);
	}
	if (r->plan.python.chosen < 0 && r->plan.python.hint[0])
		fprintf(f, IND "hint: %s\n", r->plan.python.hint);

	for (size_t i = 0; i < r->nenvs; i++) {
		const struct env_check *ec = &r->envs[i];
		char what[96];

		fmt_trunc(what, sizeof(what), "env (%s)", ec->user);
		const struct envsane *es = &ec->sp->env;

		row(f, es->hf_home_warning[0] || ec->sp->home_unusable ? ST_WARN : ST_OK, what,
		    "HOME=%s%s, HF_HOME=%s%s", es->home,
		    es->home_create && !ec->sp->home_unusable ? " (will be created)" : "",
		    es->hf_home, es->hf_home_default ? " (default)" : "");
		if (es->home_replaced)
			fprintf(f, IND "%s: services get HOME=%s instead\n", es->home_reason,
				es->home);
		for (char **w = ec->sp->warnings; w && *w; w++)
			if (strncmp(*w, "HOME: ", 6) == 0 || strncmp(*w, "HF_HOME", 7) == 0)
				fprintf(f, IND "%s\n", *w);
	}

	for (size_t i = 0; i < r->nsvcs; i++)
		print_service(f, r, &r->svcs[i]);
	fputc('\n', f);
	if (r->problems)
		fprintf(f, "%d problem%s: hfinit would not start everything.\n", r->problems,
			r->problems == 1 ? "" : "s");
	else if (warnings)
		fprintf(f, "all checks passed, %d warning%s: hfinit would start%s.\n", warnings,
			warnings == 1 ? "" : "s", degraded ? ", degraded" : "");
	else
		fprintf(f, "all checks passed.\n");
}

/* --- JSON output ------------------------------------------------------------------ */

static void json_strv(struct json *j, const char *key, char *const *v)
{
	json_key(j, key);
	if (!v) {
		json_null(j);
		return;
	}
	json_arr_begin(j);
	for (; *v; v++)
		json_str(j, *v);
	json_arr_end(j);
}

static void json_python(struct json *j, const struct report *r)
{
	json_key(j, "python");
	json_obj_begin(j);
	json_kstr(j, "status", status_word[r->py_status]);
	json_kbool(j, "needed", r->py_needed);
	if (r->plan.python.chosen >= 0) {
		const struct py_candidate *c = &r->plan.python.cands[r->plan.python.chosen];

		json_kstr(j, "path", c->path);
		json_kstr(j, "version", c->version);
		json_kstr(j, "source", c->source);
		json_kstr(j, "executable", c->executable);
	} else {
		json_kstr(j, "path", NULL);
		json_kstr(j, "error", r->plan.python.error);
		json_kstr(j, "hint", r->plan.python.hint[0] ? r->plan.python.hint : NULL);
	}
	json_key(j, "verified_as");
	json_arr_begin(j);
	for (size_t i = 0; i < r->plan.npy_users; i++)
		json_str(j, r->plan.py_users[i].as.switch_ids ? r->plan.py_users[i].name : "root");
	json_arr_end(j);
	json_key(j, "candidates");
	json_arr_begin(j);
	for (size_t i = 0; i < r->plan.python.ncands; i++) {
		const struct py_candidate *c = &r->plan.python.cands[i];

		json_obj_begin(j);
		json_kstr(j, "source", c->source);
		json_kstr(j, "path", c->path[0] ? c->path : NULL);
		json_kstr(j, "verdict", py_verdict_name(c->verdict));
		json_kstr(j, "detail", c->detail[0] ? c->detail : NULL);
		json_kstr(j, "version", c->version[0] ? c->version : NULL);
		json_kbool(j, "chosen", (int)i == r->plan.python.chosen);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void json_service(struct json *j, const struct report *r, const struct svc_check *c)
{
	json_key(j, c->s->name);
	json_obj_begin(j);
	json_kstr(j, "status", status_word[c->status]);
	json_kstr(j, "summary", c->summary);
	json_kstr(j, "kind", c->s->script ? "script" : "command");
	json_key(j, "sandbox");
	if (c->s->seccomp) {
		const struct sandbox_profile *p = sandbox_find(&r->sb, c->s->seccomp);
		json_obj_begin(j);
		json_kstr(j, "profile", c->s->seccomp);
		json_key(j, "rules");
		if (p)
			json_int(j, p->rules);
		else
			json_null(j);
		json_kstr(j, "error", p ? NULL : r->sb_error);
		json_key(j, "landlock_abi");
		if (landlock_abi(NULL))
			json_int(j, landlock_abi(NULL));
		else
			json_null(j);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	if (c->s->script) {
		json_kstr(j, "script", c->s->script);
		json_kstr(j, "resolved", c->p->spl.found ? c->p->spl.path : NULL);
		json_key(j, "tried");
		json_arr_begin(j);
		for (size_t k = 0; k < c->p->spl.ntried; k++) {
			json_obj_begin(j);
			json_kstr(j, "path", c->p->spl.tried[k].path);
			json_kstr(j, "verdict", script_verdict_name(c->p->spl.tried[k].verdict));
			json_kstr(j, "detail",
				  c->p->spl.tried[k].detail[0] ? c->p->spl.tried[k].detail : NULL);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_kstr(j, "python",
			  r->plan.python.chosen >= 0
			      ? r->plan.python.cands[r->plan.python.chosen].path
			      : NULL);
	} else {
		json_kstr(j, "command",
			  c->s->command && c->s->command[0] ? c->s->command[0] : NULL);
		json_kstr(j, "resolved", c->cmd_err == 0 && c->cmd_found[0] ? c->cmd_found : NULL);
	}
	json_key(j, "user");
	if (!c->p->has_user) {
		json_null(j);
	} else {
		json_obj_begin(j);
		json_kstr(j, "name", c->s->user);
		json_kstr(j, "group", c->s->group);
		json_kbool(j, "ok", c->p->user_ok);
		if (c->p->user_ok) {
			json_kint(j, "uid", c->p->user.as.uid);
			json_kint(j, "gid", c->p->user.as.gid);
		} else {
			json_kstr(j, "error", c->user_msg ? c->user_msg : "");
		}
		json_obj_end(j);
	}
	json_kstr(j, "setup_error", c->setup_msg);
	json_kstr(j, "workdir_error", c->workdir_msg);
	json_kstr(j, "env_file_error", c->envfile_msg);
	json_kbool(j, "redact", c->s->redact);
	json_key(j, "env");
	json_arr_begin(j);
	for (char **v = c->s->env; v && *v; v++) {
		char shown[1024];

		env_redact_assignment(*v, shown, sizeof(shown));
		json_str(j, shown);
	}
	json_arr_end(j);
	json_key(j, "requires");
	if (!c->s->requires) {
		json_null(j);
	} else {
		json_obj_begin(j);
		json_strv(j, "modules", c->s->requires);
		json_kstr(j, "status",
			  c->req_state == 1   ? "ok"
			  : c->req_state == 2 ? "FAIL"
					      : "not checked");
		json_kstr(j, "message", c->req_msg[0] ? c->req_msg : NULL);
		json_key(j, "failed");
		json_arr_begin(j);
		for (size_t k = 0; k < c->nmissing; k++) {
			json_obj_begin(j);
			json_kstr(j, "module", c->missing[k].module);
			json_kbool(j, "missing", c->missing[k].not_found);
			json_kstr(j, "error", c->missing[k].error);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_key(j, "hints");
	json_arr_begin(j);
	for (int k = 0; k < c->nhints; k++)
		json_str(j, c->hints[k]);
	json_arr_end(j);
	json_obj_end(j);
}

static int print_json_doc(struct json *j)
{
	char *out;
	size_t len;

	if (json_finish(j, &out, &len) != 0) {
		fprintf(stderr, "hfinit: error: building the JSON report: %s\n", strerror(errno));
		return -1;
	}
	fwrite(out, 1, len, stdout);
	fputc('\n', stdout);
	free(out);
	return 0;
}

static void json_config(struct json *j, const struct report *r)
{
	json_key(j, "config");
	json_obj_begin(j);
	json_kstr(j, "file", r->cfg ? r->cfg->file : r->loc.path);
	json_kstr(j, "source", config_source_name(r->loc.source));
	json_kbool(j, "ok", config_ok(r->cfg));
	json_key(j, "errors");
	json_arr_begin(j);
	if (!r->cfg) {
		json_obj_begin(j);
		json_kstr(j, "text", r->load_error);
		json_obj_end(j);
	}
	for (size_t i = 0; r->cfg && i < r->cfg->ndiags; i++) {
		const struct config_diag *d = &r->cfg->diags[i];

		json_obj_begin(j);
		json_kint(j, "line", d->line);
		json_kstr(j, "section", d->section);
		json_kstr(j, "key", d->key);
		json_kstr(j, "message", d->msg);
		json_kstr(j, "text", d->text);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static int print_json(const struct report *r, int exit_code)
{
	struct json j;

	json_init(&j, 1);
	j.redact = 1; /* no secret in any string (redact.h) */
	json_obj_begin(&j);
	json_kint(&j, "schema", 1);
	json_kstr(&j, "hfinit", HFINIT_VERSION);
	json_kstr(&j, "result", exit_code == 0 ? "ok" : exit_code == 2 ? "config error" : "fail");
	json_kint(&j, "exit", exit_code);
	json_kint(&j, "problems", config_ok(r->cfg) ? r->problems : -1);
	json_config(&j, r);
	if (config_ok(r->cfg)) {
		json_key(&j, "status_dir");
		json_obj_begin(&j);
		json_kstr(&j, "status", status_word[r->sd_status]);
		json_kstr(&j, "path", statusdir_path(&r->sd));
		json_kstr(&j, "hint", r->sd_hint[0] ? r->sd_hint : NULL);
		json_key(&j, "tried");
		json_arr_begin(&j);
		for (int i = 0; i < r->sd.ntried; i++) {
			json_obj_begin(&j);
			json_kstr(&j, "path", r->sd.tried[i].path);
			json_kstr(&j, "source", r->sd.tried[i].source);
			json_kbool(&j, "usable", r->sd.tried[i].usable);
			json_kbool(&j, "exists", r->sd.tried[i].exists);
			json_kstr(&j, "why", r->sd.tried[i].why[0] ? r->sd.tried[i].why : NULL);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);

		json_key(&j, "seccomp");
		json_obj_begin(&j);
		json_kstr(&j, "status", status_word[r->sc_status]);
		json_kbool(&j, "needed", r->sc_needed);
		json_kstr(&j, "detail", r->sc_detail);
		json_obj_end(&j);

		json_python(&j, r);

		json_key(&j, "environment");
		json_arr_begin(&j);
		for (size_t i = 0; i < r->nenvs; i++) {
			const struct env_check *ec = &r->envs[i];

			json_obj_begin(&j);
			json_kstr(&j, "user", ec->user);
			const struct envsane *es = &ec->sp->env;
			const char *warn = NULL;
			for (char **w = ec->sp->warnings; w && *w && !warn; w++)
				if (strncmp(*w, "HOME: ", 6) == 0 || strncmp(*w, "HF_HOME", 7) == 0)
					warn = *w;
			json_kstr(&j, "status", warn ? "warn" : "ok");
			json_kstr(&j, "home", es->home);
			json_kbool(&j, "home_replaced", es->home_replaced);
			json_kstr(&j, "home_reason", es->home_reason[0] ? es->home_reason : NULL);
			json_kbool(&j, "home_create", es->home_create && !ec->sp->home_unusable);
			json_kstr(&j, "hf_home", es->hf_home);
			json_kbool(&j, "hf_home_default", es->hf_home_default);
			json_kstr(&j, "warning", warn);
			json_obj_end(&j);
		}
		json_arr_end(&j);

		json_key(&j, "services");
		json_obj_begin(&j);
		for (size_t i = 0; i < r->nsvcs; i++)
			json_service(&j, r, &r->svcs[i]);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	return print_json_doc(&j);
}

/* --- entry ------------------------------------------------------------------------ */

/* print_text to stdout with every secret as *** (values and shapes, redact.h). */
static void print_text_redacted(const struct report *r)
{
	char *doc = NULL, *red;
	size_t len = 0, rl;
	FILE *m = open_memstream(&doc, &len);

	if (!m) {
		fprintf(stderr, "hfinit: error: check: out of memory\n");
		return;
	}
	print_text(m, r);
	if (fclose(m) != 0 || !doc) {
		fprintf(stderr, "hfinit: error: check: out of memory\n");
		free(doc);
		return;
	}
	/* *** replaces at least one byte: 3 per byte is always enough */
	red = malloc(len * 3 + 1);
	rl = red ? redact_to(doc, len, red, len * 3 + 1) : (size_t)-1;
	if (red && rl != (size_t)-1)
		fwrite(red, 1, rl, stdout);
	else if (red || !redact_needed(doc, len))
		fwrite(doc, 1, len, stdout);
	else
		fprintf(stderr, "hfinit: error: check: out of memory\n");
	free(red);
	free(doc);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hfinit check [-c FILE] [--json]\n"
		   "  validate the config, resolve Python and every script, check the status\n"
		   "  dir, seccomp, users and required Python modules; exit 0 when everything\n"
		   "  would start, 1 when something would not, 2 on config errors\n");
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nsvcs; i++) {
		free(r->svcs[i].missing);
		for (int k = 0; k < r->svcs[i].nhints; k++)
			free(r->svcs[i].hints[k]);
	}
	free(r->svcs);
	plan_free(&r->plan);
	sandbox_free(&r->sb);
	config_free(r->cfg);
}

int cmd_check(int argc, char **argv)
{
	const char *opt_config = NULL;
	struct report r;
	struct err e;
	int json = 0, code;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
			   i + 1 < argc) {
			opt_config = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			opt_config = argv[i] + 9;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "hfinit: error: check: unexpected argument \"%s\"\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	memset(&r, 0, sizeof(r));
	r.plan.python.chosen = -1;
	r.sd.chosen = -1;
	config_locate(opt_config, &r.loc);
	r.cfg = config_load(&r.loc, &e);
	if (!r.cfg)
		fmt_trunc(r.load_error, sizeof(r.load_error), "%s", e.msg);
	if (!config_ok(r.cfg)) {
		if (json) {
			(void)print_json(&r, 2); /* exit 2 either way */
		} else {
			printf("hfinit check: %s (%s)\n\n", r.cfg ? r.cfg->file : r.loc.path,
			       config_source_name(r.loc.source));
			if (!r.cfg) {
				printf("FAIL  config           %s\n", r.load_error);
			} else {
				printf("FAIL  config           %zu error%s\n", r.cfg->ndiags,
				       r.cfg->ndiags == 1 ? "" : "s");
				for (size_t i = 0; i < r.cfg->ndiags; i++)
					printf(IND "%s\n", r.cfg->diags[i].text);
			}
			printf("\nconfig errors: nothing would start (exit 2).\n");
		}
		config_free(r.cfg);
		fflush(stdout);
		return 2;
	}
	for (size_t i = 0; i < r.cfg->nservices; i++) /* their values are shown as *** */
		if (redact_add_env(r.cfg->services[i].env) < 0) {
			fprintf(stderr, "hfinit: error: check: out of memory\n");
			config_free(r.cfg);
			return 1;
		}
	r.nsvcs = r.cfg->nservices;
	r.svcs = calloc(r.nsvcs ? r.nsvcs : 1, sizeof(*r.svcs));
	if (!r.svcs) {
		fprintf(stderr, "hfinit: error: check: out of memory\n");
		report_free(&r);
		return 1;
	}
	if (run_checks(&r, &e) < 0) {
		fprintf(stderr, "hfinit: error: check: %s\n", e.msg);
		report_free(&r);
		return 1;
	}
	code = r.problems ? 1 : 0;
	if (json) {
		if (print_json(&r, code) != 0)
			code = 1;
	} else {
		print_text_redacted(&r);
	}
	report_free(&r);
	if (fflush(stdout) != 0)
		return 1;
	return code;
}
