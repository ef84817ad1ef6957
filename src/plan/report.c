#include "plan/report.h"
#include "plan/sandbox.h"

#include "conf/config.h"
#include "plan/plan.h"
#include "plan/python.h"
#include "plan/script.h"
#include "base/redact.h"
#include "run/runcmd.h"
#include "plan/statusdir.h"

#include <errno.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add_hint(struct svc_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_hint(struct svc_check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nhints >= MAX_HINTS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&c->hints[c->nhints], fmt, ap) >= 0) /* never cut */
		c->nhints++;
	else
		c->hints[c->nhints] = NULL;
	va_end(ap);
}

/* --- seccomp ----------------------------------------------------------------- */

/* Whether the kernel takes a filter: sandbox_kernel_check() loads one in a
 * forked child. */
static enum report_status check_seccomp(char *detail, size_t n)
{
	const struct scmp_version *v = seccomp_version();
	struct err e;

	if (sandbox_kernel_check(&e) < 0) {
		fmt_trunc(detail, n, "%s", e.msg);
		return RS_FAIL;
	}
	fmt_trunc(detail, n, "the kernel accepts seccomp filters (libseccomp %u.%u.%u)", v->major,
		  v->minor, v->micro);
	return RS_OK;
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

/* requires_code's output: one "MODULE\tKIND\tMESSAGE" line per module that
 * failed, into c->missing (out is cut into pieces). */
static void parse_failures(struct svc_check *c, char *out)
{
	for (char *p = out; *p;) {
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
}

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
	parse_failures(c, res.out);
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
	c->status = c->s->required ? RS_FAIL : RS_WARN;
}

static void check_command(struct svc_check *c)
{
	const struct service_conf *s = c->s;
	const char *path = c->p->path;
	const char *argv0 = s->command[0];

	const char *found = c->p->exec_path;

	if (c->p->exec_errno == 0) {
		fmt_trunc(c->summary, sizeof(c->summary), "command %s", found);
	} else if (c->p->exec_errno == EACCES) {
		fmt_trunc(c->summary, sizeof(c->summary), "command %s is not executable", found);
		add_hint(c, "chmod +x %s", found);
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
			c->status = RS_WARN;
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

	if (!c->s->rlimits[CRL_NPROC].set || p->run_uid != 0)
		return;
	add_hint(c, "rlimit_nproc does not bind a service that runs as root: the kernel does not "
		    "count root's processes against it; set `user =` for it to apply");
	if (c->status == RS_OK)
		c->status = RS_WARN;
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
		uid_t uid = sp->run_uid;
		struct env_check *ec = &r->envs[r->nenvs];
		struct passwd *pw;
		size_t k;

		for (k = 0; k < r->nenvs; k++) {
			const struct svc_plan *o = r->envs[k].sp;
			if (o->run_uid == uid)
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
		r->sd_status = RS_OK;
		return;
	}
	/* The services run without status files (a warning at start). */
	r->sd_status = RS_WARN;
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
	if (r->sc_status == RS_FAIL && !r->sc_needed)
		r->sc_status = RS_WARN;

	if (plan_build(r->cfg, &r->plan, PLAN_CHECK, e) < 0)
		return -1;
	r->py_needed = r->plan.python_needed;
	for (size_t i = 0; i < r->nsvcs; i++)
		py_required |= r->plan.svcs[i].python && r->cfg->services[i].required;
	r->py_skipped = r->plan.python.chosen >= 0 ? plan_python_skipped(&r->plan.python) : -1;
	if (r->plan.python.chosen >= 0)
		r->py_status = r->py_skipped >= 0 ? RS_WARN : RS_OK;
	else
		r->py_status = py_required ? RS_FAIL : r->py_needed ? RS_WARN : RS_SKIP;
	for (size_t i = 0; i < r->nsvcs; i++) {
		struct svc_check *c = &r->svcs[i];

		c->s = &r->cfg->services[i];
		c->p = &r->plan.svcs[i];
		check_service(r, c);
	}
	check_env(r);

	r->problems += r->sc_status == RS_FAIL;
	r->problems += r->plan.sandbox_err.msg[0] != '\0'; /* a profile cannot be built */
	r->problems += r->py_status == RS_FAIL;
	for (size_t i = 0; i < r->nsvcs; i++)
		r->problems += r->svcs[i].status == RS_FAIL;
	return 0;
}

void report_load(struct report *r, const char *opt_config)
{
	struct err e;

	memset(r, 0, sizeof(*r));
	r->plan.python.chosen = -1;
	r->sd.chosen = -1;
	config_locate(opt_config, &r->loc);
	r->cfg = config_load(&r->loc, &e);
	if (!r->cfg)
		fmt_trunc(r->load_error, sizeof(r->load_error), "%s", e.msg);
}

int report_run(struct report *r, struct err *e)
{
	for (size_t i = 0; i < r->cfg->nservices; i++) /* their values are shown as *** */
		if (redact_add_env(r->cfg->services[i].env) < 0)
			return err_set(e, ENOMEM, "out of memory");
	r->nsvcs = r->cfg->nservices;
	r->svcs = calloc(r->nsvcs ? r->nsvcs : 1, sizeof(*r->svcs));
	if (!r->svcs)
		return err_set(e, ENOMEM, "out of memory");
	return run_checks(r, e);
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nsvcs; i++) {
		free(r->svcs[i].missing);
		for (int k = 0; k < r->svcs[i].nhints; k++)
			free(r->svcs[i].hints[k]);
	}
	free(r->svcs);
	plan_free(&r->plan);
	config_free(r->cfg);
}
