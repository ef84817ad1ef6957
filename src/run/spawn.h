/* fork/exec of one service (issue 4 §5, DESIGN.md §5): new session and
 * process group, stdio on pipes, fds above 2 closed, workdir, umask, rlimits,
 * oom_score_adj, user/group switch, no_new_privs, a Landlock domain and a
 * seccomp filter last, and
 * the exec error carried back over a CLOEXEC pipe. Everything that allocates
 * happens in the parent, before fork: the child only makes async-signal-safe
 * calls until execve. */
#ifndef HFINIT_SPAWN_H
#define HFINIT_SPAWN_H

#include <linux/filter.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/err.h"

#define SPAWN_MAX_RLIMITS 16

struct spawn_rlimit {
	int resource;	  /* RLIMIT_* */
	const char *name; /* the config key's suffix ("nofile"), for messages; may be NULL */
	struct rlimit lim;
};

struct spawn_req {
	const char *file;    /* what to execute: a path, or a name searched in `path` */
	char *const *argv;   /* argv[0] is what the process sees */
	char *const *envp;   /* the complete environment */
	const char *path;    /* PATH used to search `file` when it has no '/'; NULL:
				"/usr/local/bin:/usr/bin:/bin" */
	const char *workdir; /* NULL: inherit */
	int stdin_fd;	     /* -1: /dev/null */
	int stdout_fd;	     /* -1: inherit hfinit's */
	int stderr_fd;	     /* -1: inherit hfinit's */
	int extra_fd; /* an fd passed to the child as number extra_fd_num (fd:N readiness); -1 none
		       */
	int extra_fd_num;
	bool new_session; /* setsid(): own session and process group (pgid == pid) */
	bool set_ids;	  /* switch to uid/gid/groups (root only) */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	int umask;	   /* -1: inherit */
	int oom_score_adj; /* SPAWN_NO_OOM_ADJ: leave as is */
	struct spawn_rlimit rlimits[SPAWN_MAX_RLIMITS];
	size_t nrlimits;
	const sigset_t *sigmask;	  /* the mask the child starts with; NULL: empty */
	const struct sock_fprog *seccomp; /* NULL: no filter; else no_new_privs + this filter */
	bool dry_run; /* every step up to exec, in a child that then exits: nothing is run */

	int landlock_abi;	/* > 0: no_new_privs + a Landlock domain of its own (landlock.h) */
	bool landlock_abstract; /* with the abstract unix socket scope (ABI 6+) */
};

#define SPAWN_NO_OOM_ADJ (-10000)
#define SPAWN_HINT_SETUP 2

void spawn_req_init(struct spawn_req *r);

/* Start the process. Returns 0 with *pid set once execve has succeeded; -1 with e
 * filled when any step failed (the child has then exited and been reaped):
 * e->code is the errno, e->msg names the step and path ("exec /app/x: No such file
 * or directory"), or for a set-up step the config key and what to do
 * ("oom_score_adj = -500: Permission denied (lowering needs CAP_SYS_RESOURCE; ...)").
 * *exit_hint is set to 127 (not found) or 126 (cannot execute) for exec failures,
 * SPAWN_HINT_SETUP for a set-up step that fails the same way on every attempt (a
 * permission error, a missing workdir: retrying is pointless), 1 for other steps.
 * With r->dry_run, 0 means every step before exec succeeded (*pid is 0). */
int spawn(const struct spawn_req *r, pid_t *pid, int *exit_hint, struct err *e);

/* Close every fd >= lowfd except `keep` (-1: none): close_range, else a loop
 * bounded by RLIMIT_NOFILE. Async-signal-safe. */
void close_fds_from(int lowfd, int keep);

/* Every signal back to SIG_DFL, the ones libc reserves included, through the
 * raw system call. Async-signal-safe: for a forked child before exec. */
void reset_signal_dispositions(void);

#endif
