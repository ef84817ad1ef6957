#include "plan/script.h"

#include "base/strv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- small helpers ------------------------------------------------------------ */

/* Join dir and rel into out with one '/', dropping a "./" prefix of rel. */
void path_join(char *out, size_t n, const char *dir, const char *rel)
{
	size_t dl = strlen(dir);

	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if (dl == 1 && dir[0] == '/')
		dl = 0;
	fmt_trunc(out, n, "%.*s/%s", (int)dl, dir, rel);
}

/* First directory on the way to path (its real path when it resolves) that
 * `as` cannot enter, described into buf; 0 if none found. */
int path_blocked_dir(const char *path, const struct runas *as, char *buf, size_t n)
{
	char real[PATH_MAX], dir[PATH_MAX];
	const char *p = realpath(path, real) ? real : path;
	size_t len = strlen(p);

	if (p[0] != '/')
		return 0;
	/* "/" first (a chroot's root may be 0700), then each prefix. */
	for (size_t i = 0; i <= len; i++) {
		struct stat st;

		if (i > 0 && p[i] != '/' && p[i] != '\0')
			continue;
		if (i >= sizeof(dir) || (i == 1 && p[i] == '\0'))
			return 0;
		memcpy(dir, p, i ? i : 1);
		dir[i ? i : 1] = '\0';
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			return 0;
		if (access_as(as, dir, X_OK, NULL) > 0) {
			fmt_trunc(buf, n, "%s (mode %04o, owner uid %u) cannot be entered", dir,
				  (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
			return 1;
		}
	}
	return 0;
}

/* --- PATH ---------------------------------------------------------------------- */

int resolve_on_path(const char *name, const char *path_env, char *out, size_t outsz)
{
	const char *p = path_env, *colon;
	int first_err = ENOENT;

	out[0] = '\0';
	if (strchr(name, '/')) {
		struct stat st;

		fmt_trunc(out, outsz, "%s", name);
		if (stat(name, &st) != 0)
			return errno;
		return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 0 : EACCES;
	}
	if (!p)
		p = "/usr/local/bin:/bin:/usr/bin";
	for (; *p; p = colon ? colon + 1 : p + strlen(p)) {
		char cand[PATH_MAX];
		size_t len;
		struct stat st, lst;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		if (len == 0 || len + strlen(name) + 2 > sizeof(cand))
			continue; /* an empty entry would mean the working directory: skipped */
		fmt_trunc(cand, sizeof(cand), "%.*s/%s", (int)len, p, name);
		if (lstat(cand, &lst) != 0)
			continue;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			fmt_trunc(out, outsz, "%s", cand);
			return 0;
		}
		if (first_err == ENOENT) {
			first_err = EACCES;
			fmt_trunc(out, outsz, "%s", cand);
		}
		if (!colon)
			break;
	}
	return first_err;
}

/* --- app dirs ------------------------------------------------------------------- */

/* Append a copy of s unless *v has it already. */
static int push_unique(char ***v, size_t *n, const char *s)
{
	char *dup;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	dup = strdup(s);
	return dup ? strv_push(v, n, dup) : -1;
}

/* Absolute, without trailing "/" or "/." (except "/"). */
static void absolutise(const char *dir, const char *cwd, char *out, size_t n)
{
	size_t len;

	if (dir[0] == '/')
		fmt_trunc(out, n, "%s", dir);
	else if (strcmp(dir, ".") == 0)
		fmt_trunc(out, n, "%s", cwd);
	else
		path_join(out, n, cwd, dir);
	len = strlen(out);
	for (;;) {
		if (len > 1 && out[len - 1] == '/')
			out[--len] = '\0';
		else if (len > 2 && out[len - 1] == '.' && out[len - 2] == '/')
			out[len -= 2] = '\0';
		else
			break;
	}
	if (len == 0)
		fmt_trunc(out, n, "/");
}

int resolve_app_dirs(char *const *conf, char ***out, struct err *e)
{
	char cwd[PATH_MAX], buf[PATH_MAX], joined[PATH_MAX];
	char **v = NULL;
	size_t n = 0;
	const char *s;

	if (!getcwd(cwd, sizeof(cwd)))
		return err_sys(e, "getcwd");
	if (conf) {
		for (; *conf; conf++) {
			absolutise(*conf, cwd, buf, sizeof(buf));
			if (push_unique(&v, &n, buf))
				goto oom;
		}
	} else {
		if ((s = env_nonempty("APP_DIR"))) {
			absolutise(s, cwd, buf, sizeof(buf));
			if (push_unique(&v, &n, buf))
				goto oom;
		}
		if (push_unique(&v, &n, "/app"))
			goto oom;
		if ((s = env_nonempty("HOME"))) {
			path_join(joined, sizeof(joined), s, "app");
			absolutise(joined, cwd, buf, sizeof(buf));
			if (push_unique(&v, &n, buf))
				goto oom;
		}
		if (push_unique(&v, &n, cwd))
			goto oom;
	}
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			goto oom;
	}
	*out = v;
	return 0;
oom:
	strv_free(v);
	return err_sys(e, "app dirs");
}

/* --- scripts -------------------------------------------------------------------- */

const char *script_verdict_name(enum script_verdict v)
{
	switch (v) {
	case SV_OK:
		return "ok";
	case SV_MISSING:
		return "missing";
	case SV_DANGLING:
		return "dangling link";
	case SV_NOT_FILE:
		return "not a file";
	case SV_NOT_READABLE:
		return "not readable";
	}
	return "?";
}

static int script_try(struct script_plan *p, const char *path, const struct runas *as,
		      struct err *e)
{
	struct script_try *t, *nt;
	struct stat st, lst;
	int r;

	for (size_t i = 0; i < p->ntried; i++)
		if (strcmp(p->tried[i].path, path) == 0)
			return 0;
	nt = realloc(p->tried, (p->ntried + 1) * sizeof(*p->tried));
	if (!nt)
		return err_sys(e, "resolve script");
	p->tried = nt;
	t = &p->tried[p->ntried++];
	memset(t, 0, sizeof(*t));
	fmt_trunc(t->path, sizeof(t->path), "%s", path);
	if (lstat(path, &lst) != 0) {
		if (errno == EACCES) {
			t->verdict = SV_NOT_READABLE;
			fmt_trunc(t->detail, sizeof(t->detail),
				  "a directory on the way cannot be entered");
		} else {
			t->verdict = SV_MISSING;
		}
		return 0;
	}
	if (stat(path, &st) != 0) {
		t->verdict = S_ISLNK(lst.st_mode) && errno == ENOENT ? SV_DANGLING : SV_MISSING;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		t->verdict = SV_NOT_FILE;
		fmt_trunc(t->detail, sizeof(t->detail), "%s",
			  S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		return 0;
	}
	r = access_as(as, path, R_OK, e);
	if (r < 0)
		return -1;
	if (r != 0) {
		char blocked[PATH_MAX + 64];

		t->verdict = SV_NOT_READABLE;
		if (path_blocked_dir(path, as, blocked, sizeof(blocked)))
			fmt_trunc(t->detail, sizeof(t->detail), "%s", blocked);
		else
			fmt_trunc(t->detail, sizeof(t->detail), "mode %04o, owner uid %u%s",
				  (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
				  as && as->switch_ids ? " (checked as the service user)" : "");
		return 0;
	}
	t->verdict = SV_OK;
	p->found = 1;
	fmt_trunc(p->path, sizeof(p->path), "%s", path);
	return 0;
}

int resolve_script(const char *script, char *const *app_dirs, const struct runas *as,
		   struct script_plan *p, struct err *e)
{
	static const char *const variants[] = {"", "dist/", "src/"};
	char sub[PATH_MAX], full[PATH_MAX];

	memset(p, 0, sizeof(*p));
	if (script[0] == '/') {
		if (script_try(p, script, as, e))
			goto fail;
		return 0;
	}
	while (script[0] == '.' && script[1] == '/')
		script += 2;
	for (char *const *d = app_dirs; d && *d && !p->found; d++) {
		for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]) && !p->found; i++) {
			fmt_trunc(sub, sizeof(sub), "%s%s", variants[i], script);
			path_join(full, sizeof(full), *d, sub);
			if (script_try(p, full, as, e))
				goto fail;
		}
	}
	return 0;
fail:
	script_plan_free(p);
	return -1;
}

void script_plan_free(struct script_plan *p)
{
	free(p->tried);
	p->tried = NULL;
	p->ntried = 0;
}
