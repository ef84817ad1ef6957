/* sigreport: a child that reports every signal it catches (integration tests).
 *
 *   sigreport EXITSIG CODE
 *
 * Installs a handler for every catchable signal, then forks a grandchild that
 * stays in its process group. Each of the two writes "ready ROLE PID PGID" to
 * stdout (ROLE is "child" or "grandchild") once set up, then one line
 * "caught ROLE SIGNUM" per signal it catches. Signal EXITSIG makes the process
 * that caught it exit with CODE. Each line is one write(2), so lines from the
 * two processes sharing a pipe never interleave.
 *
 * Every wait is bounded: after 60 s without EXITSIG a process prints
 * "timeout ROLE" and exits 98. Setup errors: message on stderr, exit 99. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIFETIME_S 60

static const char *role = "child";
static int exit_sig;
static volatile sig_atomic_t stop;

/* Append the decimal form of v to buf at *len; async-signal-safe. */
static void put_num(char *buf, size_t *len, long v)
{
	char digits[24];
	int n = 0;

	if (v < 0) {
		buf[(*len)++] = '-';
		v = -v;
	}
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		buf[(*len)++] = digits[--n];
}

static void put_str(char *buf, size_t *len, const char *s)
{
	while (*s)
		buf[(*len)++] = *s++;
}

/* One line in one write(2); async-signal-safe. A short or failed write only
 * loses a report line, which the test then notices. */
static void say(const char *word, long a, long b, int nums)
{
	char buf[128];
	size_t len = 0;
	int saved = errno;

	put_str(buf, &len, word);
	buf[len++] = ' ';
	put_str(buf, &len, role);
	if (nums >= 1) {
		buf[len++] = ' ';
		put_num(buf, &len, a);
	}
	if (nums >= 2) {
		buf[len++] = ' ';
		put_num(buf, &len, b);
	}
	buf[len++] = '\n';
	while (write(STDOUT_FILENO, buf, len) < 0 && errno == EINTR)
		;
	errno = saved;
}

static void on_signal(int sig)
{
	say("caught", sig, 0, 1);
	if (sig == exit_sig)
		stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "sigreport: %s: %s\n", what, strerror(errno));
	exit(99);
}

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until EXITSIG has been caught or the lifetime is over. */
static int wait_for_exit_signal(int code)
{
	long long deadline = now_ms() + LIFETIME_S * 1000LL;

	while (!stop) {
		long long left = deadline - now_ms();

		if (left <= 0) {
			say("timeout", 0, 0, 0);
			return 98;
		}
		/* No fds: ppoll only sleeps; a caught signal ends it with EINTR. */
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
		if (ppoll(NULL, 0, &ts, NULL) < 0 && errno != EINTR)
			die("ppoll");
	}
	return code;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char *end;
	long code;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: sigreport EXITSIG CODE\n");
		return 99;
	}
	exit_sig = (int)strtol(argv[1], &end, 10);
	if (*end || exit_sig <= 0 || exit_sig >= NSIG)
		return 99;
	code = strtol(argv[2], &end, 10);
	if (*end || code < 0 || code > 255)
		return 99;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sigfillset(&sa.sa_mask) != 0) /* handlers never nest: whole lines */
		die("sigfillset");
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* EINVAL: a number libc keeps for itself (32..34 in musl) */
		if (sigaction(sig, &sa, NULL) != 0 && errno != EINVAL)
			die("sigaction");
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		role = "grandchild";
	say("ready", (long)getpid(), (long)getpgrp(), 2);
	return wait_for_exit_signal((int)code);
}
