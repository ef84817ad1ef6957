/* Unit tests: line assembly and the bounded, non-blocking output sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
		s->flags[s->n] = flags & ~(unsigned)LINE_IN_PLACE; /* see test_lines_in_place */
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

/* sink_init makes a pipe hold as much as its ring: the tests that need a
 * full pipe make it small again (4 KiB) after it. */
static void small_pipe(int fd)
{
	assert_true(fcntl(fd, F_SETPIPE_SZ, 4096) >= 0);
}

/* A pipe is grown to the ring's size, never shrunk. */
static void test_sink_grows_pipe_to_ring(void **state)
{
	int p[2];
	struct sink s;
	(void)state;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[1], F_SETPIPE_SZ, 65536), 65536);
	assert_int_equal(sink_init(&s, p[1], 1 << 18), 0);
	assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), 1 << 18);
	sink_free(&s);
	close(s.fd);
	assert_int_equal(sink_init(&s, p[1], 8192), 0);
	assert_int_equal(fcntl(p[1], F_GETPIPE_SZ), 1 << 18);
	sink_free(&s);
	close(s.fd);
	close(p[0]);
	close(p[1]);
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
	assert_int_equal(sink_init(&s, p[1], 8192), 0);
	small_pipe(p[1]);
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
	assert_int_equal(sink_pending(&s), 11); /* queued: the caller flushes once */
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 0);
	assert_int_equal(sink_flush(&s), 0);
	assert_int_equal(sink_pending(&s), 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 11);
	sink_free(&s);
	close(fd);
	unlink(path);
}

/* Every piece length from 0 to 300 (the short copy's cases: under 8, 8 to
 * 15, 16 to 256 with an overlapping last 16, above 256), at every alignment
 * of the ring: the bytes come out as they went in. */
static void test_sink_putv_every_length(void **state)
{
	char path[] = "/tmp/hfinit-sink-XXXXXX";
	static char src[320], expect[320 * 301], got[320 * 301];
	size_t want = 0;
	int fd = mkstemp(path);
	struct sink s;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(sink_init(&s, fd, 1 << 17), 0);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (char)('a' + i % 26);
	for (size_t n = 0; n <= 300; n++) {
		struct iovec v[2] = {{src + n % 7, n}, {"\n", 1}};
		assert_true(sink_putv(&s, v, 2));
		memcpy(expect + want, src + n % 7, n);
		expect[want + n] = '\n';
		want += n + 1;
	}
	assert_int_equal(sink_flush(&s), 0);
	assert_int_equal(pread(fd, got, sizeof(got), 0), (ssize_t)want);
	assert_memory_equal(got, expect, want);
	sink_free(&s);
	close(fd);
	unlink(path);
}

/* sink_put_lines frames whole lines straight into the ring, in one stretch:
 * at any ring position and fill, with any limit, what it queued is exactly
 * head + line + newline for each line it took, no byte beyond is touched, and
 * it stopped only where it must (no newline, too long, past the limit, no
 * room left in the stretch). */
static void test_sink_put_lines_frames_and_stops(void **state)
{
	static char buf[3 * LINEBUF_MAX], want[4 * LINEBUF_MAX];
	static const size_t caps[] = {64, 300, 4096, 1 << 15};
	unsigned seed = 777;
	struct sink s;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC); /* never blocks: used as is */
	(void)state;

	assert_true(fd >= 0);
	for (int round = 0; round < 4000; round++) {
		size_t cap = caps[round % 4], n = 0, hl = round % 3 ? 7 : 0;
		const char *head = "[gen] x";
		seed = seed * 1103515245 + 12345;
		while (n < sizeof(buf) - LINEBUF_MAX - 1) { /* lines, short, empty, long */
			seed = seed * 1103515245 + 12345;
			size_t len = (seed >> 16) % 23 == 0 ? LINEBUF_MAX - 1 + (seed >> 8) % 3
							    : (seed >> 16) % 150;
			memset(buf + n, 'a' + (int)(n % 26), len);
			n += len;
			buf[n++] = '\n';
			if ((seed >> 20) % 5 == 0)
				break;
		}
		if ((seed >> 12) % 4 == 0)
			buf[n++] = 'z'; /* a cut last line */
		assert_int_equal(sink_init(&s, fd, cap), 0);
		s.head = (seed >> 4) % cap;
		s.len = (seed >> 9) % (cap + 1);
		memset(s.ring, 'X', cap);
		/* no limit, any limit, or the end of a line or one byte short of it */
		size_t limit = (seed >> 5) % (n + 1), pend = s.len;
		if ((seed >> 3) % 3 == 0)
			limit = n;
		else if ((seed >> 3) % 3 == 1 && memchr(buf + limit, '\n', n - limit))
			limit = (size_t)((char *)memchr(buf + limit, '\n', n - limit) - buf) -
				(seed >> 7) % 2;
		size_t tail = (s.head + s.len) % cap;
		size_t got = sink_put_lines(&s, head, hl, buf, n, limit), w = 0, off = 0;
		size_t room = cap - tail < cap - pend ? cap - tail : cap - pend;

		assert_true(got == 0 || buf[got - 1] == '\n');
		while (off < got) {
			const char *nl = memchr(buf + off, '\n', got - off);
			size_t len = (size_t)(nl - buf) - off;
			assert_true(len < LINEBUF_MAX && off + len <= limit);
			memcpy(want + w, head, hl);
			memcpy(want + w + hl, buf + off, len + 1);
			w += hl + len + 1;
			off += len + 1;
		}
		assert_int_equal(s.len - pend, w);
		assert_memory_equal(s.ring + tail, want, w);
		for (size_t i = tail + w; i < tail + room; i++)
			assert_int_equal(s.ring[i], 'X');
		if (got < n) {
			const char *nl = memchr(buf + got, '\n', n - got);
			size_t len = nl ? (size_t)(nl - buf) - got : 0;
			assert_true(!nl || len >= LINEBUF_MAX || got + len > limit ||
				    w + hl + len + 1 > room);
		}
		sink_free(&s);
	}
	close(fd);
}

static void fill_pipe_sink(struct sink *s, int p[2], size_t cap, size_t max)
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(sink_init(s, p[1], cap), 0);
	small_pipe(p[1]);
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
	/* Lines are queued until the ring is full; then one write puts 4096 bytes
	 * into the one-page pipe and the fd is stalled; the ring grows to 32768:
	 * (4096 + 32768) / 100 whole lines in all */
	assert_true(s.stalled);
	assert_int_equal(accepted, (4096 + 32768) / 100);
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
	for (int i = 0; i < 100; i++) /* queued: they fit in the ring */
		assert_true(sink_put(&s, line, sizeof(line)));
	assert_int_equal(sink_pending(&s), 100 * 64);
	assert_int_equal(sink_flush(&s), 0); /* 4096 into the pipe, 2304 bytes pending */
	assert_int_equal(sink_pending(&s), 100 * 64 - 4096);
	assert_true(s.stalled);
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

/* A whole line in the data is passed on in place (no copy); a line begun in
 * an earlier read is passed on from the buffer. */
static const char *last_ptr;

static unsigned last_flags;

static void note_ptr(void *arg, const char *line, size_t len, unsigned flags)
{
	collect(arg, line, len, flags);
	last_ptr = line;
	last_flags = flags;
}

static void test_lines_in_place(void **state)
{
	struct linebuf *lb = calloc(1, sizeof(*lb));
	struct seen s = {0};
	static const char a[] = "one\ntwo\nthr", b[] = "ee\n";
	(void)state;

	linebuf_feed(lb, a, strlen(a), note_ptr, &s);
	assert_int_equal(s.n, 2);
	assert_ptr_equal(last_ptr, a + 4); /* "two", in a */
	assert_int_equal(last_flags, LINE_IN_PLACE);
	linebuf_feed(lb, b, strlen(b), note_ptr, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.text[2], "three");
	assert_ptr_equal(last_ptr, lb->buf);
	assert_int_equal(last_flags, 0);
	free(lb);
}

/* Newlines found 16 bytes at a time: at every offset, and beyond the last
 * whole block. */
static void test_newline_at_every_offset(void **state)
{
	struct linebuf *lb = calloc(1, sizeof(*lb));
	char data[40];
	(void)state;

	for (size_t at = 0; at < sizeof(data); at++) {
		struct seen s = {0};
		memset(data, 'q', sizeof(data));
		data[at] = '\n';
		linebuf_feed(lb, data, sizeof(data), collect, &s);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.len[0], at);
		linebuf_finish(lb, collect, &s);
		assert_int_equal(s.n, at + 1 < sizeof(data) ? 2 : 1);
		assert_int_equal(s.total, sizeof(data) - 1);
	}
	free(lb);
}

/* The pieces of one line are queued whole or dropped whole, and counted as
 * one line; what was queued comes out in order, across the ring's wrap, in
 * one write per flush while the fd takes it. */
static void test_sink_putv_whole_and_ordered(void **state)
{
	int p[2];
	struct sink s;
	static char out[1 << 16];
	char expect[1 << 16];
	size_t want = 0, got = 0;
	int seq = 0;
	(void)state;

	fill_pipe_sink(&s, p, 1024, 1024);
	for (int round = 0; round < 50; round++) {
		/* a few lines, then the reader takes part of what is there */
		for (int k = 0; k < 7; k++, seq++) {
			char num[16];
			int nl = snprintf(num, sizeof(num), "%d", seq);
			struct iovec v[3] = {{"[svc] ", 6}, {num, (size_t)nl}, {"\n", 1}};
			bool ok = sink_putv(&s, v, 3);
			if (ok) {
				memcpy(expect + want, "[svc] ", 6);
				memcpy(expect + want + 6, num, (size_t)nl);
				expect[want + 6 + nl] = '\n';
				want += 7 + (size_t)nl;
			}
		}
		assert_int_equal(sink_flush(&s), 0);
		ssize_t r = read(p[0], out + got, 100);
		if (r > 0)
			got += (size_t)r;
	}
	for (int round = 0; round < 100 && (sink_pending(&s) > 0 || s.dropped > 0); round++) {
		got += read_all(p[0], out + got, sizeof(out) - got);
		assert_int_equal(sink_flush(&s), 0);
	}
	got += read_all(p[0], out + got, sizeof(out) - got);
	/* whatever was dropped, a marker says so; without drops the output is exact */
	if (s.dropped_total == 0) {
		assert_int_equal(got, want);
		assert_memory_equal(out, expect, want);
	} else {
		assert_true(s.dropped_lines > 0);
		assert_true(memmem(out, got, "bytes dropped", 13) != NULL);
	}
	sink_free(&s);
	close(s.fd);
	close(p[0]);
	close(p[1]);
}

/* A stalled fd is not written again by a put: the ring grows instead, and
 * the next flush (EPOLLOUT) clears the stall. */
static void test_sink_stalled_no_write(void **state)
{
	int p[2];
	struct sink s;
	char line[100];
	static char out[1 << 16];
	(void)state;

	fill_pipe_sink(&s, p, 4096, 16384);
	memset(line, 'w', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 41; i++) /* 4100: the pipe (4096) takes 4000, then stalls */
		assert_true(sink_put(&s, line, sizeof(line)));
	assert_int_equal(sink_flush(&s), 0);
	assert_true(s.stalled);
	size_t pend = sink_pending(&s);
	for (int i = 0; i < 100; i++)
		assert_true(sink_put(&s, line, sizeof(line)));
	assert_int_equal(sink_pending(&s), pend + 100 * sizeof(line)); /* no write tried */
	assert_true(s.cap > 4096);
	assert_int_equal(read_all(p[0], out, sizeof(out)), 4000);
	assert_int_equal(sink_flush(&s), 0); /* EPOLLOUT: it writes again */
	assert_true(sink_pending(&s) < pend + 100 * sizeof(line));
	for (int round = 0; round < 100 && sink_pending(&s) > 0; round++) {
		(void)read_all(p[0], out, sizeof(out));
		assert_int_equal(sink_flush(&s), 0);
	}
	assert_int_equal(sink_pending(&s), 0);
	assert_false(s.stalled);
	sink_free(&s);
	close(s.fd);
	close(p[0]);
	close(p[1]);
}

/* stdout and stderr on one pipe (2>&1): whatever the reader takes when,
 * every line comes out whole, never cut by the other sink's write. */
static void test_sink_shared_pipe_lines_whole(void **state)
{
	int p[2];
	struct sink a, b;
	static char out[1 << 20];
	size_t got = 0, want = 0;
	unsigned seed = 7;
	(void)state;

	fill_pipe_sink(&a, p, 1 << 16, 1 << 20);
	assert_int_equal(sink_init(&b, p[1], 1 << 16), 0);
	small_pipe(p[1]);
	b.max = 1 << 20; /* room for all: nothing dropped */
	sink_share(&a, &b);
	assert_int_equal(a.wmax, PIPE_BUF);
	for (int i = 0; i < 3000; i++) {
		struct sink *k = i % 3 ? &a : &b;
		char line[300];
		seed = seed * 1103515245 + 12345;
		size_t len = 10 + (seed >> 16) % 250;
		memset(line, i % 3 ? 'A' : 'B', len);
		line[len] = '\n';
		if (sink_put(k, line, len + 1))
			want += len + 1;
		if (i % 5 == 0) {
			(void)sink_flush(&a);
			(void)sink_flush(&b);
		}
		if (i % 7 == 0) {
			ssize_t r = read(p[0], out + got, (seed >> 8) % 3000 + 1);
			if (r > 0)
				got += (size_t)r;
		}
	}
	for (int round = 0; round < 1000 && (sink_pending(&a) || sink_pending(&b)); round++) {
		got += read_all(p[0], out + got, sizeof(out) - got);
		assert_int_equal(sink_flush(&a), 0);
		assert_int_equal(sink_flush(&b), 0);
	}
	got += read_all(p[0], out + got, sizeof(out) - got);
	assert_int_equal(a.dropped_total + b.dropped_total, 0);
	assert_int_equal(got, want);
	for (size_t off = 0; off < got;) {
		char *nl = memchr(out + off, '\n', got - off);
		assert_non_null(nl);
		for (char *c = out + off + 1; c < nl; c++)
			assert_int_equal(*c, out[off]); /* one sink's line, whole */
		off = (size_t)(nl - out) + 1;
	}
	sink_free(&a);
	sink_free(&b);
	close(a.fd);
	close(b.fd);
	close(p[0]);
	close(p[1]);
}

/* Shared pipe: a line queued across the ring's end goes out in one write
 * with its rest, never its first part alone (the other sink's line could
 * land between the two). */
static void test_sink_shared_line_across_the_ring_end(void **state)
{
	int p[2];
	struct sink a, b;
	char line[100], fill[3904];
	static char out[1 << 14];
	size_t got = 0;
	(void)state;

	fill_pipe_sink(&a, p, 8192, 8192);
	assert_int_equal(sink_init(&b, p[1], 4096), 0);
	small_pipe(p[1]);
	sink_share(&a, &b);
	memset(line, 'A', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (int i = 0; i < 81; i++)
		assert_true(sink_put(&a, line, sizeof(line)));
	/* The pipe (4096) takes 4000 per round: head ends at 8000, stalled. */
	for (int round = 0; round < 2; round++) {
		got += read_all(p[0], out + got, sizeof(out) - got);
		assert_int_equal(sink_flush(&a), 0);
	}
	assert_int_equal(got, 4000);
	assert_true(a.stalled);
	assert_int_equal(a.head, 8000);
	assert_true(sink_put(&a, line, sizeof(line))); /* [8100, 8192) + [0, 8) */
	got = read_all(p[0], out, sizeof(out));
	memset(fill, '#', sizeof(fill));
	fill[sizeof(fill) - 1] = '\n';
	assert_int_equal(write(p[1], fill, sizeof(fill)), (ssize_t)sizeof(fill));
	assert_int_equal(sink_flush(&a), 0); /* room: 192 of 200 */
	got = read_all(p[0], out, sizeof(out));
	memset(line, 'B', sizeof(line) - 1);
	assert_true(sink_put(&b, line, 50)); /* B's line, then A's rest */
	assert_true(sink_put(&b, "\n", 1));
	assert_int_equal(sink_flush(&b), 0);
	for (int round = 0; round < 10 && sink_pending(&a); round++) {
		got += read_all(p[0], out + got, sizeof(out) - got);
		assert_int_equal(sink_flush(&a), 0);
	}
	got += read_all(p[0], out + got, sizeof(out) - got);
	assert_int_equal(got, sizeof(fill) + 51 + 200);
	for (size_t off = 0; off < got;) {
		char *nl = memchr(out + off, '\n', got - off);
		assert_non_null(nl);
		for (char *c = out + off + 1; c < nl; c++)
			assert_int_equal(*c, out[off]); /* one writer's line, whole */
		off = (size_t)(nl - out) + 1;
	}
	sink_free(&a);
	sink_free(&b);
	close(a.fd);
	close(b.fd);
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
	    cmocka_unit_test(test_sink_grows_pipe_to_ring),
	    cmocka_unit_test(test_sink_regular_file),
	    cmocka_unit_test(test_sink_putv_every_length),
	    cmocka_unit_test(test_sink_put_lines_frames_and_stops),
	    cmocka_unit_test(test_sink_grows_to_max),
	    cmocka_unit_test(test_sink_broken_counts_lines),
	    cmocka_unit_test(test_sink_drain_cut),
	    cmocka_unit_test(test_lines_in_place),
	    cmocka_unit_test(test_newline_at_every_offset),
	    cmocka_unit_test(test_sink_putv_whole_and_ordered),
	    cmocka_unit_test(test_sink_stalled_no_write),
	    cmocka_unit_test(test_sink_shared_pipe_lines_whole),
	    cmocka_unit_test(test_sink_shared_line_across_the_ring_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
