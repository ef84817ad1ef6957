/* Python and script resolution (DESIGN.md §3): computed once at start into a
 * plan that does not change, with every candidate's verdict kept for
 * `hfinit check` and the status file.
 *
 * Python: the first candidate that works, executed as each user the Python
 * services run as, answering sys.executable and its version within a
 * timeout. $PYTHON_PATH and a configured `python =` are explicit choices:
 * broken, they are an error with no fallback.
 *
 * Scripts: an absolute path as is; a relative one under each app dir D as
 * D/REL, D/dist/REL, D/src/REL (the "source tree" of D is D/src); the first
 * regular file the service's user can read wins. */
#ifndef HFINIT_RESOLVE_H
#define HFINIT_RESOLVE_H

#include "base/err.h"
#include "run/runcmd.h"

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define RESOLVE_MAX_GROUPS	  64
#define PYTHON_DEFAULT_TIMEOUT_MS 10000

/* A user the services run as, with what switching to it needs. */
struct resolve_user {
	char name[64]; /* as configured ("app", "1000"), or "" for ourselves */
	struct runas as;
	gid_t groups[RESOLVE_MAX_GROUPS];
	char home[PATH_MAX]; /* passwd home, "" if unknown */
};

/* Look up `user` (name or number) and optional `group` (name or number; NULL:
 * the user's primary group). Supplementary groups from /etc/group. A numeric
 * uid without a passwd entry is accepted (primary group = gid given, or the
 * same number). 0, or -1 with e ("user app does not exist"). */
int resolve_user_lookup(const char *user, const char *group, struct resolve_user *u, struct err *e);
/* Ourselves, without an id switch. */
void resolve_user_self(struct resolve_user *u);

enum py_verdict {
	PV_UNSET,	/* variable unset / config auto: nothing to try */
	PV_MISSING,	/* no such file (or venv directory) */
	PV_DANGLING,	/* symlink to nothing */
	PV_NOT_FILE,	/* a directory or other non-regular file */
	PV_NOT_EXEC,	/* no execute permission bit */
	PV_PERM,	/* permission denied (for the user named in detail) */
	PV_EXEC_FAILED, /* execve failed otherwise (bad #!, wrong arch, ...) */
	PV_EXITED,	/* exited non-zero */
	PV_SIGNALED,	/* killed by a signal */
	PV_TIMEOUT,	/* did not answer within the timeout */
	PV_BAD_OUTPUT,	/* exited 0 but did not answer like Python */
	PV_TOO_OLD,	/* Python 2 */
	PV_NOT_FOUND,	/* not on $PATH */
	PV_OK,
};
const char *py_verdict_name(enum py_verdict v);

struct py_candidate {
	char source[32];     /* PYTHON_PATH config VIRTUAL_ENV UV_PROJECT_ENVIRONMENT venv conda
				PATH system */
	char path[PATH_MAX]; /* the file tried; the directory for a missing venv; "" if unset */
	enum py_verdict verdict;
	char detail[768]; /* human detail after the verdict ("-> /root/x", "1: No module...") */
	char version[32]; /* "3.11.7" when OK */
	char executable[PATH_MAX]; /* sys.executable as reported when OK */
	long elapsed_ms;
};

struct python_opts {
	const char *conf_python; /* config `python`: NULL or "auto", a path, or a name on PATH */
	int timeout_ms;		 /* per execution; <= 0: PYTHON_DEFAULT_TIMEOUT_MS */
	char *const *app_dirs;	 /* absolute, from resolve_app_dirs() */
	const struct resolve_user *users; /* verify as each; nusers 0: as ourselves */
	size_t nusers;
	int check_all; /* evaluate every candidate (check); else stop at the first OK */
};

struct python_plan {
	struct py_candidate *cands; /* in order tried */
	size_t ncands;
	int chosen;	     /* index, -1 when none works */
	int explicit_failed; /* PYTHON_PATH or config python set and broken */
	int fallback;	     /* check_all: index of the first working one after it, or -1 */
	/* Sized so that what is written fits by construction (a path, a
	 * candidate's description, fixed text): messages are never cut. */
	char error[PATH_MAX + 1280];	/* when chosen < 0: what is wrong */
	char hint[3 * PATH_MAX + 1024]; /* when chosen < 0: what to do */
};

/* 0 with plan filled (chosen may be -1: see error/hint); -1 with e only when
 * resolution itself could not run (out of memory). */
int resolve_python(const struct python_opts *o, struct python_plan *plan, struct err *e);
void python_plan_free(struct python_plan *plan);
/* "ok 3.11.7", "dangling link -> /root/...", "exited 1: ...". */
void py_candidate_describe(const struct py_candidate *c, char *buf, size_t n);

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

/* The environment a Python service gets PYTHONUNBUFFERED=1 from: 1 when the
 * service's configured env (K=V list, may be NULL) does not set it. */
int resolve_wants_unbuffered(char *const *service_env);

#endif
