/* rename-racer: the attacker of a path that root creates in /tmp.
 *
 *   rename-racer DIR LINK TARGET SECONDS
 *
 * Makes DIR (a directory of its own, mode 0755, with a planted file
 * `planted` in it) and LINK (a symlink to TARGET), prints "racing" and then
 * swaps the two names with renameat2(RENAME_EXCHANGE) in a loop, so that
 * DIR is in turn the directory and the symlink. Run it as another uid
 * (setpriv). Bounded: it stops after SECONDS, or on SIGTERM, and prints
 * "swaps N". Exits 0, 1 when a swap fails, 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char planted[4096];
	unsigned long swaps = 0;
	double end;
	int fd;

	if (argc != 5 || atoi(argv[4]) <= 0) {
		fprintf(stderr, "usage: rename-racer DIR LINK TARGET SECONDS\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	if (mkdir(argv[1], 0755) != 0 || symlink(argv[3], argv[2]) != 0) {
		fprintf(stderr, "rename-racer: setup: %s\n", strerror(errno));
		return 1;
	}
	snprintf(planted, sizeof(planted), "%s/planted", argv[1]);
	fd = open(planted, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || close(fd) != 0) {
		fprintf(stderr, "rename-racer: %s: %s\n", planted, strerror(errno));
		return 1;
	}
	printf("racing\n");
	fflush(stdout);
	end = now() + atoi(argv[4]);
	while (!stop) {
		if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) !=
		    0) {
			fprintf(stderr, "rename-racer: swap: %s\n", strerror(errno));
			return 1;
		}
		if (++swaps % 1024 == 0 && now() > end)
			break;
	}
	printf("swaps %lu\n", swaps);
	return 0;
}
