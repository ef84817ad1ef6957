#include "run/sink.h"

#include "base/log.h"
#include "run/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

/* memchr(p, '\n', n), 16 bytes at a time (GCC vectors: SSE2 or NEON): musl's
 * goes a word at a time, and every byte of the services' output passes here. */
typedef unsigned char v16 __attribute__((vector_size(16)));

static const char *find_nl(const char *p, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		v16 w;
		uint64_t h[2];
		memcpy(&w, p + i, 16);
		w = (v16)(w == '\n');
		memcpy(h, &w, 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* lane k is byte k of the pair of words: the first set byte */
		if (h[0])
			return p + i + (size_t)__builtin_ctzll(h[0]) / 8;
		if (h[1])
			return p + i + 8 + (size_t)__builtin_ctzll(h[1]) / 8;
#else
		if (h[0] | h[1])
			break;
#endif
	}
	return memchr(p + i, '\n', n - i);
}

/* memcpy for the short pieces of a line (a prefix, a 100-byte line): at -Os
 * GCC turns a memcpy of unknown length into `rep movsb`, whose start-up costs
 * more than such a copy. 16 bytes at a time, the last 16 overlapping; never a
 * byte outside [src, src + n). */
static void copy_short(char *d, const char *src, size_t n)
{
	uint64_t a, b;

	if (n > 256) {
		memcpy(d, src, n);
		return;
	}
	if (n >= 16) {
		v16 w;
		for (size_t i = 0; i + 16 < n; i += 16) {
			memcpy(&w, src + i, 16);
			memcpy(d + i, &w, 16);
		}
		memcpy(&w, src + n - 16, 16);
		memcpy(d + n - 16, &w, 16);
	} else if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = src[i];
	}
}

void linebuf_feed(struct linebuf *lb, const char *data, size_t n, line_fn fn, void *arg)
{
	while (n > 0) {
		const char *nl = find_nl(data, n);
		size_t take = nl ? (size_t)(nl - data) : n;
		size_t room = sizeof(lb->buf) - lb->len;
		unsigned fl = lb->continuing ? LINE_CONTINUED : 0;
		const char *line = data; /* a whole line in data is passed on in place */

		if (take < room && !nl) {
			memcpy(lb->buf + lb->len, data, take);
			lb->len += take;
			return;
		}
		if (take >= room) {
			/* The line does not fit: pass on a full buffer as a piece. */
			take = room;
			fl |= LINE_UNTERMINATED;
		}
		if (lb->len > 0) {
			memcpy(lb->buf + lb->len, data, take);
			line = lb->buf;
		} else {
			fl |= LINE_IN_PLACE;
		}
		fn(arg, line, lb->len + take, fl);
		lb->len = 0;
		lb->continuing = (fl & LINE_UNTERMINATED) != 0;
		take += !lb->continuing; /* and the newline */
		data += take;
		n -= take;
	}
}

void linebuf_finish(struct linebuf *lb, line_fn fn, void *arg)
{
	if (lb->len > 0)
		fn(arg, lb->buf, lb->len,
		   LINE_UNTERMINATED | (lb->continuing ? LINE_CONTINUED : 0));
	lb->len = 0;
	lb->continuing = false;
}

static bool never_blocks(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	if (S_ISREG(st.st_mode))
		return true;
	/* /dev/null: char device 1:3 */
	return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

/* A pipe (the usual stdout of a container: the runtime's log reader at the
 * other end) is made to hold as much as the ring, so that a burst goes out in
 * a few large writes, each waking the reader once. Not a pipe, or refused
 * (above fs.pipe-max-size, or the user's pipe pages used up): kept as it is. */
static void grow_pipe(int fd, size_t cap)
{
	int cur = fcntl(fd, F_GETPIPE_SZ);

	if (cur > 0 && (size_t)cur < cap && cap <= INT_MAX)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)cap);
}

int sink_init(struct sink *s, int fd, size_t cap)
{
	char path[64];
	int nfd;

	memset(s, 0, sizeof(*s));
	s->ring = malloc(cap);
	if (!s->ring)
		return -1;
	s->cap = s->base = s->max = cap;
	if (never_blocks(fd)) {
		s->fd = fd;
		s->blocking_fd = true;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd >= 0) {
		s->fd = nfd;
		grow_pipe(nfd, cap);
		return 0;
	}
	/* No /proc (or a socket, which cannot be reopened): flag fd itself. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free(s->ring);
		s->ring = NULL;
		return -1;
	}
	s->fd = fd;
	grow_pipe(fd, cap);
	return 0;
}

void sink_share(struct sink *a, struct sink *b)
{
	struct stat sa, sb;

	if (a->blocking_fd || fstat(a->fd, &sa) < 0 || fstat(b->fd, &sb) < 0 ||
	    sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
		return;
	a->wmax = b->wmax = PIPE_BUF;
}

void sink_free(struct sink *s)
{
	free(s->ring);
	s->ring = NULL;
	s->cap = s->len = s->head = 0;
}

size_t sink_pending(const struct sink *s)
{
	return s->len;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *nl;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		k++;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	return k;
}

/* Count the pending bytes (and lines) as dropped and forget them. */
static void drop_pending(struct sink *s, const char *why)
{
	size_t first = s->cap - s->head < s->len ? s->cap - s->head : s->len;

	if (s->len == 0)
		return;
	s->dropped_lines +=
	    count_lines(s->ring + s->head, first) + count_lines(s->ring, s->len - first);
	s->dropped_total += s->len;
	s->head = s->len = 0;
	s->why = why;
}

/* Where the next byte goes. */
static size_t ring_tail(const struct sink *s)
{
	size_t tail = s->head + s->len; /* head < cap, len <= cap: no division */

	return tail >= s->cap ? tail - s->cap : tail;
}

static void ring_put(struct sink *s, const char *p, size_t n)
{
	size_t tail = ring_tail(s), first;

	first = s->cap - tail < n ? s->cap - tail : n;
	memcpy(s->ring + tail, p, first);
	if (n > first)
		memcpy(s->ring, p + first, n - first);
	s->len += n;
}

/* Make room for n more bytes, doubling the ring up to max; false when it cannot. */
static bool ring_room(struct sink *s, size_t n)
{
	size_t cap = s->cap;
	char *nr;

	if (n <= s->cap - s->len)
		return true;
	while (cap < s->max && n > cap - s->len)
		cap = cap * 2 < s->max ? cap * 2 : s->max;
	if (n > cap - s->len || !(nr = malloc(cap)))
		return false;
	size_t first = s->cap - s->head < s->len ? s->cap - s->head : s->len;
	memcpy(nr, s->ring + s->head, first);
	memcpy(nr + first, s->ring, s->len - first);
	free(s->ring);
	s->ring = nr;
	s->cap = cap;
	s->head = 0;
	return true;
}

static void put_marker(struct sink *s)
{
	char m[160], ts[LOG_STAMP_LEN + 1];
	int k;

	if (s->dropped == 0)
		return;
	ts[log_stamp(ts)] = '\0'; /* log_timestamps; JSON lines always carry "ts" */
	k = snprintf(m, sizeof(m),
		     s->json
			 ? "{\"ts\":\"%s\",\"src\":\"hfinit\",\"level\":\"warn\",\"msg\":\"output "
			   "too fast: %llu bytes dropped\"}\n"
			 : "%shfinit: warn: output too fast for stdout: %llu bytes dropped\n",
		     s->json ? log_time() : ts, (unsigned long long)s->dropped);
	if (k <= 0 || (size_t)k > s->cap - s->len)
		return; /* not yet: keep counting */
	ring_put(s, m, (size_t)k);
	s->dropped = 0;
}

/* A line's pieces (n bytes in all) not taken: counted, for the marker and
 * status.json. */
static bool drop(struct sink *s, const struct iovec *iov, int niov, size_t n, const char *why)
{
	if (!s->broken)
		s->dropped += n; /* a marker can follow only where writes work */
	s->dropped_total += n;
	for (int i = 0; i < niov; i++)
		s->dropped_lines += count_lines(iov[i].iov_base, iov[i].iov_len);
	s->why = why;
	return false;
}

bool sink_putv(struct sink *s, const struct iovec *iov, int niov)
{
	size_t n = 0;

	for (int i = 0; i < niov; i++)
		n += iov[i].iov_len;
	if (!s->broken && !s->stalled && n > s->cap - s->len)
		(void)sink_flush(s); /* make room if the reader caught up */
	if (s->broken || !s->ring)
		return drop(s, iov, niov, n, s->ring ? s->why : "out of memory");
	if (s->dropped > 0)
		put_marker(s);
	/* Keep lines whole: drop the whole chunk rather than a prefix of it. */
	if (s->dropped > 0 || !ring_room(s, n))
		return drop(s, iov, niov, n, "buffer full");
	size_t tail = ring_tail(s);
	if (n > s->cap - tail) { /* the line wraps */
		for (int i = 0; i < niov; i++)
			ring_put(s, iov[i].iov_base, iov[i].iov_len);
		return true;
	}
	for (int i = 0; i < niov; i++) { /* one stretch: copied in place */
		copy_short(s->ring + tail, iov[i].iov_base, iov[i].iov_len);
		tail += iov[i].iov_len;
	}
	s->len += n;
	return true;
}

size_t sink_put_lines(struct sink *s, const char *head, size_t hl, const char *buf, size_t n,
		      size_t limit)
{
	size_t tail, room, off = 0;
	char *d;

	if (s->broken || !s->ring || s->dropped > 0)
		return 0;
	tail = ring_tail(s);
	/* one stretch: to the ring's end, or to the oldest pending byte */
	room = s->cap - tail < s->cap - s->len ? s->cap - tail : s->cap - s->len;
	d = s->ring + tail;
	while (off < n) {
		const char *nl = find_nl(buf + off, n - off);
		size_t len = nl ? (size_t)(nl - buf) - off : 0;
		if (!nl || len >= LINEBUF_MAX || off + len > limit || hl + len + 1 > room)
			break;
		copy_short(d, head, hl);
		copy_short(d + hl, buf + off, len + 1);
		d += hl + len + 1;
		room -= hl + len + 1;
		off += len + 1;
	}
	s->len += (size_t)(d - (s->ring + tail));
	return off;
}

bool sink_put(struct sink *s, const void *data, size_t n)
{
	struct iovec v = {(void *)data, n};

	return sink_putv(s, &v, 1);
}

int sink_flush(struct sink *s)
{
	while (s->len > 0) {
		size_t first = s->cap - s->head < s->len ? s->cap - s->head : s->len;
		struct iovec v[2] = {{s->ring + s->head, first}, {s->ring, s->len - first}};
		if (s->wmax) {
			/* Shared fd: whole lines in one write of at most wmax (a pipe
			 * takes it all or nothing), a line across the ring's end too. */
			size_t win = s->len < s->wmax ? s->len : s->wmax;
			const char *nl;
			v[0].iov_len = first < win ? first : win;
			v[1].iov_len = win - v[0].iov_len;
			if ((nl = memrchr(v[1].iov_base, '\n', v[1].iov_len))) {
				v[1].iov_len = (size_t)(nl - (const char *)v[1].iov_base) + 1;
			} else if ((nl = memrchr(v[0].iov_base, '\n', v[0].iov_len))) {
				v[0].iov_len = (size_t)(nl - (const char *)v[0].iov_base) + 1;
				v[1].iov_len = 0;
			}
		}
		ssize_t w = writev(s->fd, v, v[1].iov_len ? 2 : 1);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				s->stalled = true;
				return 0;
			}
			int saved = errno;
			s->broken = true;
			s->dropped = 0;
			drop_pending(s, strerror(saved));
			errno = saved;
			return -1;
		}
		s->stalled = false;
		s->head = (s->head + (size_t)w) % s->cap;
		s->len -= (size_t)w;
	}
	s->stalled = false;
	s->head = 0;
	if (s->cap > s->base) {
		/* Caught up after a burst: back to the base size. */
		char *nr = realloc(s->ring, s->base);
		if (nr) {
			s->ring = nr;
			s->cap = s->base;
		}
	}
	put_marker(s);
	return 0;
}

long long sink_now_ms(void)
{
	return mono_now_ns() / NS_PER_MS;
}

void sink_drain(struct sink *s, long long deadline_ms, const char *cut_why)
{
	for (;;) {
		if (sink_flush(s) < 0 || s->len == 0)
			return;
		long long left = deadline_ms - sink_now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
	}
	drop_pending(s, cut_why);
}
