/* bench-sleeper: the child an init supervises in the idle and SIGTERM benches.
 *
 *   bench-sleeper [DEADLINE_S]
 *
 * Installs a SIGTERM handler, writes "ready\n" to stdout and sleeps in pause().
 * On SIGTERM the handler stamps CLOCK_MONOTONIC (the same clock outside the PID
 * namespace, since unshare makes no time namespace), writes "term NS\n" to stdout
 * and exits 0. The bench stamps the same clock just before kill(init, SIGTERM),
 * so the difference is the init's forwarding latency.
 *
 * alarm(DEADLINE_S) (default 60) bounds its life: if nobody signals it, SIGALRM's
 * default action ends it and the init with it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* write() the whole buffer; async-signal-safe. */
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

static void on_term(int sig)
{
	struct timespec ts;
	char buf[64];
	char digits[24];
	size_t nd = 0;
	size_t len = 0;
	unsigned long long ns;

	(void)sig;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		_exit(3);
	ns = (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
	do {
		digits[nd++] = (char)('0' + ns % 10);
		ns /= 10;
	} while (ns > 0 && nd < sizeof(digits));
	memcpy(buf, "term ", 5);
	len = 5;
	while (nd > 0)
		buf[len++] = digits[--nd];
	buf[len++] = '\n';
	_exit(write_all(STDOUT_FILENO, buf, len) == 0 ? 0 : 4);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	unsigned deadline = 60;

	if (argc > 1) {
		char *end;
		unsigned long v = strtoul(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || v == 0 || v > 3600) {
			static const char msg[] = "usage: bench-sleeper [DEADLINE_S 1..3600]\n";
			/* nothing left to report if stderr is gone */
			(void)write_all(STDERR_FILENO, msg, sizeof(msg) - 1);
			return 2;
		}
		deadline = (unsigned)v;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return 1;
	/* alarm() returns the previous alarm's remaining seconds, never an error */
	(void)alarm(deadline);
	if (write_all(STDOUT_FILENO, "ready\n", 6) != 0)
		return 1;
	/* pause() only ever returns -1/EINTR after a handled signal; ours exits */
	for (;;)
		(void)pause();
}
