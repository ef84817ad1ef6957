/* bench-storm: leave orphans for PID 1 and measure the CPU it spends reaping them.
 *
 *   bench-storm reap N    N processes orphaned at once: half already zombies, half
 *                         alive and blocked on a pipe that is closed once they are
 *                         orphaned, so they exit while owned by PID 1.
 *   bench-storm fork N    N short-lived orphans one after another (double fork), as
 *                         fast as this process can make them.
 *
 * Must run as a direct child of the init under test, which must be PID 1 of a fresh
 * PID namespace with its own /proc (unshare --pid --fork --mount-proc). It reads
 * /proc/1/schedstat (first field: ns PID 1 spent on CPU) before the storm and again
 * once every orphan is gone, and prints one line:
 *
 *   ok n=N init_cpu_ns=D init_wakeups=C wall_ns=W
 *
 * (C: PID 1's voluntary + nonvoluntary context switches over the storm) *
 * or "error ..." on stderr with a non-zero exit. Nothing signals that a process
 * has been reaped by someone else, so completion is found by polling (kill(pid, 0)
 * or /proc) every 200 us; this only costs this helper's CPU, not the init's.
 * alarm(60) bounds everything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_N	    100000
#define POLL_NS	    200000L
#define DEADLINE_S  60
#define GONE_WAIT_S 30

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	/* If stderr is gone there is nowhere left to report to; the exit code still
	 * says we failed. */
	va_start(ap, fmt);
	(void)fputs("bench-storm: error: ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (saved != 0)
		(void)fprintf(stderr, ": %s", strerror(saved));
	(void)fputc('\n', stderr);
	return 1;
}

static long long now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pause_poll(void)
{
	struct timespec ts = {0, POLL_NS};

	/* an early wake-up only makes the next check sooner */
	(void)nanosleep(&ts, NULL);
}

/* First field of /proc/1/schedstat: ns on CPU of PID 1. */
static int init_cpu_ns(unsigned long long *out)
{
	char buf[128];
	ssize_t n;
	char *end;
	int fd = open("/proc/1/schedstat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (close(fd) != 0 || n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf) {
		errno = errno != 0 ? errno : EINVAL;
		return -1;
	}
	return 0;
}

/* voluntary + nonvoluntary context switches of PID 1 (its wake-ups). */
static int init_switches(unsigned long long *out)
{
	char buf[4096];
	ssize_t n;
	unsigned long long sum = 0;
	int found = 0;
	int fd = open("/proc/1/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (close(fd) != 0 || n <= 0)
		return -1;
	buf[n] = '\0';
	for (char *line = buf; line != NULL && *line != '\0';) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0 ||
		    strncmp(line, "nonvoluntary_ctxt_switches:", 27) == 0) {
			sum += strtoull(strchr(line, ':') + 1, NULL, 10);
			found++;
		}
		line = next;
	}
	if (found != 2) {
		errno = EINVAL;
		return -1;
	}
	*out = sum;
	return 0;
}

/* Number of processes in this PID namespace other than PID 1 and us. */
static int count_others(int *out)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;

	if (d == NULL)
		return -1;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		errno = 0; /* readdir's end-of-directory test below reads it */
		if (*de->d_name == '\0' || *end != '\0' || pid <= 1 || pid == self)
			continue;
		n++;
	}
	if (errno != 0) {
		int saved = errno;
		(void)closedir(d); /* already failing; report readdir's error */
		errno = saved;
		return -1;
	}
	if (closedir(d) != 0)
		return -1;
	*out = n;
	return 0;
}

/* Wait, polling /proc, until no process but PID 1 and us is left. */
static int wait_alone(void)
{
	long long deadline = now_ns() + GONE_WAIT_S * 1000000000LL;

	for (;;) {
		int n;
		if (count_others(&n) != 0)
			return fail("reading /proc");
		if (n == 0)
			return 0;
		if (now_ns() > deadline) {
			errno = 0;
			return fail("%d processes still not reaped after %d s", n, GONE_WAIT_S);
		}
		pause_poll();
	}
}

/* Wait until PID 1 is asleep (state S in /proc/1/stat), so that its last burst of
 * CPU is accounted in schedstat before we read it. */
static int wait_init_asleep(void)
{
	long long deadline = now_ns() + GONE_WAIT_S * 1000000000LL;

	for (;;) {
		char buf[256];
		char *paren;
		ssize_t n;
		int fd = open("/proc/1/stat", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail("/proc/1/stat");
		n = read(fd, buf, sizeof(buf) - 1);
		if (close(fd) != 0 || n <= 0)
			return fail("/proc/1/stat");
		buf[n] = '\0';
		paren = strrchr(buf, ')');
		if (paren == NULL || paren[1] != ' ') {
			errno = 0;
			return fail("cannot parse /proc/1/stat");
		}
		if (paren[2] == 'S')
			return 0;
		if (now_ns() > deadline) {
			errno = 0;
			return fail("PID 1 still in state %c after %d s", paren[2], GONE_WAIT_S);
		}
		pause_poll();
	}
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The middle process of `reap`: forks n children (odd ones exit at once and stay
 * zombies, even ones block on gate_r until EOF), sends their pids on pids_w and
 * exits without reaping, so all n are reparented to PID 1. Only async-signal-safe
 * calls: it is a forked child. */
static void reap_middle(int n, int gate_r, int gate_w, int pids_w)
{
	if (close(gate_w) != 0)
		_exit(10);
	for (int i = 0; i < n; i++) {
		char c;
		pid_t pid = fork();
		if (pid < 0)
			_exit(11);
		if (pid == 0) {
			if (close(pids_w) != 0)
				_exit(12);
			if (i % 2 == 1)
				_exit(0);
			while (read(gate_r, &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (write_all(pids_w, &pid, sizeof(pid)) != 0)
			_exit(13);
	}
	_exit(0);
}

static int read_pids(int fd, pid_t *pids, int n)
{
	size_t want = (size_t)n * sizeof(pid_t);
	size_t got = 0;
	long long deadline = now_ns() + GONE_WAIT_S * 1000000000LL;

	while (got < want) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left_ms = (deadline - now_ns()) / 1000000;
		int r;
		ssize_t k;
		if (left_ms <= 0) {
			errno = 0;
			return fail("timed out reading pids (%zu of %d)", got / sizeof(pid_t), n);
		}
		r = poll(&pfd, 1, (int)left_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail("poll");
		if (r == 0)
			continue;
		k = read(fd, (char *)pids + got, want - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return fail("read pids");
		if (k == 0) {
			errno = 0;
			return fail("middle process sent %zu of %d pids", got / sizeof(pid_t), n);
		}
		got += (size_t)k;
	}
	return 0;
}

static int storm_reap(int n)
{
	int gate[2], pidp[2];
	pid_t middle;
	int status;
	pid_t *pids = calloc((size_t)n, sizeof(pid_t));
	int left = n;
	long long deadline;

	if (pids == NULL)
		return fail("calloc");
	if (pipe2(gate, O_CLOEXEC) != 0 || pipe2(pidp, O_CLOEXEC) != 0)
		return fail("pipe2");
	middle = fork();
	if (middle < 0)
		return fail("fork");
	if (middle == 0) {
		if (close(pidp[0]) != 0)
			_exit(14);
		reap_middle(n, gate[0], gate[1], pidp[1]);
	}
	if (close(pidp[1]) != 0 || close(gate[0]) != 0)
		return fail("close");
	if (read_pids(pidp[0], pids, n) != 0)
		return 1;
	/* the middle has sent every pid and exits next; alarm() bounds this wait */
	while (waitpid(middle, &status, 0) < 0) {
		if (errno != EINTR)
			return fail("waitpid middle");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = 0;
		return fail("middle process failed (status 0x%x)", (unsigned)status);
	}
	/* every child is now PID 1's: half zombies, half alive; release the live ones */
	if (close(gate[1]) != 0 || close(pidp[0]) != 0)
		return fail("close");
	deadline = now_ns() + GONE_WAIT_S * 1000000000LL;
	/* Check one PID per step and sleep while it lingers, so this loop costs next to
	 * no CPU and leaves the cores to the init and the exiting orphans. */
	while (left > 0) {
		if (kill(pids[left - 1], 0) != 0 && errno == ESRCH) {
			left--;
			continue;
		}
		if (now_ns() > deadline) {
			errno = 0;
			return fail("%d of %d orphans not reaped after %d s", left, n, GONE_WAIT_S);
		}
		pause_poll();
	}
	free(pids);
	return wait_alone() != 0 ? 1 : wait_init_asleep();
}

static int storm_fork(int n)
{
	for (int i = 0; i < n; i++) {
		int status;
		pid_t middle = fork();
		if (middle < 0)
			return fail("fork %d", i);
		if (middle == 0) {
			pid_t orphan = fork();
			_exit(orphan < 0 ? 1 : 0);
		}
		/* the middle exits at once; alarm() bounds this wait */
		while (waitpid(middle, &status, 0) < 0) {
			if (errno != EINTR)
				return fail("waitpid");
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			errno = 0;
			return fail("middle %d failed (status 0x%x)", i, (unsigned)status);
		}
		/* the orphan (when fork returned 0 in the middle) just calls _exit(0) */
	}
	return wait_alone() != 0 ? 1 : wait_init_asleep();
}

int main(int argc, char **argv)
{
	unsigned long long cpu0, cpu1, sw0, sw1;
	long long t0, t1;
	char *end;
	long n;
	int rc;

	(void)alarm(DEADLINE_S); /* returns the previous alarm, never fails */
	if (argc != 3 || (strcmp(argv[1], "reap") != 0 && strcmp(argv[1], "fork") != 0)) {
		(void)fputs("usage: bench-storm reap|fork N\n", stderr); /* exit 2 says it too */
		return 2;
	}
	n = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || n < 1 || n > MAX_N) {
		(void)fputs("bench-storm: N must be 1..100000\n", stderr); /* exit 2 says it too */
		return 2;
	}
	if (getppid() != 1) {
		errno = 0;
		return fail("parent is not PID 1 (run me under INIT in a fresh PID namespace)");
	}
	/* nothing but the init and us may be here, or the counts mean nothing */
	if (wait_alone() != 0 || wait_init_asleep() != 0)
		return 1;
	if (init_cpu_ns(&cpu0) != 0)
		return fail("/proc/1/schedstat");
	if (init_switches(&sw0) != 0)
		return fail("/proc/1/status");
	t0 = now_ns();
	rc = strcmp(argv[1], "reap") == 0 ? storm_reap((int)n) : storm_fork((int)n);
	if (rc != 0)
		return rc;
	t1 = now_ns();
	if (init_cpu_ns(&cpu1) != 0)
		return fail("/proc/1/schedstat");
	if (init_switches(&sw1) != 0)
		return fail("/proc/1/status");
	if (printf("ok n=%ld init_cpu_ns=%llu init_wakeups=%llu wall_ns=%lld\n", n, cpu1 - cpu0,
		   sw1 - sw0, t1 - t0) < 0 ||
	    fflush(stdout) != 0)
		return fail("stdout");
	return 0;
}
