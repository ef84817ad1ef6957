#include "run/spawn.h"

#include "run/landlock.h"
#include "run/pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

struct child_report {
	int step;
	int err;
	int idx; /* the rlimit that failed */
};

void spawn_req_init(struct spawn_req *r)
{
	memset(r, 0, sizeof(*r));
	r->stdin_fd = r->stdout_fd = r->stderr_fd = r->extra_fd = -1;
	r->umask = -1;
	r->oom_score_adj = SPAWN_NO_OOM_ADJ;
	r->new_session = true;
}

static void close_range_safe(unsigned lo, unsigned hi)
{
	struct rlimit rl;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	/* Old kernel: close one by one, up to the fd limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur - 1 < hi)
		hi = (unsigned)(rl.rlim_cur - 1);
	if (hi > 1u << 20)
		hi = 1u << 20;
	for (unsigned fd = lo; fd <= hi; fd++)
		(void)close((int)fd);
}

static void close_fds_keep2(int lowfd, int keep1, int keep2)
{
	int a = keep1 < keep2 ? keep1 : keep2;
	int b = keep1 < keep2 ? keep2 : keep1;
	unsigned lo = (unsigned)lowfd;

	if (a >= lowfd) {
		close_range_safe(lo, (unsigned)a - 1);
		lo = (unsigned)a + 1;
	}
	if (b >= lowfd && b != a) {
		close_range_safe(lo, (unsigned)b - 1);
		lo = (unsigned)b + 1;
	}
	close_range_safe(lo, ~0u);
}

/* On musl (the product's libc) setgroups, setresgid and setresuid go through
 * __synccall so that every thread gets the new ids. In a process with one
 * thread, which hfinit is and which its child always is, __synccall takes
 * its own lock (free: no other thread can hold it), blocks signals, and calls
 * the system call once, directly; musl writes it to be async-signal-safe.
 * glibc's versions are the same single system call when there is one thread.
 * So the libc calls are safe between clone and exec; a raw syscall() would be
 * wrong in a threaded caller (it changes one thread only), never better. */
enum spawn_step drop_privileges(const struct runas *as)
{
	if (!as->switch_ids)
		return SPAWN_STEP_NONE;
	if (setgroups(as->ngroups, as->groups) < 0)
		return SPAWN_STEP_GROUPS;
	if (setresgid(as->gid, as->gid, as->gid) < 0)
		return SPAWN_STEP_GID;
	if (setresuid(as->uid, as->uid, as->uid) < 0)
		return SPAWN_STEP_UID;
	return SPAWN_STEP_NONE;
}

static _Noreturn void child_fail_at(int pipefd, int step, int err, int idx)
{
	struct child_report rep = {step, err, idx};
	ssize_t w;

	do
		w = write(pipefd, &rep, sizeof(rep));
	while (w < 0 && errno == EINTR);
	if (step == SPAWN_STEP_EXEC)
		_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
	_exit(step == SPAWN_STEP_DRY_RUN_DONE ? 0 : 1);
}

static _Noreturn void child_fail(int pipefd, int step, int err)
{
	child_fail_at(pipefd, step, err, 0);
}

/* Put fd at number target, without O_CLOEXEC. */
static int place_fd(int fd, int target)
{
	if (fd == target) {
		int fl = fcntl(fd, F_GETFD);
		return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* execvp without allocation: try each PATH entry, as execvp does. */
static int exec_search(const char *file, char *const *argv, char *const *envp, const char *path)
{
	char buf[4096];
	size_t flen = strlen(file);
	int seen_eacces = 0;

	if (strchr(file, '/')) {
		execve(file, argv, envp);
		return errno;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t dlen = end ? (size_t)(end - p) : strlen(p);
		if (dlen + 1 + flen + 1 <= sizeof(buf)) {
			if (dlen == 0) {
				buf[0] = '.';
				dlen = 1;
			} else {
				memcpy(buf, p, dlen);
			}
			buf[dlen] = '/';
			memcpy(buf + dlen + 1, file, flen + 1);
			execve(buf, argv, envp);
			if (errno == EACCES)
				seen_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR)
				return errno;
		}
		if (!end)
			break;
		p = end;
	}
	return seen_eacces ? EACCES : ENOENT;
}

/* v in decimal at num (room for 12 bytes), NUL-terminated, without stdio;
 * its length. */
static int fmt_int(char *num, int v)
{
	char tmp[16];
	int n = 0, k = 0, neg = v < 0;

	if (neg)
		v = -v;
	do
		tmp[k++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	if (neg)
		num[n++] = '-';
	while (k > 0)
		num[n++] = tmp[--k];
	num[n] = '\0';
	return n;
}

/* /proc/self/oom_score_adj = v. */
static int write_oom_score_adj(int v)
{
	char num[16];
	int n = fmt_int(num, v), fd;
	ssize_t w;

	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	w = write(fd, num, (size_t)n);
	(void)close(fd);
	return w == n ? 0 : -1;
}

/* Session or process group, then stdin/stdout/stderr and the extra fd. */
static void child_group_and_stdio(const struct spawn_req *r, int devnull, int pipefd)
{
	if (r->new_session && setsid() < 0)
		child_fail(pipefd, SPAWN_STEP_SETSID, errno);
	if (!r->new_session && r->new_pgroup) {
		if (setpgid(0, 0) < 0)
			child_fail(pipefd, SPAWN_STEP_SETPGID, errno);
		/* SIGTTOU is still blocked here, so a background caller is not
		 * stopped; a failure only means no job control for the child. */
		if (r->foreground)
			(void)tcsetpgrp(STDIN_FILENO, getpid());
	}
	if ((r->stdin_fd != SPAWN_INHERIT &&
	     place_fd(r->stdin_fd >= 0 ? r->stdin_fd : devnull, 0) < 0) ||
	    (r->stdout_fd >= 0 && place_fd(r->stdout_fd, 1) < 0) ||
	    (r->stderr_fd >= 0 && place_fd(r->stderr_fd, 2) < 0) ||
	    (r->extra_fd >= 0 && place_fd(r->extra_fd, r->extra_fd_num) < 0))
		child_fail(pipefd, SPAWN_STEP_STDIO, errno);
	if (!r->keep_fds)
		close_fds_keep2(3, pipefd, r->extra_fd >= 0 ? r->extra_fd_num : -1);
}

static _Noreturn void child(const struct spawn_req *r, int devnull, int pipefd)
{
	struct runas as = {r->set_ids, r->uid, r->gid, r->groups, r->ngroups};
	enum spawn_step step;
	int e;

	child_group_and_stdio(r, devnull, pipefd);
	if (r->pid_at)
		(void)fmt_int(r->pid_at, (int)getpid());
	if (r->umask >= 0)
		(void)umask((mode_t)r->umask);
	for (size_t i = 0; i < r->nrlimits; i++)
		if (setrlimit(r->rlimits[i].resource, &r->rlimits[i].lim) < 0)
			child_fail_at(pipefd, SPAWN_STEP_RLIMIT, errno, (int)i);
	if (r->oom_score_adj != SPAWN_NO_OOM_ADJ && write_oom_score_adj(r->oom_score_adj) < 0)
		child_fail(pipefd, SPAWN_STEP_OOM, errno);
	if ((step = drop_privileges(&as)) != SPAWN_STEP_NONE)
		child_fail(pipefd, step, errno);
	/* As the service's user: a workdir it cannot enter fails here. */
	if (r->workdir && chdir(r->workdir) < 0)
		child_fail(pipefd, SPAWN_STEP_CHDIR, errno);
	if (child_reset(r->sigmask) < 0)
		child_fail(pipefd, SPAWN_STEP_SIGMASK, errno);
	/* A dry run stops here: the filter is the kernel's to accept (sandbox.c
	 * checks that), and one that denies write(2) would eat the report. */
	if (r->dry_run)
		child_fail(pipefd, SPAWN_STEP_DRY_RUN_DONE, 0);
	/* Last before exec: nothing after this allocates or needs a denied call. */
	if ((r->seccomp || r->landlock_abi > 0) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(pipefd, SPAWN_STEP_NNP, errno);
	if (r->landlock_abi > 0 && (e = landlock_enter(r->landlock_abi, r->landlock_abstract)) != 0)
		child_fail(pipefd, SPAWN_STEP_LANDLOCK, e);
	if (r->seccomp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, r->seccomp, 0, 0) < 0)
		child_fail(pipefd, SPAWN_STEP_SECCOMP, errno);
	e = exec_search(r->file, r->argv, r->envp, r->path);
	child_fail(pipefd, SPAWN_STEP_EXEC, e);
}

static const char *step_name(int step)
{
	static const char *const names[] = {
	    [SPAWN_STEP_SETSID] = "setsid",    [SPAWN_STEP_SETPGID] = "setpgid",
	    [SPAWN_STEP_STDIO] = "stdio",      [SPAWN_STEP_CHDIR] = "chdir",
	    [SPAWN_STEP_RLIMIT] = "setrlimit", [SPAWN_STEP_OOM] = "oom_score_adj",
	    [SPAWN_STEP_GROUPS] = "setgroups", [SPAWN_STEP_GID] = "setresgid",
	    [SPAWN_STEP_UID] = "setresuid",    [SPAWN_STEP_SIGMASK] = "sigprocmask",
	    [SPAWN_STEP_NNP] = "no_new_privs", [SPAWN_STEP_SECCOMP] = "seccomp filter",
	    [SPAWN_STEP_EXEC] = "exec",	       [SPAWN_STEP_LANDLOCK] = "landlock domain",
	};
	if (step > 0 && step < (int)(sizeof(names) / sizeof(names[0])) && names[step])
		return names[step];
	return "spawn";
}

/* A set-up step that fails the same way on every attempt. */
static bool setup_permanent(int step, int err)
{
	bool perm = err == EPERM || err == EACCES;

	switch (step) {
	case SPAWN_STEP_CHDIR:
		return perm || err == ENOENT || err == ENOTDIR;
	case SPAWN_STEP_RLIMIT:
		return perm || err == EINVAL;
	case SPAWN_STEP_OOM:
	case SPAWN_STEP_GROUPS:
	case SPAWN_STEP_GID:
	case SPAWN_STEP_UID:
		return perm;
	default:
		return false;
	}
}

/* /proc/sys/fs/nr_open: the most a hard nofile may be, even for root. */
static unsigned long long nr_open(void)
{
	char buf[32];

	return pid1_read_file("/proc/sys/fs/nr_open", buf, sizeof(buf)) > 0
		   ? strtoull(buf, NULL, 10)
		   : 0;
}

static void fmt_rlim(char *buf, size_t n, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, n, "unlimited");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
}

static int rlimit_error(const struct spawn_req *r, const struct child_report *rep, struct err *e)
{
	const struct spawn_rlimit *l = &r->rlimits[rep->idx];
	const char *name = l->name ? l->name : "?";
	struct rlimit cur;
	char hard[24] = "unlimited", val[56], soft[24], max[24];
	unsigned long long nro;

	/* The value as configured: "99999999", or "SOFT:HARD". */
	fmt_rlim(soft, sizeof(soft), l->lim.rlim_cur);
	fmt_rlim(max, sizeof(max), l->lim.rlim_max);
	if (l->lim.rlim_cur == l->lim.rlim_max)
		snprintf(val, sizeof(val), "%s", soft);
	else
		snprintf(val, sizeof(val), "%s:%s", soft, max);
	if (rep->err == EINVAL)
		return err_set(e, rep->err,
			       "rlimit_%s = %s: %s (the soft limit is above the hard one)", name,
			       val, strerror(rep->err));
	if (geteuid() == 0 && l->resource == RLIMIT_NOFILE && (nro = nr_open()) &&
	    (l->lim.rlim_max == RLIM_INFINITY || l->lim.rlim_max > nro))
		return err_set(e, rep->err,
			       "rlimit_%s = %s: %s (fs.nr_open is %llu; a hard nofile above it "
			       "cannot be set, even as root: lower the value)",
			       name, val, strerror(rep->err), nro);
	if (getrlimit(l->resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY)
		snprintf(hard, sizeof(hard), "%llu", (unsigned long long)cur.rlim_max);
	return err_set(e, rep->err,
		       "rlimit_%s = %s: %s (above the hard limit hfinit has, %s; raising it needs "
		       "CAP_SYS_RESOURCE: lower the value or remove the key)",
		       name, val, strerror(rep->err), hard);
}

/* The failed step as the config key that asked for it, with what to do. */
static int setup_error(const struct spawn_req *r, const struct child_report *rep, struct err *e)
{
	const char *why = strerror(rep->err);
	bool perm = rep->err == EPERM || rep->err == EACCES;

	switch (rep->step) {
	case SPAWN_STEP_CHDIR:
		return err_set(e, rep->err, "workdir = %s: %s%s", r->workdir, why,
			       perm ? " (the service's user cannot enter it)"
				    : " (create it in the image or fix the key)");
	case SPAWN_STEP_OOM:
		return err_set(
		    e, rep->err, "oom_score_adj = %d: %s%s", r->oom_score_adj, why,
		    perm ? " (lowering needs CAP_SYS_RESOURCE; remove the key or raise it)" : "");
	case SPAWN_STEP_RLIMIT:
		return rlimit_error(r, rep, e);
	case SPAWN_STEP_GROUPS:
	case SPAWN_STEP_GID:
	case SPAWN_STEP_UID:
		return err_set(e, rep->err, "user: %s to uid %u gid %u: %s%s", step_name(rep->step),
			       (unsigned)r->uid, (unsigned)r->gid, why,
			       perm ? " (switching users needs CAP_SETUID and CAP_SETGID: keep "
				      "them, or remove `user =`)"
				    : "");
	default:
		return err_set(e, rep->err, "%s %s: %s", step_name(rep->step), r->file, why);
	}
}

struct child_args {
	const struct spawn_req *r;
	int devnull, pipefd;
};

static int child_main(void *p)
{
	const struct child_args *a = p;

	child(a->r, a->devnull, a->pipefd);
}

/* The child's stack. It runs in hfinit's memory (CLONE_VM) while hfinit
 * waits (CLONE_VFORK) until its exec or exit, as posix_spawn does: no copy
 * of hfinit's page tables and no copy-on-write faults afterwards, which a
 * fork of hfinit with 1000 services (20 KB each) cost at every start. So the
 * child writes nothing hfinit reads later, but its own stack, errno and the
 * WATCHDOG_PID= text of the request (pid_at), and allocates nothing. */
static _Alignas(16) char child_stack[64 * 1024];

int spawn_run(const struct spawn_req *r, struct spawn_out *o, struct err *e)
{
	struct child_args args;
	struct child_report rep;
	int p[2], devnull = -1;
	ssize_t n;
	pid_t c;

	memset(o, 0, sizeof(*o));
	o->exit_hint = 1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, "spawn %s: pipe", r->file);
	if (r->stdin_fd == -1 && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		err_sys(e, "spawn %s: /dev/null", r->file);
		goto fail_pipe;
	}
	args = (struct child_args){r, devnull, p[1]};
#ifdef __SANITIZE_ADDRESS__
	/* the tests' ASan build: the last child's frames left poison in the
	 * shadow memory it shares with us */
	__asan_unpoison_memory_region(child_stack, sizeof(child_stack));
#endif
	c = clone(child_main, child_stack + sizeof(child_stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
		  &args);
	if (c < 0) {
		err_sys(e, "spawn %s: clone", r->file);
		goto fail_pipe;
	}
	(void)close(p[1]);
	if (devnull >= 0)
		(void)close(devnull);
	do
		n = read(p[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	(void)close(p[0]);
	if (n == 0) {
		o->pid = c;
		return 0; /* EOF: the pipe closed on exec */
	}
	/* The child failed before or at exec and has exited: reap it here. */
	while (waitpid(c, &o->status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rep))
		return err_set(e, EIO, "spawn %s: lost the child's report", r->file);
	if (rep.step == SPAWN_STEP_DRY_RUN_DONE)
		return 0;
	o->step = (enum spawn_step)rep.step;
	o->err = rep.err;
	if (rep.step == SPAWN_STEP_EXEC)
		o->exit_hint = rep.err == ENOENT || rep.err == ENOTDIR ? 127 : 126;
	else if (setup_permanent(rep.step, rep.err))
		o->exit_hint = SPAWN_HINT_SETUP;
	return setup_error(r, &rep, e);

fail_pipe:
	if (devnull >= 0)
		(void)close(devnull);
	(void)close(p[0]);
	(void)close(p[1]);
	return -1;
}

int spawn(const struct spawn_req *r, pid_t *pid, int *exit_hint, struct err *e)
{
	struct spawn_out o;
	int rc = spawn_run(r, &o, e);

	*exit_hint = o.exit_hint;
	if (rc == 0)
		*pid = o.pid;
	return rc;
}
