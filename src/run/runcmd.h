/* Run one short-lived command to completion, synchronously: argv/env given,
 * optional uid/gid switch (when root), a deadline, stdout/stderr captured up
 * to a bound. On timeout the child's whole process group is killed and the
 * child reaped. Only the child's own pid is ever waited for, so this is safe
 * before the supervisor's reaping loop exists (resolution at start, `check`).
 * The child is made by spawn() (spawn.h): default signal dispositions, an
 * empty signal mask, stdin on /dev/null, its own process group. */
#ifndef HFINIT_RUNCMD_H
#define HFINIT_RUNCMD_H

#include "base/err.h"
#include "base/fmt.h"
#include "run/spawn.h"

#include <stddef.h>
#include <sys/types.h>

struct runcmd_spec {
	const char *path;  /* executed as is (no PATH search) */
	char *const *argv; /* argv[0] included, NULL-terminated */
	char *const *envp; /* NULL: the caller's environ */
	const char *cwd;   /* NULL: inherit */
	struct runas as;
	int timeout_ms;	    /* > 0 */
	size_t capture_max; /* bytes kept per stream; the rest is read and dropped */
};

/* Step of the child's setup that failed before the command could run. */
enum runcmd_step {
	RC_STEP_NONE,
	RC_STEP_SETUP,
	RC_STEP_GROUPS,
	RC_STEP_GID,
	RC_STEP_UID,
	RC_STEP_CWD,
	RC_STEP_EXEC
};

struct runcmd_result {
	enum runcmd_step failed_step; /* != NONE: the command never ran */
	int failed_errno;	      /* errno of that step */
	int timed_out;		      /* killed at the deadline */
	int exited, code;	      /* normal exit and its status */
	int signaled, sig;	      /* killed by a signal */
	char *out, *err;	      /* captured, NUL-terminated (never NULL on success) */
	size_t out_len, err_len;
	long elapsed_ms;
};

/* 0 with *res filled (whatever the command did), -1 with e set when the
 * command could not be started or waited for (pipe/fork failure, ...). */
int runcmd(const struct runcmd_spec *spec, struct runcmd_result *res, struct err *e);
void runcmd_result_free(struct runcmd_result *res);
const char *runcmd_step_name(enum runcmd_step s);

/* access(path, mode) as `as` (a forked child drops privileges first when
 * as->switch_ids). Returns 0 if allowed, else the errno (EACCES, ENOENT...),
 * or -1 with e set if the check itself could not be run. */
int access_as(const struct runas *as, const char *path, int mode, struct err *e);

#endif
