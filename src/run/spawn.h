/* THE spawn of hfinit (docs/design.md, "PID-1 rules"): every child, a
 * service, an exec probe, a runcmd command (runcmd.h) and single mode's child,
 * is set up here, in this order: new session or process group (and the
 * terminal's foreground), stdio, fds above 2 closed, umask, rlimits,
 * oom_score_adj, drop_privileges, workdir, child_reset (default dispositions
 * for every signal, the given mask), no_new_privs, a Landlock domain and a
 * seccomp filter last; the exec error is carried back over a CLOEXEC pipe.
 * Everything that allocates happens in the parent, before the clone (CLONE_VM
 * | CLONE_VFORK, posix_spawn's way): the child only makes async-signal-safe
 * calls until execve, and writes no memory the parent reads. */
#ifndef HFINIT_SPAWN_H
#define HFINIT_SPAWN_H

#include <linux/filter.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/err.h"

#define SPAWN_MAX_RLIMITS 16
/* stdin_fd: hfinit's own stdin (single mode), not /dev/null */
#define SPAWN_INHERIT (-2)

/* Who a child runs as. With switch_ids == 0 it runs as hfinit. */
struct runas {
	int switch_ids;
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups (may be NULL with ngroups 0) */
	size_t ngroups;
};

/* The step of the child's set-up that failed (spawn_out.step). */
enum spawn_step {
	SPAWN_STEP_NONE,
	SPAWN_STEP_SETSID,
	SPAWN_STEP_SETPGID,
	SPAWN_STEP_STDIO,
	SPAWN_STEP_CHDIR,
	SPAWN_STEP_RLIMIT,
	SPAWN_STEP_OOM,
	SPAWN_STEP_GROUPS,
	SPAWN_STEP_GID,
	SPAWN_STEP_UID,
	SPAWN_STEP_SIGMASK,
	SPAWN_STEP_NNP,
	SPAWN_STEP_LANDLOCK,
	SPAWN_STEP_SECCOMP,
	SPAWN_STEP_EXEC,
	SPAWN_STEP_DRY_RUN_DONE, /* dry run: every step before exec succeeded */
};

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
	int stdin_fd;	     /* -1: /dev/null; SPAWN_INHERIT: hfinit's stdin */
	int stdout_fd;	     /* -1: inherit hfinit's */
	int stderr_fd;	     /* -1: inherit hfinit's */
	int extra_fd; /* an fd passed to the child as number extra_fd_num (fd:N readiness); -1 none
		       */
	int extra_fd_num;
	bool new_session; /* setsid(): own session and process group (pgid == pid) */
	bool new_pgroup;  /* without new_session: setpgid(0, 0), own process group */
	bool foreground;  /* with new_pgroup: tcsetpgrp(0) to it (a terminal's job) */
	bool keep_fds;	  /* pass inherited fds above 2 on (single mode, like tini) */
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
	char *pid_at; /* NULL, or where in envp the child writes its pid (12 bytes: WATCHDOG_PID) */

	int landlock_abi;	/* > 0: no_new_privs + a Landlock domain of its own (landlock.h) */
	bool landlock_abstract; /* with the abstract unix socket scope (ABI 6+) */
};

#define SPAWN_NO_OOM_ADJ (-10000)
#define SPAWN_HINT_SETUP 2

void spawn_req_init(struct spawn_req *r);

/* What spawn_run tells besides the error text. */
struct spawn_out {
	pid_t pid;	      /* the child, once execve succeeded; 0 otherwise */
	int exit_hint;	      /* as spawn()'s *exit_hint */
	enum spawn_step step; /* the step that failed in the child; NONE: none did */
	int err;	      /* its errno */
	int status;	      /* with step != NONE: the wait status of the failed child */
};

/* spawn() with everything the child reported: -1 with o->step == NONE when no
 * child could be made (pipe, clone), -1 with o->step set when the child failed
 * at that step (it has then been reaped: o->status), else 0 (o->pid). */
int spawn_run(const struct spawn_req *r, struct spawn_out *o, struct err *e);

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

/* In the child: supplementary groups, then gid, then uid, three checked
 * calls (as OpenBSD's daemons do). SPAWN_STEP_NONE, or the step that failed
 * with errno set. Nothing to do when !as->switch_ids. */
enum spawn_step drop_privileges(const struct runas *as);

#endif
