/* bench-getpid [ITERATIONS [REPEATS]]: time getpid(2) in a tight loop (a raw
 * syscall each time: nothing caches it) and print the best and the median
 * nanoseconds per call over REPEATS runs:
 *   getpid ns_best=41.20 ns_median=41.90 iterations=2000000 repeats=7
 * bench/seccomp.py runs it as a service of hfinit with and without a filter. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPEATS 101

static double now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
	int reps = argc > 2 ? atoi(argv[2]) : 7;
	double ns[MAX_REPEATS];

	if (iters < 1 || reps < 1 || reps > MAX_REPEATS) {
		fprintf(stderr, "usage: bench-getpid [ITERATIONS [REPEATS <= %d]]\n", MAX_REPEATS);
		return 2;
	}
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		for (long i = 0; i < iters; i++)
			if (syscall(SYS_getpid) < 0) {
				perror("getpid");
				return 1;
			}
		ns[r] = (now_ns() - t0) / (double)iters;
	}
	qsort(ns, (size_t)reps, sizeof(ns[0]), cmp);
	printf("getpid ns_best=%.2f ns_median=%.2f iterations=%ld repeats=%d\n", ns[0],
	       ns[reps / 2], iters, reps);
	return 0;
}
