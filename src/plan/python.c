#include "plan/python.h"
#include "plan/script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAPTURE_MAX 8192

/* Prints sys.executable and the version, also under Python 2 (to say so). */
static const char probe_code[] =
    "import sys; sys.stdout.write('%s\\n%d.%d.%d\\n' % ((sys.executable,) + "
    "tuple(sys.version_info[:3])))";

static const char *user_label(const struct resolve_user *u, char *buf, size_t n)
{
	if (!u || !u->as.switch_ids) {
		buf[0] = '\0';
		return buf;
	}
	fmt_trunc(buf, n, " (as user %s, uid %u)", u->name, (unsigned)u->as.uid);
	return buf;
}

/* --- Python ------------------------------------------------------------------- */

const char *py_verdict_name(enum py_verdict v)
{
	switch (v) {
	case PV_UNSET:
		return "unset";
	case PV_MISSING:
		return "missing";
	case PV_DANGLING:
		return "dangling link";
	case PV_NOT_FILE:
		return "not a file";
	case PV_NOT_EXEC:
		return "not executable";
	case PV_PERM:
		return "permission denied";
	case PV_EXEC_FAILED:
		return "cannot execute";
	case PV_EXITED:
		return "exited";
	case PV_SIGNALED:
		return "killed";
	case PV_TIMEOUT:
		return "timed out";
	case PV_BAD_OUTPUT:
		return "not Python";
	case PV_TOO_OLD:
		return "too old";
	case PV_NOT_FOUND:
		return "not found";
	case PV_OK:
		return "ok";
	}
	return "?";
}

void py_candidate_describe(const struct py_candidate *c, char *buf, size_t n)
{
	if (c->verdict == PV_OK)
		fmt_trunc(buf, n, "ok, Python %s", c->version);
	else if (c->verdict == PV_UNSET && c->detail[0])
		fmt_trunc(buf, n, "%s", c->detail); /* config: "auto" */
	else if (c->detail[0])
		fmt_trunc(buf, n, "%s: %s", py_verdict_name(c->verdict), c->detail);
	else
		fmt_trunc(buf, n, "%s", py_verdict_name(c->verdict));
}

static struct py_candidate *add_cand(struct python_plan *p, const char *source, const char *path,
				     struct err *e)
{
	struct py_candidate *c, *nc;

	nc = realloc(p->cands, (p->ncands + 1) * sizeof(*p->cands));
	if (!nc) {
		err_sys(e, "resolve python");
		return NULL;
	}
	p->cands = nc;
	c = &p->cands[p->ncands++];
	memset(c, 0, sizeof(*c));
	fmt_trunc(c->source, sizeof(c->source), "%s", source);
	fmt_trunc(c->path, sizeof(c->path), "%s", path ? path : "");
	return c;
}

static int seen_path(const struct python_plan *p, const char *path)
{
	for (size_t i = 0; i < p->ncands; i++)
		if (p->cands[i].path[0] && strcmp(p->cands[i].path, path) == 0)
			return 1;
	return 0;
}

/* Checks that need no execution. 1 if the file is worth executing. */
static int static_check(struct py_candidate *c)
{
	struct stat st, lst;
	char target[PATH_MAX];
	ssize_t k;

	if (lstat(c->path, &lst) != 0) {
		if (errno == EACCES) {
			c->verdict = PV_PERM;
			if (!path_blocked_dir(c->path, NULL, c->detail, sizeof(c->detail)))
				fmt_trunc(c->detail, sizeof(c->detail),
					  "a directory on the way cannot be entered");
		} else {
			c->verdict = PV_MISSING;
		}
		return 0;
	}
	if (stat(c->path, &st) != 0) {
		int saved = errno;

		if (S_ISLNK(lst.st_mode) && (saved == ENOENT || saved == ENOTDIR)) {
			k = readlink(c->path, target, sizeof(target) - 1);
			target[k < 0 ? 0 : k] = '\0';
			c->verdict = PV_DANGLING;
			fmt_trunc(c->detail, sizeof(c->detail), "-> %s (does not exist)", target);
		} else if (saved == EACCES) {
			c->verdict = PV_PERM;
			k = readlink(c->path, target, sizeof(target) - 1);
			target[k < 0 ? 0 : k] = '\0';
			fmt_trunc(c->detail, sizeof(c->detail), "link target %s cannot be reached",
				  target);
		} else if (saved == ELOOP) {
			c->verdict = PV_DANGLING;
			fmt_trunc(c->detail, sizeof(c->detail), "symlink loop");
		} else {
			c->verdict = PV_MISSING;
			fmt_trunc(c->detail, sizeof(c->detail), "%s", strerror(saved));
		}
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		c->verdict = PV_NOT_FILE;
		fmt_trunc(c->detail, sizeof(c->detail), "%s",
			  S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		return 0;
	}
	if (!(st.st_mode & 0111)) {
		c->verdict = PV_NOT_EXEC;
		fmt_trunc(c->detail, sizeof(c->detail), "mode %04o, no x bit",
			  (unsigned)(st.st_mode & 07777));
		return 0;
	}
	return 1;
}
/* "MAJOR.MINOR.MICRO" at the start of s (what the probe prints); 0 or -1. */
static int parse_version(const char *s, int *major, int *minor, int *micro)
{
	int *part[3] = {major, minor, micro};

	for (int k = 0; k < 3; k++) {
		char *end;
		long v;

		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || v > 100000 || (k < 2 && *end != '.'))
			return -1;
		*part[k] = (int)v;
		s = end + (k < 2);
	}
	return 0;
}

/* Execute the candidate as u; fills verdict/detail/version. 1 if OK. */
static int run_probe(struct py_candidate *c, const struct resolve_user *u, int timeout_ms,
		     struct err *e)
{
	char *argv[] = {c->path, "-c", (char *)probe_code, NULL};
	struct runcmd_spec spec = {
	    .path = c->path, .argv = argv, .timeout_ms = timeout_ms, .capture_max = CAPTURE_MAX};
	struct runcmd_result r;
	char who[128], line[512], blocked[PATH_MAX + 64];
	int major = 0, minor = 0, micro = 0;
	char *nl;

	if (u)
		spec.as = u->as;
	(void)user_label(u, who, sizeof(who));
	if (runcmd(&spec, &r, e) != 0)
		return -1;
	c->elapsed_ms = r.elapsed_ms;
	if (r.failed_step == RC_STEP_EXEC) {
		if (r.failed_errno == EACCES || r.failed_errno == EPERM) {
			c->verdict = PV_PERM;
			if (path_blocked_dir(c->path, u ? &u->as : NULL, blocked, sizeof(blocked)))
				fmt_trunc(c->detail, sizeof(c->detail), "%s%s", blocked, who);
			else
				fmt_trunc(c->detail, sizeof(c->detail), "execve: %s%s",
					  strerror(r.failed_errno), who);
		} else if (r.failed_errno == ENOENT) {
			c->verdict = PV_EXEC_FAILED;
			fmt_trunc(c->detail, sizeof(c->detail),
				  "its #! interpreter or ELF loader is missing%s", who);
		} else {
			c->verdict = PV_EXEC_FAILED;
			fmt_trunc(c->detail, sizeof(c->detail), "execve: %s%s",
				  strerror(r.failed_errno), who);
		}
	} else if (r.failed_step != RC_STEP_NONE) {
		c->verdict = PV_EXEC_FAILED;
		fmt_trunc(c->detail, sizeof(c->detail), "%s failed: %s%s",
			  runcmd_step_name(r.failed_step), strerror(r.failed_errno), who);
	} else if (r.timed_out) {
		c->verdict = PV_TIMEOUT;
		fmt_trunc(c->detail, sizeof(c->detail), "no answer after %d ms%s", timeout_ms, who);
	} else if (r.signaled) {
		c->verdict = PV_SIGNALED;
		fmt_trunc(c->detail, sizeof(c->detail), "by signal %d (%s)%s", r.sig,
			  strsignal(r.sig), who);
	} else if (r.code != 0) {
		first_line(r.err, r.err_len, line, sizeof(line));
		c->verdict = PV_EXITED;
		fmt_trunc(c->detail, sizeof(c->detail), "%d%s%s%s", r.code, line[0] ? ": " : "",
			  line, who);
	} else if (!(nl = strchr(r.out, '\n')) ||
		   parse_version(nl + 1, &major, &minor, &micro) != 0) {
		first_line(r.out, r.out_len, line, sizeof(line));
		c->verdict = PV_BAD_OUTPUT;
		fmt_trunc(c->detail, sizeof(c->detail), "exit 0 but answered \"%s\"%s", line, who);
	} else {
		*nl = '\0';
		fmt_trunc(c->executable, sizeof(c->executable), "%s", r.out);
		fmt_trunc(c->version, sizeof(c->version), "%d.%d.%d", major, minor, micro);
		if (major < 3) {
			c->verdict = PV_TOO_OLD;
			fmt_trunc(c->detail, sizeof(c->detail), "Python %s; Python 3 is needed",
				  c->version);
		} else {
			c->verdict = PV_OK;
		}
	}
	runcmd_result_free(&r);
	return c->verdict == PV_OK;
}

/* Evaluate one candidate fully: static checks, then as every user. */
static int evaluate(struct py_candidate *c, const struct python_opts *o, struct err *e)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : PYTHON_DEFAULT_TIMEOUT_MS;

	if (!static_check(c))
		return 0;
	if (o->nusers == 0)
		return run_probe(c, NULL, timeout, e);
	for (size_t i = 0; i < o->nusers; i++) {
		int r = run_probe(c, &o->users[i], timeout, e);

		if (r != 1)
			return r;
	}
	return 1;
}

struct walk {
	const struct python_opts *o;
	struct python_plan *p;
	int done; /* stop adding (first OK found, or explicit failure, unless check_all) */
	struct err *e;
};

/* Try path from source; returns -1 on internal error. */
static int try_path(struct walk *w, const char *source, const char *path, int explicit_choice)
{
	struct py_candidate *c;
	int r;

	if (w->done || seen_path(w->p, path))
		return 0;
	c = add_cand(w->p, source, path, w->e);
	if (!c)
		return -1;
	r = evaluate(c, w->o, w->e);
	if (r < 0)
		return -1;
	if (r == 1) {
		if (w->p->chosen < 0 && !w->p->explicit_failed)
			w->p->chosen = (int)(c - w->p->cands);
		else if (w->p->explicit_failed && w->p->fallback < 0)
			w->p->fallback = (int)(c - w->p->cands);
		if (!w->o->check_all)
			w->done = 1;
	} else if (explicit_choice && w->p->chosen < 0) {
		w->p->explicit_failed = (int)(c - w->p->cands) + 1;
		if (!w->o->check_all)
			w->done = 1;
	}
	return 0;
}

static int add_unset(struct walk *w, const char *source, const char *detail)
{
	struct py_candidate *c;

	if (w->done)
		return 0;
	c = add_cand(w->p, source, NULL, w->e);
	if (!c)
		return -1;
	c->verdict = PV_UNSET;
	fmt_trunc(c->detail, sizeof(c->detail), "%s", detail);
	return 0;
}

/* A venv or conda root: ROOT/bin/python3 then ROOT/bin/python. A root that
 * does not exist is one entry, not two. */
static int try_root(struct walk *w, const char *source, const char *root)
{
	char py3[PATH_MAX], py[PATH_MAX];
	struct stat st;

	if (w->done)
		return 0;
	path_join(py3, sizeof(py3), root, "bin/python3");
	path_join(py, sizeof(py), root, "bin/python");
	int st_ok = stat(root, &st) == 0;

	if (seen_path(w->p, py3))
		return 0;
	if (!st_ok || !S_ISDIR(st.st_mode)) {
		if (seen_path(w->p, root))
			return 0;
		int exists = st_ok || (errno != ENOENT && errno != ENOTDIR && errno != EACCES &&
				       errno != ELOOP);
		struct py_candidate *c = add_cand(w->p, source, root, w->e);

		if (!c)
			return -1;
		if (exists) {
			c->verdict = PV_NOT_FILE;
			fmt_trunc(c->detail, sizeof(c->detail), "not a directory");
		} else {
			(void)static_check(c); /* cannot pass: stat failed */
			if (c->verdict == PV_MISSING && !c->detail[0])
				fmt_trunc(c->detail, sizeof(c->detail), "no such directory");
		}
		return 0;
	}
	if (try_path(w, source, py3, 0) < 0)
		return -1;
	return try_path(w, source, py, 0);
}

static int try_on_path(struct walk *w, const char *name)
{
	char found[PATH_MAX];
	int r = resolve_on_path(name, getenv("PATH"), found, sizeof(found));
	struct py_candidate *c;

	if (w->done)
		return 0;
	if (r == 0 || found[0])
		return try_path(w, "PATH", found, 0);
	c = add_cand(w->p, "PATH", name, w->e);
	if (!c)
		return -1;
	c->verdict = PV_NOT_FOUND;
	fmt_trunc(c->detail, sizeof(c->detail), "no %s in any $PATH directory", name);
	return 0;
}

static void explain_failure(struct python_plan *p, const struct python_opts *o)
{
	const char *pp = env_nonempty("PYTHON_PATH");
	struct stat st;
	size_t n = 0;
	int perm = -1, dangling = -1, other = -1;

	if (p->explicit_failed) {
		const struct py_candidate *c = &p->cands[p->explicit_failed - 1];
		char desc[1024];
		int is_env = strcmp(c->source, "PYTHON_PATH") == 0;

		py_candidate_describe(c, desc, sizeof(desc));
		fmt_trunc(p->error, sizeof(p->error),
			  "%s%s=%s is broken (%s); no fallback is tried", is_env ? "$" : "",
			  is_env ? "PYTHON_PATH" : "config python", c->path, desc);
		if (is_env && (strchr(pp, ':') || (stat(pp, &st) == 0 && S_ISDIR(st.st_mode)))) {
			char guess[PATH_MAX];

			path_join(guess, sizeof(guess), pp, "bin/python3");
			int guess_ok = access(guess, X_OK) == 0;

			n += (size_t)snprintf(
			    p->hint, sizeof(p->hint),
			    "PYTHON_PATH must name the interpreter file, %s%s%s%s. PYTHONPATH (no "
			    "underscore) is Python's module search path, a different variable.",
			    strchr(pp, ':') ? "one path, not a colon-separated list"
					    : "not a directory",
			    guess_ok ? " (did you mean " : "", guess_ok ? guess : "",
			    guess_ok ? "?)" : "");
		} else {
			n += (size_t)snprintf(p->hint, sizeof(p->hint), "fix or unset %s.",
					      is_env ? "PYTHON_PATH" : "`python =` in the config");
		}
		if (p->fallback >= 0 && n < sizeof(p->hint))
			fmt_trunc(p->hint + n, sizeof(p->hint) - n,
				  " Without it, %s (%s, Python %s) would be used.",
				  p->cands[p->fallback].path, p->cands[p->fallback].source,
				  p->cands[p->fallback].version);
		return;
	}
	fmt_trunc(p->error, sizeof(p->error), "no working Python among %zu candidates", p->ncands);
	for (size_t i = 0; i < p->ncands; i++) {
		enum py_verdict v = p->cands[i].verdict;

		if (v == PV_PERM && perm < 0)
			perm = (int)i;
		else if (v == PV_DANGLING && dangling < 0)
			dangling = (int)i;
		else if (v != PV_UNSET && v != PV_MISSING && v != PV_NOT_FOUND && v != PV_PERM &&
			 v != PV_DANGLING && other < 0)
			other = (int)i;
	}
	if (perm >= 0)
		n += (size_t)snprintf(
		    p->hint + n, sizeof(p->hint) - n,
		    "%s is not usable by the service user: create the venv as that user "
		    "(USER before RUN in the Dockerfile) or chown it; a uv-managed Python under "
		    "/root stays unreachable (set UV_PYTHON_INSTALL_DIR to a shared path). ",
		    p->cands[perm].path);
	if (dangling >= 0 && n < sizeof(p->hint))
		n += (size_t)snprintf(p->hint + n, sizeof(p->hint) - n,
				      "%s points to a Python that is not in this image: venvs are "
				      "not relocatable; create the venv in the final stage. ",
				      p->cands[dangling].path);
	if (other >= 0 && n < sizeof(p->hint))
		n += (size_t)snprintf(p->hint + n, sizeof(p->hint) - n,
				      "%s does not run (see its verdict). ", p->cands[other].path);
	if (n < sizeof(p->hint))
		fmt_trunc(p->hint + n, sizeof(p->hint) - n,
			  "Install Python 3 in the image (e.g. apt-get install python3, or a "
			  "python:3 base image), or set PYTHON_PATH to a working interpreter.");
	(void)o;
}

/* 2. The config's `python =` (explicit when set): a path, or a name looked
 * up on $PATH. */
static int walk_config(struct walk *w)
{
	const char *v;
	char buf[PATH_MAX];

	v = w->o->conf_python && w->o->conf_python[0] && strcmp(w->o->conf_python, "auto") != 0
		? w->o->conf_python
		: NULL;
	if (!v) {
		if (add_unset(w, "config", "auto"))
			return -1;
	} else if (!strchr(v, '/')) {
		int r = resolve_on_path(v, getenv("PATH"), buf, sizeof(buf));

		if (r == 0 || buf[0]) {
			if (try_path(w, "config", buf, 1))
				return -1;
		} else if (!w->done) {
			struct py_candidate *c = add_cand(w->p, "config", v, w->e);

			if (!c)
				return -1;
			c->verdict = PV_NOT_FOUND;
			fmt_trunc(c->detail, sizeof(c->detail), "no %s in any $PATH directory", v);
			if (w->p->chosen < 0) {
				w->p->explicit_failed = (int)w->p->ncands;
				w->done = !w->o->check_all;
			}
		}
	} else if (try_path(w, "config", v, 1)) {
		return -1;
	}
	return 0;
}

/* 3. Virtual environments and conda. */
static int walk_venvs(struct walk *w)
{
	const char *v;
	char buf[PATH_MAX];

	v = env_nonempty("VIRTUAL_ENV");
	if (!v ? add_unset(w, "VIRTUAL_ENV", "") : try_root(w, "VIRTUAL_ENV", v))
		return -1;
	v = env_nonempty("UV_PROJECT_ENVIRONMENT");
	if (!v ? add_unset(w, "UV_PROJECT_ENVIRONMENT", "")
	       : try_root(w, "UV_PROJECT_ENVIRONMENT", v))
		return -1;
	for (char *const *d = w->o->app_dirs; d && *d; d++) {
		path_join(buf, sizeof(buf), *d, ".venv");
		if (try_root(w, "venv", buf))
			return -1;
		path_join(buf, sizeof(buf), *d, "venv");
		if (try_root(w, "venv", buf))
			return -1;
	}
	v = env_nonempty("HOME");
	if (v) {
		path_join(buf, sizeof(buf), v, ".venv");
		if (try_root(w, "venv", buf))
			return -1;
	}
	if (try_root(w, "venv", "/opt/venv"))
		return -1;
	v = env_nonempty("CONDA_PREFIX");
	if (!v ? add_unset(w, "CONDA_PREFIX", "") : try_root(w, "conda", v))
		return -1;
	if (try_root(w, "conda", "/opt/conda"))
		return -1;
	return 0;
}

int resolve_python(const struct python_opts *o, struct python_plan *p, struct err *e)
{
	struct walk w = {.o = o, .p = p, .e = e};
	const char *v;

	memset(p, 0, sizeof(*p));
	p->chosen = -1;
	p->fallback = -1;
	/* 1. $PYTHON_PATH: explicit */
	v = env_nonempty("PYTHON_PATH");
	if (!v ? add_unset(&w, "PYTHON_PATH", "") : try_path(&w, "PYTHON_PATH", v, 1))
		goto fail;
	if (walk_config(&w) || walk_venvs(&w))
		goto fail;
	/* 4. $PATH, 5. system locations */
	if (try_on_path(&w, "python3") || try_on_path(&w, "python"))
		goto fail;
	if (try_path(&w, "system", "/usr/local/bin/python3", 0) ||
	    try_path(&w, "system", "/usr/bin/python3", 0))
		goto fail;
	if (p->explicit_failed)
		p->chosen = -1;
	if (p->chosen < 0)
		explain_failure(p, o);
	return 0;
fail:
	python_plan_free(p);
	return -1;
}

void python_plan_free(struct python_plan *p)
{
	free(p->cands);
	p->cands = NULL;
	p->ncands = 0;
}

int resolve_wants_unbuffered(char *const *service_env)
{
	static const char name[] = "PYTHONUNBUFFERED=";

	for (char *const *v = service_env; v && *v; v++)
		if (strncmp(*v, name, sizeof(name) - 1) == 0)
			return 0;
	return 1;
}
