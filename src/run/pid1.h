/* PID-1 primitives shared by single-child mode and (later) the supervisor:
 * the signal set-up, the child-side signal reset, reaping, and signalling
 * what is left when hfinit shuts down. */
#ifndef HFINIT_PID1_H
#define HFINIT_PID1_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/err.h"

struct pid1_signals {
	sigset_t blocked;   /* what hfinit blocks: read through the signalfd */
	sigset_t orig_mask; /* the mask hfinit started with: children get it back */
};

/* Block every signal. The fault signals (SEGV BUS ILL FPE ABRT TRAP SYS)
 * too: sent with kill(2) they are read and forwarded like any other, while a
 * real fault is forced by the kernel (unblocked, SIG_DFL) and still kills
 * hfinit when it has a bug. Blocked
 * job-control signals (TSTP TTIN TTOU) can never stop hfinit, and the
 * terminal driver treats a blocked SIGTTOU/SIGTTIN as ignored. Records the
 * original mask, which children get back (child_reset). */
int pid1_block_signals(struct pid1_signals *s, struct err *e);

/* THE child reset, in a forked child before exec (async-signal-safe): every
 * signal 1..64 back to SIG_DFL through the raw rt_sigaction, the ones libc
 * reserves for itself (32-34 in musl, 32-33 in glibc) included, then mask
 * (NULL: empty) as the signal mask. 0, or -1 with errno from sigprocmask. */
int child_reset(const sigset_t *mask);

/* Whether a signal hfinit received is passed on to its children: all but
 * SIGCHLD, SIGKILL/SIGSTOP (never read anyway) and the
 * two libc-internal signals 32 and 33. */
bool pid1_forwardable(int sig);

/* PR_SET_CHILD_SUBREAPER so orphans of our descendants come to us when we
 * are not PID 1. 0, or -1 with errno. */
int pid1_set_subreaper(void);

/* Reap every child that has exited, without blocking; fn(pid, wait status,
 * data) for each. Returns 1 when hfinit has no children left (ECHILD), 0
 * when some are still running. Tolerates coalesced SIGCHLD: call it once per
 * SIGCHLD read, it loops until nothing more is ready. */
typedef void (*pid1_reaped_fn)(pid_t pid, int status, void *data);
int pid1_reap(pid1_reaped_fn fn, void *data);

/* Read at most cap - 1 bytes of path into buf, NUL-terminated: the length,
 * or -1 when it cannot be opened. */
ssize_t pid1_read_file(const char *path, char *buf, size_t cap);

/* ppid, process group and session of pid, from /proc/PID/stat (a zombie's
 * too). 0, or -1 when pid is gone or the file is unreadable. */
int pid1_stat_ids(pid_t pid, pid_t ids[3]);

/* Send sig to every process whose parent is hfinit (found by scanning
 * /proc/PID/stat: /proc/.../children is not always built into the kernel).
 * Returns how many were signalled, or -1 with errno when /proc is unreadable. */
int pid1_signal_children(int sig);

/* Signal everything hfinit is responsible for at shutdown. As PID 1:
 * kill(-1, sig), every process in the namespace. Otherwise: the process
 * group pgid (when > 0) and every direct child (orphans re-parented to the
 * subreaper included). 0, or -1 with errno on an unexpected failure. */
int pid1_signal_leftovers(int sig, pid_t pgid);

/* Exit code for a wait status: the exit code, or 128+N when killed by N. */
int pid1_exit_code(int status);

#endif
