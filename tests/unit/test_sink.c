/* Unit tests: line assembly and the bounded, non-blocking output sink. */
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
#include <unistd.h>

#include "run/sink.h"

struct seen {
	int n;
	char text[16][64];
	size_t len[16];
	unsigned flags[16];
	size_t total;
};

static void collect(void *arg, const char *line, size_t len, unsigned flags)
{
	struct seen *s = arg;
	if (s->n < 16) {
		snprintf(s->text[s->n], sizeof(s->text[0]), "%.*s", (int)(len < 63 ? len : 63),
			 line);
		s->len[s->n] = len;
		s->flags[s->n] = flags;
	}
	s->n++;
	s->total += len;
}

static void test_lines_split_across_reads(void **state)
{
	struct linebuf *lb = calloc(1, sizeof(*lb));
	struct seen s = {0};
	(void)state;

	linebuf_feed(lb, "hel", 3, collect, &s);
	assert_int_equal(s.n, 0);
	linebuf_feed(lb, "lo\nwor", 6, collect, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.text[0], "hello");
	assert_int_equal(s.flags[0], 0);
	linebuf_feed(lb, "ld\r\n\nx", 6, collect, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[1], "world\r");
	assert_int_equal(s.len[2], 0);
	linebuf_finish(lb, collect, &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.text[3], "x");
	assert_int_equal(s.flags[3], LINE_UNTERMINATED);
	linebuf_finish(lb, collect, &s); /* nothing left: no empty line */
	assert_int_equal(s.n, 4);
	free(lb);
}

static void test_overlong_line_in_pieces(void **state)
{
	struct linebuf *lb = calloc(1, sizeof(*lb));
	struct seen s = {0};
	size_t n = LINEBUF_MAX * 2 + 10;
	char *big = malloc(n + 1);
	(void)state;

	memset(big, 'a', n);
	big[n] = '\n';
	linebuf_feed(lb, big, n + 1, collect, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.len[0], LINEBUF_MAX);
	assert_int_equal(s.flags[0], LINE_UNTERMINATED);
	assert_int_equal(s.len[1], LINEBUF_MAX);
	assert_int_equal(s.flags[1], LINE_UNTERMINATED | LINE_CONTINUED);
	assert_int_equal(s.len[2], 10);
	assert_int_equal(s.flags[2], LINE_CONTINUED);
	assert_int_equal(s.total, n); /* nothing lost */
	linebuf_feed(lb, "b\n", 2, collect, &s);
	assert_int_equal(s.flags[3], 0);
	free(big);
	free(lb);
}

static void test_exact_fit_line(void **state)
{
	struct linebuf *lb = calloc(1, sizeof(*lb));
	struct seen s = {0};
	char *big = malloc(LINEBUF_MAX - 1 + 1);
	(void)state;
	memset(big, 'z', LINEBUF_MAX - 1);
	big[LINEBUF_MAX - 1] = '\n';
	linebuf_feed(lb, big, LINEBUF_MAX, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.len[0], LINEBUF_MAX - 1);
	assert_int_equal(s.flags[0], 0);
	free(big);
	free(lb);
}

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t r;
	while (got < cap && (r = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)r;
	return got;
}

static void test_sink_drops_and_reports(void **state)
{
	int p[2];
	struct sink s;
	char line[100];
	static char out[1 << 20];
	size_t got;
	int accepted = 0, dropped = 0;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0, 1);
	assert_int_equal(sink_init(&s, p[1], 8192), 0);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	/* Nobody reads: the pipe (4 KiB) and the ring (8 KiB) fill, then lines drop. */
	for (int i = 0; i < 400; i++) {
		if (sink_put(&s, line, sizeof(line)))
			accepted++;
		else
			dropped++;
	}
	assert_true(dropped > 0);
	assert_int_equal(s.dropped_total, (uint64_t)dropped * sizeof(line));
	/* Reader catches up: everything accepted comes out whole, then the marker. */
	got = 0;
	for (int round = 0; round < 100 && (sink_pending(&s) > 0 || s.dropped > 0); round++) {
		got += read_all(p[0], out + got, sizeof(out) - got);
		assert_int_equal(sink_flush(&s), 0);
	}
	got += read_all(p[0], out + got, sizeof(out) - got);
	/* The output is whole lines: the accepted ones, and marker lines whose
	 * counts add up to exactly what was dropped. */
	static const char mk[] = "hfinit: warn: output too fast for stdout: ";
	unsigned long long reported = 0;
	int lines = 0;
	for (size_t off = 0; off < got;) {
		char *nl = memchr(out + off, '\n', got - off);
		assert_non_null(nl);
		size_t len = (size_t)(nl - (out + off));
		if (len == sizeof(line) - 1) {
			assert_memory_equal(out + off, line, sizeof(line) - 1);
			lines++;
		} else {
			unsigned long long d;
			assert_memory_equal(out + off, mk, strlen(mk));
			assert_int_equal(sscanf(out + off + strlen(mk), "%llu bytes dropped", &d),
					 1);
			reported += d;
		}
		off += len + 1;
	}
	assert_int_equal(lines, accepted);
	assert_int_equal(reported, s.dropped_total);
	/* after the marker, output flows again */
	assert_true(sink_put(&s, "ok\n", 3));
	assert_int_equal(sink_flush(&s), 0);
	assert_int_equal(read_all(p[0], out, sizeof(out)), 3);
	sink_free(&s);
	close(s.fd);
	close(p[0]);
	close(p[1]);
}

static void test_sink_regular_file(void **state)
{
	char path[] = "/tmp/hfinit-sink-XXXXXX";
	int fd = mkstemp(path);
	struct sink s;
	char buf[64];
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(sink_init(&s, fd, 16), 0);
	assert_true(s.blocking_fd);
	assert_true(sink_put(&s, "0123456789\n", 11));
	assert_int_equal(sink_pending(&s), 0); /* written through at once */
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 11);
	sink_free(&s);
	close(fd);
	unlink(path);
}

static void fill_pipe_sink(struct sink *s, int p[2], size_t cap, size_t max)
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0, 1);
	assert_int_equal(sink_init(s, p[1], cap), 0);
	s->max = max;
}

/* The ring doubles up to max rather than drop; beyond max, whole lines drop
 * and are counted in bytes and lines; after a drain it is back to its base. */
static void test_sink_grows_to_max(void **state)
{
	int p[2];
	struct sink s;
	char line[100];
	static char out[1 << 16];
	int accepted = 0;
	(void)state;

	fill_pipe_sink(&s, p, 8192, 32768);
	memset(line, 'y', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	while (sink_put(&s, line, sizeof(line)))
		accepted++;
	assert_int_equal(s.cap, 32768);
	/* 40 lines went into the one-page pipe (a write of up to PIPE_BUF bytes is
	 * all or nothing), 32768 / 100 whole lines into the grown ring */
	assert_int_equal(accepted, 40 + 32768 / 100);
	assert_int_equal(s.dropped_total, 100);
	assert_int_equal(s.dropped_lines, 1);
	assert_string_equal(s.why, "buffer full");
	for (int round = 0; round < 100 && sink_pending(&s) > 0; round++) {
		(void)read_all(p[0], out, sizeof(out));
		assert_int_equal(sink_flush(&s), 0);
	}
	assert_int_equal(s.cap, 8192);
	sink_free(&s);
	close(s.fd);
	close(p[0]);
	close(p[1]);
}

/* Nobody reads (EPIPE): what was pending and everything after is counted, no
 * write is tried again. */
static void test_sink_broken_counts_lines(void **state)
{
	int p[2];
	struct sink s;
	(void)state;

	signal(SIGPIPE, SIG_IGN);
	fill_pipe_sink(&s, p, 8192, 8192);
	close(p[0]);
	assert_true(sink_put(&s, "one\ntwo\n", 8)); /* queued */
	errno = 0;
	assert_int_equal(sink_flush(&s), -1);
	assert_int_equal(errno, EPIPE);
	assert_true(s.broken);
	assert_string_equal(s.why, strerror(EPIPE));
	assert_false(sink_put(&s, "three\n", 6));
	assert_int_equal(s.dropped_lines, 3);
	assert_int_equal(s.dropped_total, 14);
	assert_int_equal(sink_pending(&s), 0);
	assert_int_equal(s.dropped, 0); /* no marker for a broken fd */
	sink_free(&s);
	close(s.fd);
	close(p[1]);
}

/* At exit, what the reader did not take by the deadline is cut and counted. */
static void test_sink_drain_cut(void **state)
{
	int p[2];
	struct sink s;
	char line[64];
	(void)state;

	fill_pipe_sink(&s, p, 8192, 8192);
	memset(line, 'z', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 100; i++) /* 4096 into the pipe, 2304 bytes pending */
		assert_true(sink_put(&s, line, sizeof(line)));
	assert_int_equal(sink_pending(&s), 100 * 64 - 4096);
	sink_drain(&s, sink_now_ms() + 10, "cut");
	assert_int_equal(sink_pending(&s), 0);
	assert_int_equal(s.dropped_total, 100 * 64 - 4096);
	assert_int_equal(s.dropped_lines, 36);
	assert_string_equal(s.why, "cut");
	sink_free(&s);
	close(s.fd);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_split_across_reads),
	    cmocka_unit_test(test_overlong_line_in_pieces),
	    cmocka_unit_test(test_exact_fit_line),
	    cmocka_unit_test(test_sink_drops_and_reports),
	    cmocka_unit_test(test_sink_regular_file),
	    cmocka_unit_test(test_sink_grows_to_max),
	    cmocka_unit_test(test_sink_broken_counts_lines),
	    cmocka_unit_test(test_sink_drain_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
