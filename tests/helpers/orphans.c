/* orphans: a double-fork storm (integration tests of reaping).
 *
 *   orphans N now       a middle child forks N grandchildren that exit at
 *                       once, and exits itself: N orphans, many already
 *                       zombies when they are re-parented
 *   orphans N barrier   the N grandchildren wait on a pipe until the middle
 *                       child has exited and been reaped, so all of them are
 *                       orphans while alive; prints
 *                       "reparented R of N to P" (R: those whose PPid is P,
 *                       this process's parent), then releases them
 *
 * Then it waits (at most 5 s, 1 ms steps: nothing announces that another
 * process reaped them) until none of the N pids exists any more, and prints
 * "gone G of N", "zombies Z" (processes in state Z anywhere in /proc) and
 * "done", and exits 0. Setup errors: message on stderr, exit 99. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ORPHANS  5000
#define GONE_WAIT_MS 5000

static void die(const char *what)
{
	fprintf(stderr, "orphans: %s: %s\n", what, strerror(errno));
	exit(99);
}

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* State letter and parent of a process from /proc/PID/stat; -1 if gone. */
static int proc_stat(long pid, char *state, long *ppid)
{
	char path[64], buf[512];
	const char *p;
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	(void)close(fd); /* read-only fd: nothing to lose */
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!p || sscanf(p + 1, " %c %ld", state, ppid) != 2)
		return -1;
	return 0;
}

static int count_zombies(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int zombies = 0;

	if (!d)
		die("opendir /proc");
	while ((e = readdir(d)) != NULL) {
		char *end, state;
		long ppid, pid = strtol(e->d_name, &end, 10);

		if (*end == '\0' && pid > 0 && proc_stat(pid, &state, &ppid) == 0 && state == 'Z')
			zombies++;
	}
	(void)closedir(d); /* read-only directory stream */
	return zombies;
}

/* Middle child: fork n grandchildren, report their pids, exit. After fork,
 * async-signal-safe calls only. barrier < 0: grandchildren exit at once. */
static void __attribute__((noreturn)) middle(int n, int barrier, int report)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			char c;

			if (barrier >= 0)
				while (read(barrier, &c, 1) < 0 && errno == EINTR)
					;
			_exit(0);
		}
		if (write(report, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			_exit(3);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	static pid_t pids[MAX_ORPHANS];
	int n, use_barrier, barrier[2] = {-1, -1}, report[2], status, gone = 0;
	long long deadline;
	char *end;
	pid_t mid;

	if (argc != 3 || (strcmp(argv[2], "now") != 0 && strcmp(argv[2], "barrier") != 0)) {
		fprintf(stderr, "usage: orphans N now|barrier\n");
		return 99;
	}
	n = (int)strtol(argv[1], &end, 10);
	if (*end || n < 1 || n > MAX_ORPHANS)
		return 99;
	use_barrier = strcmp(argv[2], "barrier") == 0;
	if ((use_barrier && pipe2(barrier, O_CLOEXEC) != 0) || pipe2(report, O_CLOEXEC) != 0)
		die("pipe2");
	mid = fork();
	if (mid < 0)
		die("fork");
	if (mid == 0) {
		if (use_barrier)
			(void)close(barrier[1]); /* only the top process may hold it */
		(void)close(report[0]);
		middle(n, barrier[0], report[1]);
	}
	if (use_barrier)
		(void)close(barrier[0]);
	(void)close(report[1]);
	for (int got = 0; got < n;) {
		ssize_t r = read(report[0], pids + got, sizeof(pid_t));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(pid_t))
			die("read pids (middle child failed?)");
		got++;
	}
	(void)close(report[0]);
	while (waitpid(mid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "orphans: middle child failed (status %#x)\n", status);
		return 99;
	}
	if (use_barrier) {
		/* The middle child is reaped, so its children were re-parented. */
		long parent = (long)getppid();
		int reparented = 0;

		for (int i = 0; i < n; i++) {
			char state;
			long ppid;

			if (proc_stat(pids[i], &state, &ppid) == 0 && ppid == parent)
				reparented++;
		}
		printf("reparented %d of %d to %ld\n", reparented, n, parent);
		if (fflush(stdout) != 0)
			die("stdout");
		if (close(barrier[1]) != 0) /* EOF: every grandchild exits now */
			die("close barrier");
	}
	deadline = now_ms() + GONE_WAIT_MS;
	for (int i = 0; i < n; i++) {
		char state;
		long ppid;

		while (proc_stat(pids[i], &state, &ppid) == 0 && now_ms() < deadline) {
			struct timespec ms = {.tv_nsec = 1000000};
			(void)nanosleep(&ms, NULL); /* EINTR only shortens one step */
		}
		if (proc_stat(pids[i], &state, &ppid) != 0)
			gone++;
	}
	printf("gone %d of %d\nzombies %d\ndone\n", gone, n, count_zombies());
	return fflush(stdout) == 0 ? 0 : 99;
}
