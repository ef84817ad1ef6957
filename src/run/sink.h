/* Service output: line assembly from pipes, and hfinit's own bounded,
 * never-blocking output sink (docs/design.md, "Logs").
 *
 * linebuf: bytes in, whole lines out. A line longer than the buffer is
 * passed on in pieces of the buffer's size, the later pieces flagged as
 * continuations; a partial last line is passed on at EOF (linebuf_finish).
 *
 * sink: a byte ring in front of an fd. sink_put never blocks and does not
 * write either (unless the ring is full): the caller queues what a read
 * brought and calls sink_flush once, so many lines go out in one write.
 * The ring grows (up to its max) rather than drop, since the caller stops
 * reading its inputs while sink_pending() is high. What is dropped (ring at max, fd broken, cut
 * at exit) is counted in bytes and lines; after a drop at max, a marker line
 * saying how many bytes were dropped goes out as soon as there is room again.
 * sink_flush writes what it can without blocking; the caller watches the fd
 * for EPOLLOUT while sink_pending() is non-zero. */
#ifndef HFINIT_SINK_H
#define HFINIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define LINEBUF_MAX 8192

enum line_flags {
	LINE_CONTINUED = 1,    /* this piece continues the previous (over-long) line */
	LINE_UNTERMINATED = 2, /* no newline followed: cut at the limit, or at EOF */
	LINE_IN_PLACE = 4,     /* the line points into the data given to linebuf_feed */
};

typedef void (*line_fn)(void *arg, const char *line, size_t len, unsigned flags);

struct linebuf {
	char buf[LINEBUF_MAX];
	size_t len;
	bool continuing; /* the last piece passed on was cut at the limit */
};

/* Pass on every complete line in data (without the '\n'; a trailing '\r' is
 * kept), keeping the rest for the next call. */
void linebuf_feed(struct linebuf *lb, const char *data, size_t n, line_fn fn, void *arg);
/* At EOF: pass on what is left, if anything, flagged LINE_UNTERMINATED. */
void linebuf_finish(struct linebuf *lb, line_fn fn, void *arg);

struct sink {
	int fd;
	char *ring;
	size_t cap, head, len; /* bytes [head, head+len) mod cap are pending */
	size_t base, max;      /* cap starts at base and grows up to max (sink_init: cap) */
	uint64_t dropped;      /* bytes dropped since the last marker */
	uint64_t dropped_total, dropped_lines;
	const char *why;  /* why the last bytes were dropped (static text), NULL: none */
	bool broken;	  /* a write failed hard (EPIPE...): everything is dropped */
	bool blocking_fd; /* a regular file or /dev/null: writes never block */
	bool stalled;	  /* the last write found the fd full: wait for EPOLLOUT */
	size_t wmax;	  /* 0, or at most this per write, cut after a newline (sink_share) */
	bool json;	  /* the marker line is a JSON line (log_format = json) */
};

/* fd is used as is when it never blocks (regular file, /dev/null); otherwise it is
 * reopened through /proc/self/fd with O_NONBLOCK, so that the flag does not leak to
 * the terminal or pipe shared with other processes; without /proc, O_NONBLOCK is
 * set on fd itself. */
int sink_init(struct sink *s, int fd, size_t cap);
/* When a and b write to the same pipe or terminal (2>&1): each write is whole
 * lines of at most PIPE_BUF bytes, which a pipe takes all or nothing, so a
 * partial write never leaves half a line for the other sink to write after
 * (a line longer than that may still be cut, as any write of it). */
void sink_share(struct sink *a, struct sink *b);
void sink_free(struct sink *s);
/* Queue n bytes (whole lines), growing the ring up to max when they do not fit;
 * false when they were dropped (ring at max, or the fd broken). Nothing is
 * written unless the ring is full and the fd is not stalled. */
bool sink_put(struct sink *s, const void *data, size_t n);
/* The same for the pieces of one line (prefix, text, newline): all or none. */
bool sink_putv(struct sink *s, const struct iovec *iov, int niov);
/* Many lines at once, for a read whose lines need only framing: queues each
 * complete line at the start of buf[0..n) as head (hl bytes: time stamp and
 * prefix) + the line + its newline, and returns the bytes of buf taken (0 to
 * n, each line with its newline). Stops before a line without its newline,
 * one of LINEBUF_MAX bytes or more, one that reaches past buf + limit, and
 * where the ring has no room left in one stretch: what is left goes through
 * linebuf_feed and sink_putv, which grow the ring, wrap and drop (and after a
 * drop, or on a broken fd, this takes nothing). */
size_t sink_put_lines(struct sink *s, const char *head, size_t hl, const char *buf, size_t n,
		      size_t limit);
/* Write without blocking (one writev per call while the fd takes it; a full
 * fd sets stalled, the next write clears it); returns 0, or -1 with errno on a hard error
 * (EPIPE...), in which case the sink is broken: the pending bytes and all later ones are dropped
 * and counted, why = strerror. */
int sink_flush(struct sink *s);
size_t sink_pending(const struct sink *s);
/* At exit: write everything, waiting for the fd until the monotonic time
 * deadline_ms (milliseconds); what is left then is dropped and counted, with
 * why = cut_why. */
void sink_drain(struct sink *s, long long deadline_ms, const char *cut_why);
long long sink_now_ms(void);

#endif
