#include "run/runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* Reaping a SIGKILLed child cannot take long, but it is still bounded. */
#define REAP_AFTER_KILL_MS 5000
/* Without pidfd, child exit is noticed by polling at this interval. */
#define FALLBACK_TICK_MS 20

const char *runcmd_step_name(enum runcmd_step s)
{
	switch (s) {
	case RC_STEP_NONE:
		return "none";
	case RC_STEP_SETUP:
		return "setup";
	case RC_STEP_GROUPS:
		return "setgroups";
	case RC_STEP_GID:
		return "setgid";
	case RC_STEP_UID:
		return "setuid";
	case RC_STEP_CWD:
		return "chdir";
	case RC_STEP_EXEC:
		return "execve";
	}
	return "?";
}

static long now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- in the child: async-signal-safe calls only --------------------------- */

static void child_report(int fd, enum runcmd_step step, int errnum)
{
	int msg[2] = {(int)step, errnum};

	/* Nothing to do if the parent went away. */
	(void)!write(fd, msg, sizeof(msg));
	_exit(127);
}

/* Raw syscalls: set*id() in a libc may take locks (musl's __synccall). */
static int switch_ids(const struct runas *as)
{
#ifdef SYS_setgroups32
	long nr_groups = SYS_setgroups32, nr_gid = SYS_setresgid32, nr_uid = SYS_setresuid32;
#else
	long nr_groups = SYS_setgroups, nr_gid = SYS_setresgid, nr_uid = SYS_setresuid;
#endif
	if (syscall(nr_groups, as->ngroups, as->groups) != 0)
		return RC_STEP_GROUPS;
	if (syscall(nr_gid, as->gid, as->gid, as->gid) != 0)
		return RC_STEP_GID;
	if (syscall(nr_uid, as->uid, as->uid, as->uid) != 0)
		return RC_STEP_UID;
	return RC_STEP_NONE;
}

static void child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &sa, NULL); /* EINVAL for SIGKILL/SIGSTOP/reserved: fine */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL); /* cannot fail with valid args */
}

static void child_run(const struct runcmd_spec *spec, char *const *envp, int nullfd, int outw,
		      int errw, int repw)
{
	int step;

	child_reset_signals();
	if (setpgid(0, 0) != 0)
		child_report(repw, RC_STEP_SETUP, errno);
	if (dup2(nullfd, 0) < 0 || dup2(outw, 1) < 0 || dup2(errw, 2) < 0)
		child_report(repw, RC_STEP_SETUP, errno);
	/* Inherited fds without CLOEXEC must not leak into the command; ours all
	 * have it. Old kernels lack close_range: then this is best effort. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (spec->as.switch_ids) {
		step = switch_ids(&spec->as);
		if (step != RC_STEP_NONE)
			child_report(repw, (enum runcmd_step)step, errno);
	}
	if (spec->cwd && chdir(spec->cwd) != 0)
		child_report(repw, RC_STEP_CWD, errno);
	execve(spec->path, spec->argv, envp);
	child_report(repw, RC_STEP_EXEC, errno);
}

/* --- in the parent ---------------------------------------------------------- */

struct capture {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Read what is there; returns 1 on EOF/error (fd closed), 0 otherwise. */
static int capture_read(struct capture *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return 1;
	}
	if (c->len < c->cap) {
		size_t k = (size_t)n;

		if (k > c->cap - c->len)
			k = c->cap - c->len;
		memcpy(c->buf + c->len, tmp, k);
		c->len += k;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Wait (bounded) for pid; 0 and *status on success, -1 on timeout/error. */
static int reap(pid_t pid, int pidfd, long deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		long left;

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};

			if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
				return -1;
		} else {
			struct timespec ts = {0, FALLBACK_TICK_MS * 1000000L};

			(void)nanosleep(&ts, NULL); /* EINTR: just loop */
		}
	}
}

int runcmd(const struct runcmd_spec *spec, struct runcmd_result *res, struct err *e)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, repp[2] = {-1, -1};
	int nullfd = -1, pidfd = -1, status = 0, exited = 0, poll_failed = 0, rc = -1;
	struct capture cap[2];
	long start = now_ms(), deadline;
	char *const *envp = spec->envp ? spec->envp : environ;
	int rep[2];
	size_t repn = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	memset(cap, 0, sizeof(cap));
	cap[0].fd = cap[1].fd = -1;
	for (int i = 0; i < 2; i++) {
		cap[i].cap = spec->capture_max;
		cap[i].buf = malloc(spec->capture_max + 1);
		if (!cap[i].buf) {
			err_sys(e, "runcmd %s: malloc", spec->path);
			goto out;
		}
	}
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0) {
		err_sys(e, "open /dev/null");
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(repp, O_CLOEXEC)) {
		err_sys(e, "runcmd %s: pipe2", spec->path);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err_sys(e, "runcmd %s: fork", spec->path);
		goto out;
	}
	if (pid == 0)
		child_run(spec, envp, nullfd, outp[1], errp[1], repp[1]);
	/* Our own unreaped child: its pid cannot be reused, pidfd_open is safe. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&repp[1]);
	cap[0].fd = outp[0];
	cap[1].fd = errp[0];
	outp[0] = errp[0] = -1;
	deadline = start + spec->timeout_ms;

	/* Read until both streams and the report pipe are closed and the child
	 * has exited, or the deadline passes. */
	while (cap[0].fd >= 0 || cap[1].fd >= 0 || repp[0] >= 0 || !exited) {
		struct pollfd p[4];
		int np = 0, idx_out = -1, idx_err = -1, idx_rep = -1, idx_pid = -1;
		long left = deadline - now_ms();
		int tmo;

		if (left <= 0)
			break;
		if (!exited && pidfd < 0) {
			pid_t r = waitpid(pid, &status, WNOHANG);

			if (r == pid)
				exited = 1;
		}
		if (cap[0].fd >= 0)
			idx_out = np, p[np++] = (struct pollfd){.fd = cap[0].fd, .events = POLLIN};
		if (cap[1].fd >= 0)
			idx_err = np, p[np++] = (struct pollfd){.fd = cap[1].fd, .events = POLLIN};
		if (repp[0] >= 0)
			idx_rep = np, p[np++] = (struct pollfd){.fd = repp[0], .events = POLLIN};
		if (!exited && pidfd >= 0)
			idx_pid = np, p[np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		if (np == 0 && exited)
			break;
		tmo = (int)left;
		if (!exited && pidfd < 0 && tmo > FALLBACK_TICK_MS)
			tmo = FALLBACK_TICK_MS;
		if (poll(p, (nfds_t)np, tmo) < 0) {
			if (errno == EINTR)
				continue;
			err_sys(e, "runcmd %s: poll", spec->path);
			poll_failed = 1;
			break; /* kill and reap below */
		}
		if (idx_out >= 0 && p[idx_out].revents)
			(void)capture_read(&cap[0]);
		if (idx_err >= 0 && p[idx_err].revents)
			(void)capture_read(&cap[1]);
		if (idx_rep >= 0 && p[idx_rep].revents) {
			ssize_t n = read(repp[0], (char *)rep + repn, sizeof(rep) - repn);

			if (n > 0)
				repn += (size_t)n;
			else if (n == 0 || errno != EINTR)
				close_fd(&repp[0]);
			if (repn == sizeof(rep))
				close_fd(&repp[0]);
		}
		if (idx_pid >= 0 && p[idx_pid].revents) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				exited = 1;
		}
	}
	if (!exited) {
		res->timed_out = !poll_failed;
		(void)kill(-pid, SIGKILL); /* ESRCH if the group is gone: fine */
		(void)kill(pid, SIGKILL);
		if (reap(pid, pidfd, now_ms() + REAP_AFTER_KILL_MS, &status) != 0) {
			err_sys(e, "runcmd %s: reaping pid %d after SIGKILL", spec->path, (int)pid);
			goto out;
		}
	} else {
		/* The child is gone; anything left in its group (a background
		 * grandchild holding our pipes) goes with it. */
		(void)kill(-pid, SIGKILL);
	}
	if (poll_failed)
		goto out;
	res->elapsed_ms = now_ms() - start;
	if (repn == sizeof(rep)) {
		res->failed_step = (enum runcmd_step)rep[0];
		res->failed_errno = rep[1];
	}
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signaled = 1;
		res->sig = WTERMSIG(status);
	}
	for (int i = 0; i < 2; i++)
		cap[i].buf[cap[i].len] = '\0';
	res->out = cap[0].buf;
	res->out_len = cap[0].len;
	res->err = cap[1].buf;
	res->err_len = cap[1].len;
	cap[0].buf = cap[1].buf = NULL;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&cap[i].fd);
		free(cap[i].buf);
	}
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&repp[0]);
	close_fd(&repp[1]);
	close_fd(&nullfd);
	close_fd(&pidfd);
	return rc;
}

void runcmd_result_free(struct runcmd_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

int access_as(const struct runas *as, const char *path, int mode, struct err *e)
{
	int status;
	pid_t pid;
	int pidfd;

	if (!as || !as->switch_ids)
		return access(path, mode) == 0 ? 0 : errno;
	pid = fork();
	if (pid < 0)
		return err_sys(e, "access check of %s: fork", path);
	if (pid == 0) {
		int r;

		if (switch_ids(as) != RC_STEP_NONE)
			_exit(255);
		r = access(path, mode) == 0 ? 0 : errno;
		_exit(r > 254 ? 254 : r);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (reap(pid, pidfd, now_ms() + REAP_AFTER_KILL_MS, &status) != 0) {
		(void)kill(pid, SIGKILL);
		(void)reap(pid, pidfd, now_ms() + REAP_AFTER_KILL_MS, &status);
		if (pidfd >= 0)
			close(pidfd);
		return err_sys(e, "access check of %s", path);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 255)
		return err_set(e, EPERM, "access check of %s: cannot switch to uid %u", path,
			       (unsigned)as->uid);
	return WEXITSTATUS(status);
}
