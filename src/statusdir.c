#include "statusdir.h"
#include "runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prove that files can be created in dir: create and remove a temp file. */
static int try_write(const char *dir, char *why, size_t whysz)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s/.hfinit-check-XXXXXX", dir) >= (int)sizeof(tmp)) {
		fmt_trunc(why, whysz, "path too long");
		return 0;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fmt_trunc(why, whysz, "cannot create files in it: %s", strerror(errno));
		return 0;
	}
	close(fd);
	if (unlink(tmp) != 0) {
		fmt_trunc(why, whysz, "cannot remove files in it: %s", strerror(errno));
		return 0;
	}
	return 1;
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
	if (stat(path, &st) == 0) {
		t->exists = 1;
		if (!S_ISDIR(st.st_mode)) {
			fmt_trunc(t->why, sizeof(t->why), "exists and is not a directory");
			return;
		}
		t->usable = try_write(path, t->why, sizeof(t->why));
		return;
	}
	if (errno != ENOENT) {
		fmt_trunc(t->why, sizeof(t->why), "%s", strerror(errno));
		return;
	}
	if (create) {
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			fmt_trunc(t->why, sizeof(t->why), "cannot create it: %s", strerror(errno));
			return;
		}
		t->exists = 1;
		t->usable = try_write(path, t->why, sizeof(t->why));
		return;
	}
	/* Check mode creates nothing: the parent must let us create it. */
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

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

int statusdir_choose(struct statusdir *sd, const char *conf, int create, struct err *e)
{
	const char *env = env_nonempty("HFINIT_STATUS_DIR");
	const char *xdg = env_nonempty("XDG_RUNTIME_DIR");
	char buf[PATH_MAX];

	memset(sd, 0, sizeof(*sd));
	sd->chosen = -1;
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
	consider(sd, "/run/hfinit", "default", create);
	if (!sd->tried[sd->ntried - 1].usable && xdg) {
		fmt_trunc(buf, sizeof(buf), "%s/hfinit", xdg);
		consider(sd, buf, "XDG_RUNTIME_DIR", create);
	}
	if (!sd->tried[sd->ntried - 1].usable)
		consider(sd, "/tmp/hfinit", "default", create);
	if (sd->tried[sd->ntried - 1].usable) {
		sd->chosen = sd->ntried - 1;
		return 0;
	}
	return err_set(e, 0,
		       "no usable status dir (/run/hfinit, $XDG_RUNTIME_DIR/hfinit, "
		       "/tmp/hfinit all rejected)");
}

const char *statusdir_path(const struct statusdir *sd)
{
	return sd->chosen >= 0 ? sd->tried[sd->chosen].path : NULL;
}
