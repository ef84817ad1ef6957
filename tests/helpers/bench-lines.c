/* bench-lines: a chatty service for the output benches and tests.
 *
 *   bench-lines BYTES [LEN]
 *
 * Writes BYTES bytes (rounded down to whole lines) of LEN-byte lines (default
 * 100, newline included, 16..4096) to stdout, in writes of up to 64 KiB, and
 * exits 0. The lines look like a worker's log (words, numbers, '=' and ':'),
 * so a per-line scanner in the reader meets what it would meet in real output;
 * each line starts with its number, so a reader can check that none is lost
 * or out of order:
 *
 *   00000042 INFO worker: step=42 loss=0.4321 tokens/s=1234.5 ...xxxx
 *
 * A write error (EPIPE...) ends it with exit 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (64 * 1024)

static const char body[] = " INFO worker: step=%08lu loss=0.%04lu lr=3e-4 tokens/s=%lu.5 "
			   "batch 64/128 eta 00:12:34 request done in 12 ms; queue empty, "
			   "waiting for the next batch of work ";

static int write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 8 decimal digits of v, without printf (the generator must cost next to
 * nothing beside the reader it measures). */
static void put_seq(char *p, unsigned long v)
{
	for (int i = 7; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
}

int main(int argc, char **argv)
{
	static char buf[BLOCK + 4096];
	unsigned long long total, nlines;
	unsigned long len = 100, seq = 0;
	size_t per, n;
	char *end;

	if (argc < 2 || argc > 3)
		return fputs("usage: bench-lines BYTES [LEN]\n", stderr) == EOF ? 2 : 2;
	total = strtoull(argv[1], &end, 10);
	if (*end == '\0' && argc == 3)
		len = strtoul(argv[2], &end, 10);
	if (*end || len < 16 || len > 4096)
		return fputs("bench-lines: bad BYTES or LEN\n", stderr) == EOF ? 2 : 2;
	/* One block of lines made once; per write only the numbers change. */
	per = BLOCK / len ? BLOCK / len : 1;
	for (size_t i = 0; i < per; i++) {
		char *l = buf + i * len;
		int b = snprintf(l + 8, len - 8, body, (unsigned long)i * 7919, i * 31 % 10000,
				 i * 17 % 5000);
		size_t used = 8 + (b < 0 ? 0 : (size_t)b);
		if (used > len - 1)
			used = len - 1;
		memset(l + used, 'x', len - 1 - used);
		l[len - 1] = '\n';
	}
	for (nlines = total / len; nlines > 0; nlines -= n) {
		n = nlines < per ? (size_t)nlines : per;
		for (size_t i = 0; i < n; i++)
			put_seq(buf + i * len, seq++ % 100000000);
		if (write_all(buf, n * len) < 0)
			return 1;
	}
	return 0;
}
