/* docker-probe: the child hfinit runs in the Docker integration tests (a FROM scratch
 * image has no shell, so this one static program does each job).
 *
 *   docker-probe exit CODE     exit with CODE
 *   docker-probe raise SIG     die by signal number SIG (default action)
 *   docker-probe signals [CODE]
 *       block every signal, print
 *       "ready pid=P ppid=Q uid=U init_uid=V init=COMM parent=COMM" (init: pid 1),
 *       then one line "caught NAME from=PID" per signal received. On SIGTERM: exit CODE
 *       if given, else die by SIGTERM (128+15 for the init).
 *   docker-probe orphans N
 *       make N orphans: a middle child forks N grandchildren that block on a pipe,
 *       and exits; prints "orphans N reparented R parent P" where R counts the
 *       grandchildren whose PPid is now P, this probe's parent (the init, or the
 *       subreaper). Then it closes the pipe so all of them exit, waits (at most 10 s)
 *       until none of their pids exists any more, prints "reaped K of N" and
 *       "zombies Z" (state Z anywhere in /proc), "done", and continues as `signals`.
 *
 * Output goes through write(2), one line per call, so `docker logs` sees each line
 * as soon as it is printed. Every wait has a deadline: `signals` gives up after 60 s
 * without a signal (prints "timeout", exits 98). Setup errors: message on stderr, exit 99. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ORPHANS 4096

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;
	size_t off = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	while (off < (size_t)n) {
		ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nobody reads stdout: nothing useful left to do */
		off += (size_t)w;
	}
}

static void die(const char *what)
{
	fprintf(stderr, "docker-probe: %s: %s\n", what, strerror(errno));
	exit(99);
}

static const char *const names[] = {
    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",   [SIGQUIT] = "SIGQUIT",
    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",   [SIGKILL] = "SIGKILL",
    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM",
    [SIGCHLD] = "SIGCHLD",     [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP",
    [SIGTSTP] = "SIGTSTP",     [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
    [SIGURG] = "SIGURG",       [SIGXCPU] = "SIGXCPU", [SIGXFSZ] = "SIGXFSZ",
    [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
    [SIGIO] = "SIGIO",	       [SIGPWR] = "SIGPWR",   [SIGSYS] = "SIGSYS",
};

static const char *name_of(int sig)
{
	if (sig > 0 && (size_t)sig < sizeof(names) / sizeof(names[0]) && names[sig])
		return names[sig];
	return "SIG?";
}

/* Parse a decimal in [lo, hi]; exits 99 on anything else. */
static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "docker-probe: bad number '%s' (want %ld..%ld)\n", s, lo, hi);
		exit(99);
	}
	return v;
}

/* Read a small /proc file into buf (NUL-terminated); -1 if it cannot be read. */
static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	do {
		n = read(fd, buf, size - 1);
	} while (n < 0 && errno == EINTR);
	(void)close(fd); /* read-only fd: close cannot lose data */
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* State letter and PPid of a process from /proc/PID/stat; -1 if it is gone. */
static int proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[1024];
	const char *p;
	int pp;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) != 0)
		return -1;
	p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
	if (!p || sscanf(p + 1, " %c %d", state, &pp) != 2)
		return -1;
	*ppid = (pid_t)pp;
	return 0;
}

static void comm_of(pid_t pid, char *buf, size_t size)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_small(path, buf, size) != 0)
		(void)snprintf(buf, size, "?");
	buf[strcspn(buf, "\n")] = '\0';
}

/* Real uid of a process from /proc/PID/status, -1 if unknown. */
static long uid_of(pid_t pid)
{
	char path[64], buf[4096];
	const char *p;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) != 0)
		return -1;
	p = strstr(buf, "\nUid:");
	return p ? strtol(p + 5, NULL, 10) : -1;
}

static int count_zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int zombies = 0;

	if (!d)
		die("opendir /proc");
	while ((e = readdir(d)) != NULL) {
		char state;
		pid_t ppid;
		long pid;
		char *end;

		pid = strtol(e->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (proc_stat((pid_t)pid, &state, &ppid) == 0 && state == 'Z')
			zombies++;
	}
	(void)closedir(d); /* read-only directory stream */
	return zombies;
}

static int signals(int argc, char **argv)
{
	sigset_t all;
	struct timespec left = {.tv_sec = 60};
	char init[64], parent[64];
	int code = -1;

	if (argc > 2)
		code = (int)number(argv[2], 0, 255);
	comm_of(1, init, sizeof(init));
	comm_of(getppid(), parent, sizeof(parent));
	say("ready pid=%d ppid=%d uid=%d init_uid=%ld init=%s parent=%s", (int)getpid(),
	    (int)getppid(), (int)getuid(), uid_of(1), init, parent);
	(void)sigfillset(&all); /* cannot fail on a valid set */
	for (;;) {
		siginfo_t si;
		int sig = sigtimedwait(&all, &si, &left);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				say("timeout");
				return 98;
			}
			die("sigtimedwait");
		}
		say("caught %s from=%d", name_of(sig), (int)si.si_pid);
		if (sig != SIGTERM)
			continue;
		if (code >= 0)
			return code;
		/* Die by SIGTERM itself: default action, then unblock it. */
		if (signal(SIGTERM, SIG_DFL) == SIG_ERR || raise(SIGTERM) != 0)
			die("raise SIGTERM");
		sigset_t term;
		(void)sigemptyset(&term); /* cannot fail on a valid set and signal */
		(void)sigaddset(&term, SIGTERM);
		if (sigprocmask(SIG_UNBLOCK, &term, NULL) != 0)
			die("sigprocmask");
		return 97; /* not reached: SIGTERM is fatal once unblocked */
	}
}

/* Grandchild: wait for EOF on the barrier, then exit. Async-signal-safe only. */
static void orphan(int barrier)
{
	char c;

	while (read(barrier, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* Middle child: fork n grandchildren, send their pids up, exit. Async-signal-safe only. */
static void middle(int n, int barrier, int report)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			(void)close(report); /* not needed by the grandchild */
			orphan(barrier);
		}
		if (write(report, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			_exit(3);
	}
	_exit(0);
}

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int orphans(int argc, char **argv)
{
	static pid_t pids[MAX_ORPHANS];
	int n, barrier[2], report[2], status, got = 0, reparented = 0, gone = 0;
	pid_t mid, parent = getppid();
	long long deadline;

	if (argc < 3) {
		fprintf(stderr, "docker-probe: orphans N\n");
		return 99;
	}
	n = (int)number(argv[2], 1, MAX_ORPHANS);
	/* The barrier's write end stays only here; the pids come up the report pipe. */
	if (pipe2(barrier, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0)
		die("pipe2");
	mid = fork();
	if (mid < 0)
		die("fork");
	if (mid == 0) {
		/* Only this process may hold the barrier's write end. */
		(void)close(barrier[1]);
		(void)close(report[0]);
		middle(n, barrier[0], report[1]);
	}
	(void)close(barrier[0]); /* only the children read it */
	(void)close(report[1]);
	while (got < n) {
		ssize_t r = read(report[0], pids + got, sizeof(pid_t));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(pid_t))
			die("read pids (middle child died?)");
		got++;
	}
	(void)close(report[0]);
	while (waitpid(mid, &status, 0) < 0) {
		if (errno != EINTR)
			die("waitpid middle");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "docker-probe: middle child failed (status %#x)\n", status);
		return 99;
	}
	/* The middle child has been reaped, so its children were reparented already
	 * (the kernel does it before the parent can wait). */
	for (int i = 0; i < n; i++) {
		char state;
		pid_t ppid;

		if (proc_stat(pids[i], &state, &ppid) == 0 && ppid == parent)
			reparented++;
	}
	say("orphans %d reparented %d parent %d", n, reparented, (int)parent);
	if (close(barrier[1]) != 0) /* EOF for every grandchild: they all exit now */
		die("close barrier");
	/* Nothing tells us when another process reaps them: watch their pids vanish. */
	deadline = now_ms() + 10000;
	for (int i = 0; i < n; i++) {
		char state;
		pid_t ppid;

		while (proc_stat(pids[i], &state, &ppid) == 0 && now_ms() < deadline) {
			struct timespec ms = {.tv_nsec = 1000000};
			(void)nanosleep(&ms, NULL); /* EINTR only shortens one poll step */
		}
		if (proc_stat(pids[i], &state, &ppid) != 0)
			gone++;
	}
	say("reaped %d of %d", gone, n);
	say("zombies %d", count_zombies());
	say("done");
	return signals(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	sigset_t all;

	if (argc < 2)
		goto usage;
	/* Block everything first, so a signal that arrives early is reported, not fatal. */
	(void)sigfillset(&all); /* cannot fail on a valid set */
	if (sigprocmask(SIG_BLOCK, &all, NULL) != 0)
		die("sigprocmask");
	if (strcmp(argv[1], "exit") == 0 && argc == 3)
		return (int)number(argv[2], 0, 255);
	if (strcmp(argv[1], "raise") == 0 && argc == 3) {
		int sig = (int)number(argv[2], 1, 31);
		sigset_t one;

		if (signal(sig, SIG_DFL) == SIG_ERR && sig != SIGKILL && sig != SIGSTOP)
			die("signal");
		(void)sigemptyset(&one); /* cannot fail on a valid set and signal */
		(void)sigaddset(&one, sig);
		if (kill(getpid(), sig) != 0 || sigprocmask(SIG_UNBLOCK, &one, NULL) != 0)
			die("raise");
		fprintf(stderr, "docker-probe: still alive after signal %d\n", sig);
		return 99;
	}
	if (strcmp(argv[1], "signals") == 0 && argc <= 3)
		return signals(argc, argv);
	if (strcmp(argv[1], "orphans") == 0 && argc == 3)
		return orphans(argc, argv);
usage:
	fprintf(stderr, "usage: docker-probe exit CODE | raise SIG | signals [CODE] | orphans N\n");
	return 99;
}
