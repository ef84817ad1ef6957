/* Choosing the status directory: $HFINIT_STATUS_DIR, else `status_dir =` from
 * the config when it is a path, else the first usable of /run/hfinit,
 * $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit. An explicit choice (the variable or
 * the config) that is unusable is an error, with no fallback. Every rejected
 * candidate is kept with its reason for `hfinit check`. */
#ifndef HFINIT_STATUSDIR_H
#define HFINIT_STATUSDIR_H

#include "base/err.h"

#include <limits.h>
#include <stddef.h>

#define STATUSDIR_MAX_TRIES 5
#define STATUSDIR_MAX_AUTO  3 /* automatic candidates */
/* Room for the list of dirs statusdir_find looked in. */
#define STATUSDIR_LOOKED_MAX (STATUSDIR_MAX_AUTO * (PATH_MAX + 2))

/* One automatic candidate. */
struct statusdir_cand {
	char path[PATH_MAX];
	const char *source; /* "default", "XDG_RUNTIME_DIR" */
};

struct statusdir_try {
	char path[PATH_MAX];
	const char *source; /* "HFINIT_STATUS_DIR", "config", "default", "XDG_RUNTIME_DIR" */
	int usable;
	int exists;    /* the directory exists (else it would be created) */
	char why[256]; /* reason when not usable */
};

struct statusdir {
	int chosen;	     /* index into tried, -1 when none is usable */
	int explicit_choice; /* the chosen/failed one came from the env or config */
	struct statusdir_try tried[STATUSDIR_MAX_TRIES];
	int ntried;
	int dirfd; /* create: the chosen dir, open (the caller's to close); else -1 */
};

/* conf: the config's status_dir (NULL or "auto" for automatic).
 * create: create the chosen directory (mode 0755) when missing and open it
 * (sd->dirfd); without it (check mode) nothing is created or written, and a
 * missing directory is usable when its parent is writable.
 * Returns 0 with sd->chosen >= 0, or -1 with e explaining every rejection. */
int statusdir_choose(struct statusdir *sd, const char *conf, int create, struct err *e);
/* Create (0755) and open one candidate, and prove files can be made in it.
 * explicit_choice: the operator's path, links followed; else an automatic
 * one, through safedir.h (no link followed, no dir of a third uid, nothing
 * written before it is checked). The fd, or -1 with why. */
int statusdir_open(const char *path, int explicit_choice, char *why, size_t whysz);
const char *statusdir_path(const struct statusdir *sd);
/* The automatic candidates for this environment, in order: /run/hfinit,
 * $XDG_RUNTIME_DIR/hfinit (when set and non-empty), /tmp/hfinit. The one
 * table of the writer (statusdir_choose) and of the readers (statusdir_find).
 * Returns how many were filled. */
int statusdir_auto(struct statusdir_cand c[STATUSDIR_MAX_AUTO]);
/* Where `hfinit status/health` look: opt (-d DIR), else $HFINIT_STATUS_DIR,
 * else conf (the status_dir of a config given with -c FILE; NULL or "auto":
 * none), else the first automatic candidate holding a status.json: the
 * writer's order. 0 with dir filled, or -1 with `looked` listing the dirs
 * tried (STATUSDIR_LOOKED_MAX bytes hold any list). */
int statusdir_find(const char *opt, const char *conf, char *dir, size_t n, char *looked, size_t ln);

#endif
