/* docker-svc: a service for hfinit's supervision tests in FROM scratch Docker images
 * (no shell there, so this static program plays the service).
 *
 *   docker-svc NAME DELAY_MS [CODE]
 *
 * Blocks every signal and prints "NAME start T" at once, "NAME ready T" after
 * DELAY_MS milliseconds, then "NAME caught SIGNAME T" for each signal it receives
 * (read with sigtimedwait, so also during the delay). On SIGTERM it exits with CODE
 * (default 0) after its line. T is CLOCK_MONOTONIC in milliseconds: one clock for every
 * process of the container (Docker makes no time namespace), so the lines of two
 * services can be ordered in time. Each line is one write(2).
 *
 * Every wait is bounded: 60 s after start without SIGTERM it prints "NAME timeout T"
 * and exits 98. Bad usage or setup errors: message on stderr, exit 99. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LIFETIME_MS 60000LL

static const char *name;

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("docker-svc: clock_gettime");
		exit(99);
	}
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s %s %lld\n", name, what, now_ms());

	if (n < 0 || (size_t)n >= sizeof(buf)) {
		fprintf(stderr, "docker-svc: line too long\n");
		exit(99);
	}
	/* A failed write only loses a report line, which the test then notices. */
	while (write(STDOUT_FILENO, buf, (size_t)n) < 0 && errno == EINTR)
		;
}

static const char *signame(int sig, char *buf, size_t len)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},	   {SIGQUIT, "SIGQUIT"},
		     {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"},   {SIGTERM, "SIGTERM"},
		     {SIGCHLD, "SIGCHLD"}, {SIGWINCH, "SIGWINCH"}, {SIGCONT, "SIGCONT"},
		     {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	(void)snprintf(buf, len, "SIG%d", sig); /* always fits: len is 16 */
	return buf;
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "docker-svc: bad number '%s'\n", s);
		exit(99);
	}
	return v;
}

/* Wait for a signal until the absolute time `until` (ms); returns it, or 0 at the
 * deadline. */
static int next_signal(const sigset_t *all, long long until)
{
	for (;;) {
		long long left = until - now_ms();
		struct timespec ts;
		int sig;

		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		sig = sigtimedwait(all, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno != EAGAIN && errno != EINTR) {
			perror("docker-svc: sigtimedwait");
			exit(99);
		}
	}
}

int main(int argc, char **argv)
{
	long long start, ready_at, end;
	int code = 0, ready = 0;
	sigset_t all;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: docker-svc NAME DELAY_MS [CODE]\n");
		return 99;
	}
	name = argv[1];
	if (argc == 4)
		code = (int)number(argv[3], 0, 255);
	if (sigfillset(&all) != 0 || sigprocmask(SIG_BLOCK, &all, NULL) != 0) {
		perror("docker-svc: sigprocmask");
		return 99;
	}
	start = now_ms();
	ready_at = start + number(argv[2], 0, 30000);
	end = start + LIFETIME_MS;
	say("start");
	for (;;) {
		char buf[16], what[32];
		int sig;

		if (!ready && now_ms() >= ready_at) {
			say("ready");
			ready = 1;
		}
		sig = next_signal(&all, ready ? end : ready_at);
		if (sig == 0) {
			if (ready) {
				say("timeout");
				return 98;
			}
			continue;
		}
		(void)snprintf(what, sizeof(what), "caught %s", signame(sig, buf, sizeof(buf)));
		say(what);
		if (sig == SIGTERM)
			return code;
	}
}
