/* Dev Mode's file watch (docs/devmode.md): one inotify fd for every
 * service's `watch =` paths, each directory watched on its own, recursively;
 * new subdirectories are followed (watched and scanned, since files may be in
 * them before the watch is set), ignored names are never watched nor counted,
 * and a watched file is watched through its directory, so an editor that saves
 * by renaming over it is seen. Symbolic links inside a tree are not followed
 * (IN_DONT_FOLLOW, O_NOFOLLOW); the depth and the number of directories are
 * bounded. The inotify limits are warnings that name the sysctl, once: the
 * services run on, unwatched. Reads are turned into calls of a watch_fn; what
 * a change does is the supervisor's (sup/devwatch.c). */
#ifndef HFINIT_RUN_WATCH_H
#define HFINIT_RUN_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_MAX_DIRS	16384 /* directories watched by one hfinit */
#define WATCH_MAX_DEPTH 32    /* levels below a watched directory */

/* __pycache__ .git *.swp *~ .#* (watch_ignore's default) */
extern char *const watch_default_ignore[];

struct watch_dir {
	int wd;		     /* -1: dropped, freed at the end of the event */
	unsigned depth;	     /* 0: a watched path itself */
	char *path;	     /* absolute, as given or joined */
	char *only;	     /* a watched file: its name (points into path); NULL: every name */
	void *owner;	     /* the service */
	char *const *ignore; /* its globs */
};

struct watcher {
	int fd; /* the inotify fd, -1 when none */
	struct watch_dir *dirs;
	size_t n, cap;
	bool warned; /* a limit was reached and said */
	/* inotify_add_watch (the unit test injects its errors) */
	int (*add)(int fd, const char *path, uint32_t mask);
};

/* A change under owner's paths (NULL: any owner's, the queue overflowed). */
typedef void (*watch_fn)(void *owner, const char *path, void *data);

/* --- pure ----------------------------------------------------------------- */
/* s matches the glob g: * and ? (any name, leading dots too) and [set]. */
bool watch_glob(const char *g, const char *s);
/* name (one path component) matches one of the globs. */
bool watch_ignored(const char *name, char *const *globs);
/* dir/name into buf (dir alone when name is empty): 0, or -1 when too long. */
int watch_join(char *buf, size_t n, const char *dir, const char *name);
/* An event mask that is a change of content or of the tree. */
bool watch_changes(uint32_t mask);

/* --- inotify -------------------------------------------------------------- */
void watcher_init(struct watcher *w);
/* The inotify fd: 0, or -1 with the warning logged (the limit named). */
int watcher_open(struct watcher *w);
/* Watch path (a directory, recursively, or a file) for owner; what cannot be
 * watched is a warning (ENOSPC: the limit, once). */
void watcher_add(struct watcher *w, void *owner, const char *path, char *const *ignore);
/* Read what is queued (non-blocking) and call fn for each change. */
void watcher_read(struct watcher *w, watch_fn fn, void *data);
void watcher_close(struct watcher *w);

#endif
