/* App dirs and scripts (docs/design.md, "Plan"), and the on-PATH lookup.
 *
 * Scripts: an absolute path as is; a relative one under each app dir D as
 * D/REL, D/dist/REL, D/src/REL (the "source tree" of D is D/src); the first
 * regular file the service's user can read wins. */
#ifndef HFINIT_SCRIPT_H
#define HFINIT_SCRIPT_H

#include "base/err.h"
#include "base/strv.h"
#include "run/runcmd.h"

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* App dirs: conf (NULL-terminated, NULL = defaults $APP_DIR, /app,
 * $HOME/app, the working directory), relative entries made absolute against
 * the working directory, duplicates removed. NULL-terminated, caller frees
 * with resolve_strv_free. 0 or -1 with e. */
int resolve_app_dirs(char *const *conf, char ***out, struct err *e);
void resolve_strv_free(char **v);

enum script_verdict { SV_OK, SV_MISSING, SV_DANGLING, SV_NOT_FILE, SV_NOT_READABLE };
const char *script_verdict_name(enum script_verdict v);

struct script_try {
	char path[PATH_MAX];
	enum script_verdict verdict;
	char detail[256];
};

struct script_plan {
	char path[PATH_MAX]; /* the chosen file when found */
	int found;
	struct script_try *tried; /* every path checked, the chosen one last */
	size_t ntried;
};

/* Resolve `script` for a service running as `as` (NULL: ourselves).
 * 0 with plan filled (found may be 0); -1 with e only on internal errors. */
int resolve_script(const char *script, char *const *app_dirs, const struct runas *as,
		   struct script_plan *plan, struct err *e);
void script_plan_free(struct script_plan *plan);

/* Look a command name up on path_env like execvp would: first regular file
 * with an execute bit. Names with '/' are checked as they are. 0 and out
 * filled, or an errno (ENOENT, EACCES) with out holding the first unusable
 * match (or ""). */
int resolve_on_path(const char *name, const char *path_env, char *out, size_t outsz);

/* Path helpers shared with the Python walk: dir/rel with one '/' (a "./"
 * prefix of rel dropped); the first directory on the way to path (its real
 * path when it resolves) that `as` cannot enter, described into buf (0 if
 * none). */
void path_join(char *out, size_t n, const char *dir, const char *rel);
int path_blocked_dir(const char *path, const struct runas *as, char *buf, size_t n);

#endif
