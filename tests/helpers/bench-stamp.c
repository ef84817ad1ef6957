/* bench-stamp: CLOCK_MONOTONIC stamps for the supervision benches (bench/run.py).
 *
 *   bench-stamp stage2            stamp first thing in main, print "S2 NS", exit 0
 *   bench-stamp line              stamp, print "ready", print "S1 NS", wait
 *   bench-stamp notify            stamp, send READY=1 to $NOTIFY_SOCKET, print "S1 NS", wait
 *   bench-stamp fd N              stamp, write "\n" on fd N, print "S1 NS", wait
 *   bench-stamp tick NAME FIFO MS stamp, write "NAME NS\n" to FIFO, then print
 *                                 "NAME tick K" every MS milliseconds (MS = 0: never), wait
 *   bench-stamp                   (no mode, or an unknown argv[1]: the s6 form, since
 *                                 s6-supervise runs ./run without our arguments) tick, with
 *                                 NAME = the working directory's last component and FIFO and
 *                                 MS from $BENCH_STAMP_FIFO and $BENCH_STAMP_TICK_MS
 *
 * The stage-1 modes stamp just before they signal readiness; stage2 stamps before
 * anything else, so S2 - S1 is the readiness gate: hfinit noticing the signal,
 * marking the stage ready, and fork+exec of the next stage. CLOCK_MONOTONIC is the
 * same in every PID namespace (unshare makes no time namespace).
 *
 * "Wait" is pause(); SIGTERM exits 0; alarm(300) bounds the life of every mode. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_S 300

static unsigned long long stamp(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		_exit(3);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int say(int fd, const char *fmt_word, unsigned long long v)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "%s %llu\n", fmt_word, v);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return write_all(fd, buf, (size_t)n);
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static int usage(void)
{
	static const char msg[] =
	    "usage: bench-stamp stage2 | line | notify | fd N | tick NAME FIFO MS\n";
	/* nothing left to report if stderr is gone */
	(void)write_all(STDERR_FILENO, msg, sizeof(msg) - 1);
	return 2;
}

static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int send_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;
	ssize_t n;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return -1;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: no trailing NUL counted */
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	/* a datagram socket: close cannot lose anything already sent */
	(void)close(fd);
	return n == 7 ? 0 : -1;
}

static int tick(const char *name, const char *fifo, unsigned long ms, unsigned long long t0)
{
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	int rc;
	unsigned long k;

	if (fd < 0)
		return 1;
	rc = say(fd, name, t0);
	/* the line is written (a FIFO write below PIPE_BUF is atomic); close cannot lose it */
	(void)close(fd);
	if (rc != 0)
		return 1;
	for (k = 1; ms > 0; k++) {
		struct timespec d = {.tv_sec = (time_t)(ms / 1000),
				     .tv_nsec = (long)(ms % 1000) * 1000000L};
		char word[140];
		while (nanosleep(&d, &d) != 0 && errno == EINTR)
			;
		if (snprintf(word, sizeof(word), "%s tick", name) >= (int)sizeof(word))
			return 1;
		if (say(STDOUT_FILENO, word, k) != 0)
			return 1;
	}
	for (;;)
		(void)pause(); /* returns only after a handled signal; SIGTERM's handler exits */
}

int main(int argc, char **argv)
{
	unsigned long long t0 = stamp(); /* first thing: stage2 measures its own exec */
	struct sigaction sa;
	const char *mode = argc > 1 ? argv[1] : "";
	unsigned long n;

	if (strcmp(mode, "stage2") == 0)
		return say(STDOUT_FILENO, "S2", t0) == 0 ? 0 : 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return 1;
	/* alarm() returns the previous alarm's remaining seconds, never an error */
	(void)alarm(DEADLINE_S);

	if (strcmp(mode, "tick") == 0) {
		if (argc != 5 || parse_num(argv[4], 3600000, &n) != 0)
			return usage();
		return tick(argv[2], argv[3], n, t0);
	}
	if (strcmp(mode, "line") == 0 || strcmp(mode, "notify") == 0 || strcmp(mode, "fd") == 0) {
		if (mode[0] == 'f' && (argc != 3 || parse_num(argv[2], 1023, &n) != 0 || n < 3))
			return usage();
		t0 = stamp(); /* just before the signal */
		if (mode[0] == 'l' && write_all(STDOUT_FILENO, "ready\n", 6) != 0)
			return 1;
		if (mode[0] == 'n' && send_ready() != 0) {
			perror("bench-stamp: READY=1 to $NOTIFY_SOCKET");
			return 1;
		}
		if (mode[0] == 'f' && write_all((int)n, "\n", 1) != 0) {
			perror("bench-stamp: write to the readiness fd");
			return 1;
		}
		if (say(STDOUT_FILENO, "S1", t0) != 0)
			return 1;
		for (;;)
			(void)pause(); /* see tick() */
	}

	/* the s6 form: ./run, no arguments of ours */
	{
		char cwd[4096];
		const char *name;
		if (getcwd(cwd, sizeof(cwd)) == NULL || getenv("BENCH_STAMP_FIFO") == NULL ||
		    parse_num(getenv("BENCH_STAMP_TICK_MS"), 3600000, &n) != 0)
			return usage();
		name = strrchr(cwd, '/');
		name = name != NULL ? name + 1 : cwd;
		return tick(name, getenv("BENCH_STAMP_FIFO"), n, t0);
	}
}
