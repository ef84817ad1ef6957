/* Unit tests: base/fdio (read_full/write_full retry EINTR and short counts;
 * read_file_at's size limit and O_NOFOLLOW). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fdio.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* SIGALRM every 2 ms without SA_RESTART, so blocking reads and writes fail
 * with EINTR or return short counts. */
static void interrupt_often(int on)
{
	struct sigaction sa;
	struct itimerval it = {{0, on ? 2000 : 0}, {0, on ? 2000 : 0}};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_alarm : SIG_DFL;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void nap_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A child that writes total bytes of a known pattern in small pieces with
 * pauses, so the parent's read blocks (and is interrupted) many times. */
static pid_t slow_writer(int fd, size_t total)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[1000];
		for (size_t off = 0; off < total;) {
			size_t k = total - off < sizeof(buf) ? total - off : sizeof(buf);
			for (size_t i = 0; i < k; i++)
				buf[i] = (char)('a' + (off + i) % 26);
			if (write_full(fd, buf, k) < 0)
				_exit(1);
			off += k;
			nap_ms(5);
		}
		_exit(0);
	}
	return pid;
}

static void test_read_full_interrupted(void **state)
{
	enum { TOTAL = 20000 };
	static char got[TOTAL + 10];
	int p[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = slow_writer(p[1], TOTAL);
	assert_int_equal(close(p[1]), 0);
	alarms = 0;
	interrupt_often(1);
	assert_int_equal(read_full(p[0], got, 5000), 5000); /* n bytes, not a short read */
	assert_int_equal(read_full(p[0], got + 5000, sizeof(got) - 5000), TOTAL - 5000); /* EOF */
	interrupt_often(0);
	assert_true(alarms > 0);
	for (size_t i = 0; i < TOTAL; i++)
		assert_int_equal(got[i], 'a' + i % 26);
	assert_int_equal(read_full(p[0], got, 10), 0); /* at EOF */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(close(p[0]), 0);
}

static void test_write_full_interrupted(void **state)
{
	enum { TOTAL = 1 << 20 }; /* far more than a pipe holds */
	char *buf = malloc(TOTAL);
	int p[2], status;
	pid_t pid;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < TOTAL; i++)
		buf[i] = (char)(i * 7);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* a slow reader that checks every byte */
		static char in[4096];
		size_t off = 0;
		ssize_t r;
		(void)close(p[1]);
		while ((r = read_full(p[0], in, sizeof(in))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				if (in[i] != (char)((off + (size_t)i) * 7))
					_exit(2);
			off += (size_t)r;
			if (off % (64 * 1024) == 0)
				nap_ms(1);
		}
		_exit(r == 0 && off == TOTAL ? 0 : 1);
	}
	assert_int_equal(close(p[0]), 0);
	alarms = 0;
	interrupt_often(1);
	assert_int_equal(write_full(p[1], buf, TOTAL), 0);
	interrupt_often(0);
	assert_true(alarms > 0);
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(buf);
}

static void test_write_full_would_block(void **state)
{
	static char buf[1 << 20];
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(write_full(p[1], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	errno = 0;
	assert_int_equal(read_full(p[0], buf, sizeof(buf)), -1); /* drained, then EAGAIN */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(close(p[0]), 0);
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(write_full(p[1], buf, 1), -1);
	assert_int_equal(errno, EBADF);
}

static char tmpdir[64];

static void put_file(const char *name, size_t n)
{
	char path[128];
	char *data = malloc(n + 1);
	int fd;

	assert_non_null(data);
	memset(data, 'x', n);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write_full(fd, data, n), 0);
	assert_int_equal(close(fd), 0);
	free(data);
}

static void test_read_file_at(void **state)
{
	char *out = NULL, path[128];
	size_t len = 0;
	int dirfd;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_fdio.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dirfd >= 0);
	put_file("empty", 0);
	put_file("small", 99);
	put_file("big", 100000); /* several reads and reallocs */

	assert_int_equal(read_file_at(dirfd, "empty", &out, &len, 100), 0);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(read_file_at(dirfd, "small", &out, NULL, 100), 0);
	assert_int_equal(strlen(out), 99);
	free(out);
	assert_int_equal(read_file_at(dirfd, "big", &out, &len, 200000), 0);
	assert_int_equal(len, 100000);
	assert_int_equal(strlen(out), 100000);
	free(out);

	out = NULL;
	errno = 0;
	assert_int_equal(read_file_at(dirfd, "big", &out, &len, 99999), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(out);
	assert_int_equal(read_file_at(dirfd, "small", &out, &len, 50), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(read_file_at(dirfd, "missing", &out, &len, 50), -1);
	assert_int_equal(errno, ENOENT);

	/* a symlink in the last component is not followed, by name or by path */
	assert_int_equal(symlinkat("small", dirfd, "link"), 0);
	assert_int_equal(read_file_at(dirfd, "link", &out, &len, 100), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	assert_int_equal(read_file_at(AT_FDCWD, path, &out, &len, 100), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(path, sizeof(path), "%s/small", tmpdir);
	assert_int_equal(read_file_at(AT_FDCWD, path, &out, &len, 100), 0);
	assert_int_equal(len, 99);
	free(out);

	assert_int_equal(unlinkat(dirfd, "link", 0), 0);
	assert_int_equal(unlinkat(dirfd, "empty", 0), 0);
	assert_int_equal(unlinkat(dirfd, "small", 0), 0);
	assert_int_equal(unlinkat(dirfd, "big", 0), 0);
	assert_int_equal(close(dirfd), 0);
	assert_int_equal(rmdir(tmpdir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_full_interrupted),
	    cmocka_unit_test(test_write_full_interrupted),
	    cmocka_unit_test(test_write_full_would_block),
	    cmocka_unit_test(test_read_file_at),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
