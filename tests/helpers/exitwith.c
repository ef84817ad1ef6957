/* exitwith: end in a chosen way (integration tests of exit statuses).
 *
 *   exitwith CODE     exit(CODE), CODE in 0..255
 *   exitwith -s SIG   die by signal SIG (its default action, no core file)
 *
 * Exits 99 on bad usage or if it is still alive after raising SIG. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "exitwith: bad number '%s'\n", s);
		exit(99);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct rlimit none = {0, 0};
	sigset_t one;
	int sig;

	if (argc == 2)
		return (int)number(argv[1], 0, 255);
	if (argc != 3 || argv[1][0] != '-' || argv[1][1] != 's' || argv[1][2]) {
		fprintf(stderr, "usage: exitwith CODE | exitwith -s SIG\n");
		return 99;
	}
	sig = (int)number(argv[2], 1, NSIG - 1);
	/* A core dump would only cost time (core_pattern may be a pipe). */
	if (setrlimit(RLIMIT_CORE, &none) != 0)
		perror("exitwith: setrlimit");
	if (sig != SIGKILL && sig != SIGSTOP && signal(sig, SIG_DFL) == SIG_ERR)
		perror("exitwith: signal");
	if (sigemptyset(&one) != 0 || sigaddset(&one, sig) != 0 ||
	    sigprocmask(SIG_UNBLOCK, &one, NULL) != 0)
		perror("exitwith: sigprocmask");
	if (kill(getpid(), sig) != 0)
		perror("exitwith: kill");
	fprintf(stderr, "exitwith: still alive after signal %d\n", sig);
	return 99;
}
