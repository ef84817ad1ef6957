/* The recursive inotify watch of Dev Mode (watch.h). Directories are kept in
 * one array; a directory added is scanned for its subdirectories breadth
 * first through the array itself (no recursion, one path buffer). Several
 * entries may share a watch descriptor (two services watching one tree, a
 * file and its directory): an event goes to each. */
#include "run/watch.h"

#include "base/fdio.h"
#include "base/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

char *const watch_default_ignore[] = {"__pycache__", ".git", "*.swp", "*~", ".#*", NULL};

/* What is a change: a file written and closed, or moved, created, removed,
 * touched (not IN_MODIFY: one per write). */
#define WATCH_CHANGE                                                                               \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)

/* A [set] at *pp (past the '['), ranges and ! or ^ included: 1 or 0 with *pp
 * past the ']', or -1 when there is no ']' (then '[' is a plain character). */
static int set_match(const char **pp, char c)
{
	const char *p = *pp;
	bool neg = *p == '!' || *p == '^', hit = false;

	p += neg;
	do { /* a ']' first is in the set */
		if (!*p)
			return -1;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hit |= c >= p[0] && c <= p[2];
			p += 3;
		} else {
			hit |= *p++ == c;
		}
	} while (*p != ']');
	*pp = p + 1;
	return hit != neg;
}

/* fnmatch(g, s, 0) without escapes, in a few hundred bytes (musl's fnmatch
 * brings its wide-character tables along): *, ? and [set]. */
bool watch_glob(const char *g, const char *s)
{
	const char *star = NULL, *resume = s;

	while (*s) {
		const char *next = g + 1;
		int m;
		if (*g == '*') {
			star = ++g;
			resume = s;
			continue;
		}
		m = *g == '?' ? 1 : *g == '[' ? set_match(&next, *s) : -1;
		if (m < 0)
			m = *g && *g == *s;
		if (m) {
			g = next;
			s++;
		} else if (star) {
			g = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*g == '*')
		g++;
	return !*g;
}

bool watch_ignored(const char *name, char *const *globs)
{
	for (; globs && *globs; globs++)
		if (watch_glob(*globs, name))
			return true;
	return false;
}

int watch_join(char *buf, size_t n, const char *dir, const char *name)
{
	int r = *name
		    ? snprintf(buf, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name)
		    : snprintf(buf, n, "%s", dir);

	return r < 0 || (size_t)r >= n ? -1 : 0;
}

bool watch_changes(uint32_t mask)
{
	return (mask & (WATCH_CHANGE | IN_Q_OVERFLOW)) != 0;
}

void watcher_init(struct watcher *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->add = inotify_add_watch;
}

/* A limit reached (sysctl: the kernel's, NULL: hfinit's own bound), said
 * once per hfinit with the value in force. */
static void limit_warn(struct watcher *w, const char *path, const char *sysctl, const char *what)
{
	char file[64], *v = NULL, val[96] = "";

	if (w->warned)
		return;
	w->warned = true;
	snprintf(file, sizeof(file), "/proc/sys/fs/inotify/%s", sysctl ? sysctl : "");
	if (sysctl && read_file_at(AT_FDCWD, file, &v, NULL, 32) == 0)
		v[strcspn(v, "\n")] = '\0';
	if (sysctl)
		snprintf(val, sizeof(val),
			 " (fs.inotify.%s = %s; raise it on the host with sysctl)", sysctl,
			 v ? v : "?");
	log_warn("watch: %s: %s%s: the rest is not watched; add big directories to watch_ignore",
		 path, what, val);
	free(v);
}

int watcher_open(struct watcher *w)
{
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0)
		return 0;
	if (errno == EMFILE)
		limit_warn(w, "inotify_init1", "max_user_instances",
			   "the inotify instance limit (or hfinit's open files limit) is reached");
	else
		log_errno(LOG_LVL_WARN, errno, "watch: inotify_init1: nothing is watched");
	return -1;
}

static int dir_add(struct watcher *w, const struct watch_dir *like, const char *path,
		   unsigned depth)
{
	/* a watched path that is a link was named: it is followed, nothing below */
	uint32_t mask = WATCH_CHANGE | IN_ONLYDIR | (depth ? IN_DONT_FOLLOW : 0);
	struct watch_dir *d;
	int wd;

	if (w->n >= WATCH_MAX_DIRS) {
		limit_warn(w, path, NULL, "more than 16384 directories");
		return -1;
	}
	if ((wd = w->add(w->fd, path, mask)) < 0) {
		if (errno == ENOSPC)
			limit_warn(w, path, "max_user_watches",
				   "the inotify watch limit is reached");
		else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
			log_errno(LOG_LVL_WARN, errno, "watch: %s: not watched", path);
		return -1;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		void *p = realloc(w->dirs, cap * sizeof(*w->dirs));
		if (!p)
			return -1;
		w->dirs = p;
		w->cap = cap;
	}
	d = &w->dirs[w->n];
	*d = *like;
	d->wd = wd;
	d->depth = depth;
	d->path = strdup(path);
	d->only = like->only ? strdup(like->only) : NULL;
	if (!d->path || (like->only && !d->only)) {
		free(d->path);
		free(d->only);
		return -1;
	}
	w->n++;
	return 0;
}

/* The subdirectories of dirs[i] (not through a link, none ignored). */
static void dir_scan(struct watcher *w, size_t i)
{
	char path[PATH_MAX];
	int fd = open(w->dirs[i].path,
		      O_RDONLY | O_DIRECTORY | O_CLOEXEC | (w->dirs[i].depth ? O_NOFOLLOW : 0));
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!dir) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		struct watch_dir like = w->dirs[i];
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    watch_ignored(de->d_name, like.ignore))
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			de->d_type = DT_DIR;
		if (de->d_type != DT_DIR ||
		    watch_join(path, sizeof(path), like.path, de->d_name) < 0)
			continue;
		if (like.depth >= WATCH_MAX_DEPTH) {
			limit_warn(w, path, NULL, "deeper than 32 levels");
			continue;
		}
		(void)dir_add(w, &like, path, like.depth + 1);
	}
	(void)closedir(dir);
}

/* path and every directory below it, breadth first. */
static void tree_add(struct watcher *w, const struct watch_dir *like, const char *path,
		     unsigned depth)
{
	size_t i = w->n;

	if (dir_add(w, like, path, depth) < 0)
		return;
	for (; i < w->n; i++)
		dir_scan(w, i);
}

void watcher_add(struct watcher *w, void *owner, const char *path, char *const *ignore)
{
	struct watch_dir like = {-1, 0, NULL, NULL, owner, ignore};
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;

	if (w->fd < 0 || stat(path, &st) < 0)
		return; /* the planner warned */
	if (S_ISDIR(st.st_mode)) {
		tree_add(w, &like, path, 0);
		return;
	}
	/* A file: its directory, for its name only (a save by rename replaces it). */
	like.only = (char *)(slash ? slash + 1 : path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
		return;
	(void)dir_add(w, &like, dir[0] ? dir : "/", 0);
}

/* A directory moved away: it and everything watched below it (their
 * IN_IGNORED come later and find nothing). */
static void tree_drop(struct watcher *w, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < w->n; i++) {
		struct watch_dir *d = &w->dirs[i];
		if (d->wd >= 0 && strncmp(d->path, path, len) == 0 &&
		    (d->path[len] == '\0' || d->path[len] == '/')) {
			(void)inotify_rm_watch(w->fd, d->wd);
			d->wd = -1;
		}
	}
}

/* The entries dropped while an event was handled are freed after it. */
static void compact(struct watcher *w)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (w->dirs[i].wd >= 0) {
			w->dirs[k++] = w->dirs[i];
			continue;
		}
		free(w->dirs[i].path);
		free(w->dirs[i].only);
	}
	w->n = k;
}

static void watch_event(struct watcher *w, const struct inotify_event *ev, watch_fn fn, void *data)
{
	const char *name = ev->len ? ev->name : "";
	uint32_t m = ev->mask;
	char path[PATH_MAX];

	if (m & IN_Q_OVERFLOW) {
		fn(NULL, "(too many changes at once)", data);
		return;
	}
	for (size_t i = 0; i < w->n; i++) {
		struct watch_dir d = w->dirs[i]; /* dirs may move: tree_add reallocates */
		if (d.wd != ev->wd)
			continue;
		if (m & IN_IGNORED) { /* removed: a watched path itself is a change */
			w->dirs[i].wd = -1;
			if (d.depth == 0 && !d.only)
				fn(d.owner, d.path, data);
			continue;
		}
		if (d.only ? strcmp(name, d.only) != 0 : *name && watch_ignored(name, d.ignore))
			continue;
		if (watch_join(path, sizeof(path), d.path, name) < 0)
			continue;
		if (!d.only && (m & IN_ISDIR) && (m & IN_MOVED_FROM))
			tree_drop(w, path);
		if (!d.only && (m & IN_ISDIR) && (m & (IN_CREATE | IN_MOVED_TO))) {
			if (d.depth < WATCH_MAX_DEPTH)
				tree_add(w, &d, path, d.depth + 1);
			else
				limit_warn(w, path, NULL, "deeper than 32 levels");
		}
		if (watch_changes(m))
			fn(d.owner, path, data);
	}
	compact(w);
}

void watcher_read(struct watcher *w, watch_fn fn, void *data)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		for (char *p = buf; n > 0 && p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			p += sizeof(*ev) + ev->len;
			watch_event(w, ev, fn, data);
		}
}

void watcher_close(struct watcher *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->dirs[i].path);
		free(w->dirs[i].only);
	}
	free(w->dirs);
	if (w->fd >= 0)
		(void)close(w->fd);
	watcher_init(w);
}
