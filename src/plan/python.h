/* Python resolution (docs/design.md, "Plan"): computed once at start into a plan that
 * does not change, with every candidate's verdict kept for `hfinit check`
 * and the status file.
 *
 * The first candidate that works, executed as each user the Python
 * services run as, answering sys.executable and its version within a
 * timeout. $PYTHON_PATH and a configured `python =` are explicit choices:
 * broken, they are an error with no fallback. */
#ifndef HFINIT_PYTHON_H
#define HFINIT_PYTHON_H

#include "base/err.h"
#include "plan/user.h"

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define PYTHON_DEFAULT_TIMEOUT_MS 10000

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

/* The environment a Python service gets PYTHONUNBUFFERED=1 from: 1 when the
 * service's configured env (K=V list, may be NULL) does not set it. */
int resolve_wants_unbuffered(char *const *service_env);

#endif
