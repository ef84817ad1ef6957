#include "run/pid1.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int pid1_block_signals(struct pid1_signals *s, struct err *e)
{
	/* sigfillset() leaves out the signals libc reserves (32-34 in musl),
	 * which would then kill hfinit with their default action; set every
	 * bit instead (the kernel ignores SIGKILL and SIGSTOP in a mask).
	 * The fault signals are blocked too: one sent with kill(2) then waits
	 * in the signalfd like any other, while a real fault (SEGV BUS ILL FPE
	 * TRAP, raised by the kernel for the faulting thread) is forced: the
	 * kernel unblocks it and resets it to SIG_DFL, so hfinit still dies of
	 * its own bug (force_sig_fault; abort() in musl unblocks SIGABRT
	 * itself). */
	memset(&s->blocked, 0xff, sizeof(s->blocked));
	if (sigprocmask(SIG_SETMASK, &s->blocked, &s->orig_mask) < 0)
		return err_sys(e, "sigprocmask");
	return 0;
}

int child_reset(const sigset_t *mask)
{
	/* The kernel's struct sigaction: libc's sigaction() refuses the signals it
	 * reserves for itself (32-34 in musl, 32-33 in glibc), yet a process can
	 * start with them ignored (make does that) and pass that on. hfinit
	 * installs no handlers, so SIG_DFL everywhere is what a child of a
	 * shell would get; ignored signals would stay ignored across exec. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} k;
	sigset_t empty;

	memset(&k, 0, sizeof(k));
	k.handler = SIG_DFL;
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
	sigemptyset(&empty);
	return sigprocmask(SIG_SETMASK, mask ? mask : &empty, NULL);
}

bool pid1_forwardable(int sig)
{
	return !(sig <= 0 || sig >= NSIG || sig == SIGCHLD || sig == SIGKILL || sig == SIGSTOP ||
		 sig == 32 || sig == 33);
}

int pid1_set_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int pid1_reap(pid1_reaped_fn fn, void *data)
{
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			if (fn)
				fn(pid, status, data);
			continue;
		}
		if (pid == 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* ECHILD; EINVAL cannot happen with these arguments */
		return 1;
	}
}

ssize_t pid1_read_file(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1; /* gone meanwhile */
	while (got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd); /* read-only fd: nothing to lose */
	buf[got] = '\0';
	return (ssize_t)got;
}

int pid1_stat_ids(pid_t pid, pid_t ids[3])
{
	char path[32], buf[512];
	const char *p;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid1_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* "pid (comm) S ppid pgrp session ...": comm may hold spaces and ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	p += 4;
	for (int i = 0; i < 3; i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || (*end != ' ' && *end != '\0'))
			return -1;
		ids[i] = (pid_t)v;
		p = end;
	}
	return 0;
}

int pid1_signal_children(int sig)
{
	pid_t self = getpid();
	struct dirent *d;
	DIR *dir;
	int count = 0;
	long pid;
	char *end;

	dir = opendir("/proc");
	if (!dir)
		return -1;
	for (;;) {
		errno = 0;
		d = readdir(dir);
		if (!d)
			break;
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 1 || pid == self)
			continue;
		pid_t ids[3];
		if (pid1_stat_ids((pid_t)pid, ids) < 0 || ids[0] != self)
			continue;
		if (kill((pid_t)pid, sig) == 0)
			count++;
	}
	(void)closedir(dir); /* directory stream: nothing to lose */
	return count;
}

int pid1_signal_leftovers(int sig, pid_t pgid)
{
	if (getpid() == 1) {
		if (kill(-1, sig) < 0 && errno != ESRCH)
			return -1;
		return 0;
	}
	if (pgid > 0 && kill(-pgid, sig) < 0 && errno != ESRCH)
		return -1;
	return pid1_signal_children(sig) < 0 ? -1 : 0;
}

int pid1_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255; /* stopped/continued: not reported without WUNTRACED */
}
