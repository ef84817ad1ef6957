#include "plan/statusdir.h"
#include "base/strv.h"
#include "base/fmt.h"
#include "plan/safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prove that files can be created in the dir open at fd: create and remove
 * a temp file, relative to the fd (nothing is written through a link). */
static int try_write(int fd, char *why, size_t whysz)
{
	char tmp[32];
	int f = -1;

	fmt_trunc(tmp, sizeof(tmp), ".hfinit-check-%ld", (long)getpid());
	for (int tries = 0; tries < 2 && f < 0; tries++) {
		f = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		/* one left by a crash (as PID 1 the name repeats): remove the entry */
		if (f < 0 && (errno != EEXIST || unlinkat(fd, tmp, 0) != 0))
			break;
	}
	if (f < 0) {
		fmt_trunc(why, whysz, "cannot create files in it: %s", strerror(errno));
		return 0;
	}
	(void)close(f); /* empty, never written */
	if (unlinkat(fd, tmp, 0) != 0) {
		fmt_trunc(why, whysz, "cannot remove files in it: %s", strerror(errno));
		return 0;
	}
	return 1;
}

int statusdir_open(const char *path, int explicit_choice, char *why, size_t whysz)
{
	const char *name;
	int fd, pfd;

	if (explicit_choice) {
		/* the operator's path: links in it are followed */
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			fmt_trunc(why, whysz, "cannot create it: %s", strerror(errno));
			return -1;
		}
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			fmt_trunc(why, whysz, "%s",
				  errno == ENOTDIR ? "exists and is not a directory"
						   : strerror(errno));
			return -1;
		}
	} else {
		/* an automatic one may sit in world-writable /tmp: no link is
		 * followed and no dir of a third uid adopted */
		pfd = safedir_parent(path, &name, why, whysz);
		if (pfd < 0)
			return -1;
		fd = safedir_openat(pfd, name, 0755, geteuid(), getegid(), why, whysz);
		(void)close(pfd); /* O_RDONLY directory */
		if (fd < 0)
			return -1;
	}
	if (!try_write(fd, why, whysz)) {
		(void)close(fd); /* O_RDONLY directory */
		return -1;
	}
	return fd;
}

static void consider(struct statusdir *sd, const char *path, const char *source, int create)
{
	struct statusdir_try *t = &sd->tried[sd->ntried++];
	struct stat st;
	char parent[PATH_MAX];
	char *slash;

	memset(t, 0, sizeof(*t));
	t->source = source;
	if (snprintf(t->path, sizeof(t->path), "%s", path) >= (int)sizeof(t->path)) {
		fmt_trunc(t->why, sizeof(t->why), "path too long");
		return;
	}
	if (path[0] != '/') {
		fmt_trunc(t->why, sizeof(t->why), "not an absolute path");
		return;
	}
	if (create) {
		sd->dirfd = statusdir_open(path, sd->explicit_choice, t->why, sizeof(t->why));
		t->exists = t->usable = sd->dirfd >= 0;
		return;
	}
	/* Check mode creates nothing. An automatic dir is refused when it is
	 * a symlink, as a start would refuse it. */
	if ((sd->explicit_choice ? stat(path, &st) : lstat(path, &st)) == 0) {
		t->exists = 1;
		if (!S_ISDIR(st.st_mode)) {
			fmt_trunc(t->why, sizeof(t->why), "%s",
				  S_ISLNK(st.st_mode) ? "a symlink (refused)"
						      : "exists and is not a directory");
			return;
		}
		if (access(path, W_OK | X_OK) != 0) {
			fmt_trunc(t->why, sizeof(t->why), "cannot create files in it: %s",
				  strerror(errno));
			return;
		}
		t->usable = 1;
		return;
	}
	if (errno != ENOENT) {
		fmt_trunc(t->why, sizeof(t->why), "%s", strerror(errno));
		return;
	}
	/* The parent must let us create it. */
	fmt_trunc(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fmt_trunc(t->why, sizeof(t->why), "missing, and so is its parent %s", parent);
		return;
	}
	if (access(parent, W_OK | X_OK) != 0) {
		fmt_trunc(t->why, sizeof(t->why), "missing, and %s is not writable: %s", parent,
			  strerror(errno));
		return;
	}
	t->usable = 1;
}

/* The automatic candidates, in order: the one table of the writer (the first
 * usable) and of the readers (the first holding a status.json). */
static const struct {
	const char *env; /* NULL: path is the whole path; else it follows $env */
	const char *path;
	const char *source;
} auto_dirs[STATUSDIR_MAX_AUTO] = {
    {NULL, "/run/hfinit", "default"},
    {"XDG_RUNTIME_DIR", "/hfinit", "XDG_RUNTIME_DIR"},
    {NULL, "/tmp/hfinit", "default"},
};

int statusdir_auto(struct statusdir_cand c[STATUSDIR_MAX_AUTO])
{
	int n = 0;

	for (size_t i = 0; i < sizeof(auto_dirs) / sizeof(auto_dirs[0]); i++) {
		const char *base = auto_dirs[i].env ? env_nonempty(auto_dirs[i].env) : "";
		if (!base)
			continue; /* a variable that is not set: no candidate */
		fmt_trunc(c[n].path, sizeof(c[n].path), "%s%s", base, auto_dirs[i].path);
		c[n++].source = auto_dirs[i].source;
	}
	return n;
}

int statusdir_choose(struct statusdir *sd, const char *conf, int create, struct err *e)
{
	const char *env = env_nonempty("HFINIT_STATUS_DIR");
	struct statusdir_cand c[STATUSDIR_MAX_AUTO];
	int nc;

	memset(sd, 0, sizeof(*sd));
	sd->chosen = -1;
	sd->dirfd = -1;
	if (conf && (conf[0] == '\0' || strcmp(conf, "auto") == 0))
		conf = NULL;
	if (env || conf) {
		sd->explicit_choice = 1;
		consider(sd, env ? env : conf, env ? "HFINIT_STATUS_DIR" : "config", create);
		if (sd->tried[0].usable) {
			sd->chosen = 0;
			return 0;
		}
		return err_set(e, 0, "status dir %s (from %s) is unusable: %s", sd->tried[0].path,
			       sd->tried[0].source, sd->tried[0].why);
	}
	nc = statusdir_auto(c);
	for (int i = 0; i < nc; i++) {
		consider(sd, c[i].path, c[i].source, create);
		if (sd->tried[i].usable) {
			sd->chosen = i;
			return 0;
		}
	}
	err_set(e, 0, "no usable status dir:");
	for (int i = 0; e && i < sd->ntried; i++)
		fmt_trunc(e->msg + strlen(e->msg), sizeof(e->msg) - strlen(e->msg), " %s (%s)%s",
			  sd->tried[i].path, sd->tried[i].why, i + 1 < sd->ntried ? ";" : "");
	return -1;
}

int statusdir_find(const char *opt, const char *conf, char *dir, size_t n, char *looked, size_t ln)
{
	const char *env = env_nonempty("HFINIT_STATUS_DIR");
	struct statusdir_cand c[STATUSDIR_MAX_AUTO];
	int nc;

	if (conf && (conf[0] == '\0' || strcmp(conf, "auto") == 0))
		conf = NULL;
	if (opt || env || conf) {
		fmt_trunc(dir, n, "%s", opt ? opt : env ? env : conf);
		fmt_trunc(looked, ln, "%s", dir);
		return 0;
	}
	nc = statusdir_auto(c);
	looked[0] = '\0';
	for (int i = 0; i < nc; i++) {
		char f[PATH_MAX + 16];
		size_t used = strlen(looked);
		fmt_trunc(f, sizeof(f), "%s/status.json", c[i].path);
		if (access(f, F_OK) == 0) {
			fmt_trunc(dir, n, "%s", c[i].path);
			return 0;
		}
		fmt_trunc(looked + used, ln - used, "%s%s", i ? ", " : "", c[i].path);
	}
	return -1;
}

const char *statusdir_path(const struct statusdir *sd)
{
	return sd->chosen >= 0 ? sd->tried[sd->chosen].path : NULL;
}
