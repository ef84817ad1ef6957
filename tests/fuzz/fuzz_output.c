/* libFuzzer target: the bytes a service sends at run time (make fuzz).
 * The first 4 input bytes seed the schedule, the rest is what the service
 * writes. It is fed to the line splitter in chunks of scheduled sizes; the
 * pieces must give back exactly the input (no '\n' inside a piece, a newline
 * after each piece not flagged LINE_UNTERMINATED, continuation flags right).
 * Each piece then goes as a line through a small sink (64 bytes, growing to
 * 1024) into a one-page pipe read at scheduled moments (how often: the first
 * byte): what comes out must be
 * exactly the accepted lines in order, plus marker lines that count exactly
 * what was dropped; the sink's byte and line counts must agree. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

struct run {
	const uint8_t *in;
	size_t inlen, pos; /* the pieces so far give back in[0..pos) */
	bool cut;	   /* the last piece was cut at LINEBUF_MAX */
	bool at_eof;
	uint32_t rng, every; /* read the pipe after 1 in `every` pieces */
	struct sink k;
	int rd;
	struct buf want, got; /* lines accepted by the sink; what the pipe gave */
	uint64_t rejected, rejected_lines;
};

static uint32_t next(struct run *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 17;
	r->rng ^= r->rng << 5;
	return r->rng;
}

static void drain_pipe(struct run *r, size_t most)
{
	char tmp[4096];
	while (most > 0) {
		ssize_t n = read(r->rd, tmp, most < sizeof(tmp) ? most : sizeof(tmp));
		if (n <= 0)
			return;
		buf_add(&r->got, tmp, (size_t)n);
		most -= (size_t)n;
	}
}

static void on_piece(void *arg, const char *line, size_t len, unsigned flags)
{
	struct run *r = arg;
	static char l[LINEBUF_MAX + 2];

	if (len > LINEBUF_MAX || memchr(line, '\n', len) || len > r->inlen - r->pos ||
	    memcmp(line, r->in + r->pos, len) != 0)
		abort();
	if (((flags & LINE_CONTINUED) != 0) != r->cut)
		abort();
	r->pos += len;
	if (flags & LINE_UNTERMINATED) {
		if (len != LINEBUF_MAX && !(r->at_eof && r->pos == r->inlen))
			abort();
	} else {
		if (r->pos >= r->inlen || r->in[r->pos] != '\n')
			abort();
		r->pos++;
	}
	r->cut = (flags & LINE_UNTERMINATED) && len == LINEBUF_MAX;

	l[0] = 'L';
	memcpy(l + 1, line, len);
	l[len + 1] = '\n';
	if (sink_put(&r->k, l, len + 2)) {
		buf_add(&r->want, l, len + 2);
	} else {
		r->rejected += len + 2;
		r->rejected_lines++;
	}
	uint32_t v = next(r);
	if (v % r->every == 0)
		drain_pipe(r, v % 9000);
	else if (v % 7 == 0)
		(void)sink_flush(&r->k);
}

static void check_output(struct run *r)
{
	static const char mk[] = "hfinit: warn: output too fast for stdout: ";
	struct buf lines = {0};
	unsigned long long reported = 0;

	for (size_t off = 0; off < r->got.len;) {
		char *nl = memchr(r->got.p + off, '\n', r->got.len - off);
		if (!nl)
			abort(); /* whole lines only */
		size_t n = (size_t)(nl - (r->got.p + off)) + 1;
		if (r->got.p[off] == 'L') {
			buf_add(&lines, r->got.p + off, n);
		} else {
			unsigned long long d;
			char tail[32];
			if (n < sizeof(mk) || memcmp(r->got.p + off, mk, sizeof(mk) - 1) != 0 ||
			    sscanf(r->got.p + off + sizeof(mk) - 1, "%llu bytes dropped%1[\n]", &d,
				   tail) != 2)
				abort();
			reported += d;
		}
		off += n;
	}
	if (lines.len != r->want.len || (lines.len && memcmp(lines.p, r->want.p, lines.len)))
		abort();
	if (reported != r->rejected || r->k.dropped_total != r->rejected ||
	    r->k.dropped_lines != r->rejected_lines)
		abort();
	free(lines.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = {0};
	struct linebuf *lb = calloc(1, sizeof(*lb));
	int p[2];

	if (size < 4 || !lb) {
		free(lb);
		return 0;
	}
	memcpy(&r.rng, data, 4);
	r.rng |= 1;
	r.every = 1 + data[0] % 64;
	r.in = data + 4;
	r.inlen = size - 4;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || fcntl(p[1], F_SETPIPE_SZ, 4096) < 0 ||
	    sink_init(&r.k, p[1], 64) < 0)
		abort();
	r.k.max = 1024;
	r.rd = p[0];
	for (size_t off = 0; off < r.inlen;) {
		size_t n = 1 + next(&r) % (2 * LINEBUF_MAX);
		if (n > r.inlen - off)
			n = r.inlen - off;
		linebuf_feed(lb, (const char *)r.in + off, n, on_piece, &r);
		off += n;
	}
	r.at_eof = true;
	linebuf_finish(lb, on_piece, &r);
	if (r.pos != r.inlen)
		abort();
	for (int i = 0; i < 10000 && (sink_pending(&r.k) > 0 || r.k.dropped > 0); i++) {
		drain_pipe(&r, SIZE_MAX);
		if (sink_flush(&r.k) < 0)
			abort();
	}
	drain_pipe(&r, SIZE_MAX);
	if (sink_pending(&r.k) > 0 || r.k.dropped > 0)
		abort();
	check_output(&r);
	if (r.k.fd != p[1])
		close(r.k.fd);
	sink_free(&r.k);
	close(p[0]);
	close(p[1]);
	free(r.want.p);
	free(r.got.p);
	free(lb);
	return 0;
}
