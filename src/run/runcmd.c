#include "run/runcmd.h"

#include "run/loop.h"

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

extern char **environ;

/* Reaping a SIGKILLed child cannot take long, but it is still bounded. */
#define REAP_AFTER_KILL_MS 5000
/* Without pidfd, child exit is noticed by polling at this interval. */
#define FALLBACK_TICK_MS 20

const char *runcmd_step_name(enum runcmd_step s)
{
	static const char *const names[] = {
	    [RC_STEP_NONE] = "none",   [RC_STEP_SETUP] = "setup", [RC_STEP_GROUPS] = "setgroups",
	    [RC_STEP_GID] = "setgid",  [RC_STEP_UID] = "setuid",  [RC_STEP_CWD] = "chdir",
	    [RC_STEP_EXEC] = "execve",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* spawn()'s failed step as runcmd reports it: the id switch, chdir and exec
 * by name, any other set-up step as RC_STEP_SETUP. */
static enum runcmd_step step_of(enum spawn_step s)
{
	static const enum runcmd_step steps[] = {
	    [SPAWN_STEP_GROUPS] = RC_STEP_GROUPS, [SPAWN_STEP_GID] = RC_STEP_GID,
	    [SPAWN_STEP_UID] = RC_STEP_UID,	  [SPAWN_STEP_CHDIR] = RC_STEP_CWD,
	    [SPAWN_STEP_EXEC] = RC_STEP_EXEC,
	};
	if (s == SPAWN_STEP_NONE)
		return RC_STEP_NONE;
	if ((unsigned)s < sizeof(steps) / sizeof(steps[0]) && steps[s] != RC_STEP_NONE)
		return steps[s];
	return RC_STEP_SETUP;
}

static long now_ms(void)
{
	return (long)(mono_now_ns() / NS_PER_MS);
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

/* The child, through spawn(): own process group, stdin on /dev/null,
 * stdout/stderr on the capture pipes, the ids, the working directory. */
static int start(const struct runcmd_spec *spec, int outw, int errw, struct spawn_out *o,
		 struct err *e)
{
	struct spawn_req r;

	spawn_req_init(&r);
	r.file = spec->path;
	/* No PATH search: a name without '/' is taken in the working directory,
	 * as execve takes it. */
	r.path = "";
	r.argv = spec->argv;
	r.envp = spec->envp ? spec->envp : environ;
	r.workdir = spec->cwd;
	r.stdout_fd = outw;
	r.stderr_fd = errw;
	r.new_session = false;
	r.new_pgroup = true;
	r.set_ids = spec->as.switch_ids != 0;
	r.uid = spec->as.uid;
	r.gid = spec->as.gid;
	r.groups = spec->as.groups;
	r.ngroups = spec->as.ngroups;
	return spawn_run(&r, o, e);
}

struct run {
	struct capture cap[2];
	pid_t pid;
	int pidfd;
	int status;
	int exited;
};

/* Read both streams until they are closed and the child has exited, or the
 * deadline passes. 0, or -1 with e set when poll failed. */
static int collect(struct run *w, long deadline, struct err *e, const char *path)
{
	while (w->cap[0].fd >= 0 || w->cap[1].fd >= 0 || !w->exited) {
		struct pollfd p[3];
		int np = 0, idx[3] = {-1, -1, -1};
		long left = deadline - now_ms();
		int tmo;

		if (left <= 0)
			return 0;
		if (!w->exited && w->pidfd < 0 && waitpid(w->pid, &w->status, WNOHANG) == w->pid)
			w->exited = 1;
		for (int i = 0; i < 2; i++)
			if (w->cap[i].fd >= 0)
				idx[i] = np,
				p[np++] = (struct pollfd){.fd = w->cap[i].fd, .events = POLLIN};
		if (!w->exited && w->pidfd >= 0)
			idx[2] = np, p[np++] = (struct pollfd){.fd = w->pidfd, .events = POLLIN};
		if (np == 0 && w->exited)
			return 0;
		tmo = (int)left;
		if (!w->exited && w->pidfd < 0 && tmo > FALLBACK_TICK_MS)
			tmo = FALLBACK_TICK_MS;
		if (poll(p, (nfds_t)np, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(e, "runcmd %s: poll", path);
		}
		for (int i = 0; i < 2; i++)
			if (idx[i] >= 0 && p[idx[i]].revents)
				(void)capture_read(&w->cap[i]);
		if (idx[2] >= 0 && p[idx[2]].revents &&
		    waitpid(w->pid, &w->status, WNOHANG) == w->pid)
			w->exited = 1;
	}
	return 0;
}

static void fill_status(struct runcmd_result *res, int status)
{
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signaled = 1;
		res->sig = WTERMSIG(status);
	}
}

/* The captured bytes, NUL-terminated, move into res. */
static void take_output(struct run *w, struct runcmd_result *res)
{
	for (int i = 0; i < 2; i++)
		w->cap[i].buf[w->cap[i].len] = '\0';
	res->out = w->cap[0].buf;
	res->out_len = w->cap[0].len;
	res->err = w->cap[1].buf;
	res->err_len = w->cap[1].len;
	w->cap[0].buf = w->cap[1].buf = NULL;
}

/* Kill what is left of the child's group and reap the child (bounded). */
static int finish(struct run *w, int poll_failed, struct runcmd_result *res, const char *path,
		  struct err *e)
{
	if (w->exited) {
		/* The child is gone; anything left in its group (a background
		 * grandchild holding our pipes) goes with it. */
		(void)kill(-w->pid, SIGKILL);
		return 0;
	}
	res->timed_out = !poll_failed;
	(void)kill(-w->pid, SIGKILL); /* ESRCH if the group is gone: fine */
	(void)kill(w->pid, SIGKILL);
	if (reap(w->pid, w->pidfd, now_ms() + REAP_AFTER_KILL_MS, &w->status) != 0)
		return err_sys(e, "runcmd %s: reaping pid %d after SIGKILL", path, (int)w->pid);
	return 0;
}

int runcmd(const struct runcmd_spec *spec, struct runcmd_result *res, struct err *e)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, poll_failed = 0, rc = -1;
	struct run w = {.pidfd = -1};
	struct spawn_out o;
	struct err se;
	long start_ms = now_ms();

	memset(res, 0, sizeof(*res));
	w.cap[0].fd = w.cap[1].fd = -1;
	for (int i = 0; i < 2; i++) {
		w.cap[i].cap = spec->capture_max;
		w.cap[i].buf = malloc(spec->capture_max + 1);
		if (!w.cap[i].buf) {
			err_sys(e, "runcmd %s: malloc", spec->path);
			goto out;
		}
	}
	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		err_sys(e, "runcmd %s: pipe2", spec->path);
		goto out;
	}
	err_clear(&se);
	if (start(spec, outp[1], errp[1], &o, &se) < 0) {
		if (o.step == SPAWN_STEP_NONE) {
			if (e)
				*e = se;
			goto out;
		}
		/* The command never ran; the child is reaped. */
		res->failed_step = step_of(o.step);
		res->failed_errno = o.err;
		w.status = o.status;
		w.exited = 1;
	} else {
		w.pid = o.pid;
		/* Our own unreaped child: its pid cannot be reused, pidfd_open is safe. */
		w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0);
	}
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	w.cap[0].fd = outp[0];
	w.cap[1].fd = errp[0];
	outp[0] = errp[0] = -1;
	if (w.pid > 0) {
		if (collect(&w, start_ms + spec->timeout_ms, e, spec->path) < 0)
			poll_failed = 1;
		if (finish(&w, poll_failed, res, spec->path, e) < 0 || poll_failed)
			goto out;
	}
	res->elapsed_ms = now_ms() - start_ms;
	fill_status(res, w.status);
	take_output(&w, res);
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&w.cap[i].fd);
		free(w.cap[i].buf);
	}
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&w.pidfd);
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

		if (drop_privileges(as) != SPAWN_STEP_NONE)
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
