/* ignoreterm: a child that leaves a grandchild behind (integration tests of
 * the clean-up after the child exits).
 *
 *   ignoreterm ignore|obey CODE
 *
 * The child ignores SIGTERM and forks a grandchild. The grandchild catches
 * SIGTERM and writes "term grandchild PID"; with "ignore" it then carries
 * on, with "obey" it exits 0. Both write "ready ROLE PID" when set up. The
 * child exits with CODE as soon as a byte (or EOF) arrives on stdin; the
 * grandchild lives on until it is killed. Every wait is bounded: after 60 s
 * either prints "timeout ROLE" and exits 98. Setup errors: exit 99. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIFETIME_MS 60000

static int obey;
static char term_line[64];
static size_t term_len;

/* Also used in the grandchild: async-signal-safe (the errno goes unnamed). */
static void die(const char *what)
{
	const char *p = "ignoreterm: failed: ";

	(void)!write(STDERR_FILENO, p, strlen(p)); /* exiting with 99 says it anyway */
	(void)!write(STDERR_FILENO, what, strlen(what));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(99);
}

/* "WORD ROLE PID\n" into buf (at least 64 bytes); async-signal-safe. */
static size_t format_line(char *buf, const char *word, const char *role, long pid)
{
	char digits[24];
	size_t len = 0;
	int n = 0;

	while (*word)
		buf[len++] = *word++;
	buf[len++] = ' ';
	while (*role)
		buf[len++] = *role++;
	buf[len++] = ' ';
	do {
		digits[n++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid > 0);
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

static void say(const char *line)
{
	size_t len = strlen(line);

	while (write(STDOUT_FILENO, line, len) < 0 && errno == EINTR)
		;
}

static void on_term(int sig)
{
	int saved = errno;

	(void)sig;
	while (write(STDOUT_FILENO, term_line, term_len) < 0 && errno == EINTR)
		;
	if (obey)
		_exit(0);
	errno = saved;
}

/* poll() on fd (or just sleep, fd < 0) until it is readable or the lifetime
 * ends; signals that were caught only restart the wait. */
static int wait_readable(int fd, int lifetime_ms)
{
	struct timespec t0, t;

	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0)
		die("clock_gettime");
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long spent;
		int r;

		if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
			die("clock_gettime");
		spent = (t.tv_sec - t0.tv_sec) * 1000LL + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= lifetime_ms)
			return -1;
		r = poll(&p, 1, (int)(lifetime_ms - spent));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			die("poll");
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char line[64], *end;
	long code;
	pid_t pid;

	if (argc != 3 || (strcmp(argv[1], "ignore") != 0 && strcmp(argv[1], "obey") != 0)) {
		fprintf(stderr, "usage: ignoreterm ignore|obey CODE\n");
		return 99;
	}
	obey = strcmp(argv[1], "obey") == 0;
	code = strtol(argv[2], &end, 10);
	if (*end || code < 0 || code > 255)
		return 99;
	if (signal(SIGTERM, SIG_IGN) == SIG_ERR)
		die("signal");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		term_len = format_line(term_line, "term", "grandchild", (long)getpid());
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_term;
		if (sigaction(SIGTERM, &sa, NULL) != 0)
			die("sigaction");
		(void)format_line(line, "ready", "grandchild", (long)getpid());
		say(line);
		(void)wait_readable(-1, LIFETIME_MS); /* fd -1: poll just sleeps */
		say("timeout grandchild\n");
		return 98;
	}
	(void)format_line(line, "ready", "child", (long)getpid());
	say(line);
	if (wait_readable(STDIN_FILENO, LIFETIME_MS) < 0) {
		say("timeout child\n");
		return 98;
	}
	return (int)code;
}
