/* libFuzzer target: the one JSON escaper of every JSON line hfinit writes
 * (make fuzz). For any bytes: json_strn's output is `["..."]` whose string is
 * strict JSON (only JSON's escapes, no raw control character, valid UTF-8) and
 * decodes to the input where the input is valid UTF-8, with U+FFFD for each
 * byte that does not begin a valid sequence; json_escape_to, at any capacity,
 * writes a prefix of the same text that is itself a whole JSON string. The
 * decoder and the UTF-8 check here are written independently of json.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 when there is none. */
static size_t seq_len(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t k;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		k = 2, cp = p[0] & 0x1fu;
	else if ((p[0] & 0xf0) == 0xe0)
		k = 3, cp = p[0] & 0x0fu;
	else if ((p[0] & 0xf8) == 0xf0)
		k = 4, cp = p[0] & 0x07u;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < least[k] || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
		return 0;
	return k;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80)
		return o[0] = (uint8_t)cp, 1;
	if (cp < 0x800)
		return o[0] = (uint8_t)(0xc0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(const uint8_t *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

/* Decode JSON string contents s[0..n) strictly into out; its length, or -1. */
static long decode(const uint8_t *s, size_t n, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x20 || c == '"')
			return -1;
		if (c != '\\') {
			size_t k = seq_len(s + i, n - i);
			if (k == 0)
				return -1;
			memcpy(out + o, s + i, k);
			o += k, i += k;
			continue;
		}
		if (i + 1 >= n)
			return -1;
		const char *m = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", s[i + 1]);
		if (s[i + 1] != 'u') {
			if (!s[i + 1] || !m || (m - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2)
				return -1;
			out[o++] = (uint8_t)m[1];
			i += 2;
			continue;
		}
		uint32_t cp, lo;
		if (i + 6 > n || hex4(s + i + 2, &cp) < 0)
			return -1;
		i += 6;
		if (cp >= 0xdc00 && cp < 0xe000)
			return -1;
		if (cp >= 0xd800 && cp < 0xdc00) {
			if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u' ||
			    hex4(s + i + 2, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		o += put_utf8(out + o, cp);
	}
	return (long)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json j;
	char *txt;
	size_t tl;

	json_init(&j, 0);
	json_arr_begin(&j);
	json_strn(&j, (const char *)data, size);
	json_arr_end(&j);
	if (json_finish(&j, &txt, &tl) < 0)
		abort();
	if (tl < 4 || memcmp(txt, "[\"", 2) != 0 || memcmp(txt + tl - 2, "\"]", 2) != 0)
		abort();
	const uint8_t *esc = (const uint8_t *)txt + 2;
	size_t elen = tl - 4;

	/* the expected decoding: valid sequences as they are, U+FFFD per bad byte */
	uint8_t *want = malloc(3 * size + 1), *got = malloc(3 * size + 1);
	size_t wl = 0;
	if (!want || !got)
		abort();
	for (size_t i = 0; i < size;) {
		size_t k = seq_len(data + i, size - i);
		if (k == 0) {
			memcpy(want + wl, "\xef\xbf\xbd", 3);
			wl += 3, i++;
		} else {
			memcpy(want + wl, data + i, k);
			wl += k, i += k;
		}
	}
	long gl = decode(esc, elen, got);
	if (gl < 0 || (size_t)gl != wl || memcmp(got, want, wl) != 0)
		abort();

	/* the fixed-buffer escaper: the same text, cut only between pieces */
	char *cut = malloc(elen + 1);
	if (!cut)
		abort();
	size_t caps[3] = {elen, elen ? elen - 1 : 0,
			  size ? (data[0] * 131u + size) % (elen + 1) : 0};
	for (int c = 0; c < 3; c++) {
		size_t n = json_escape_to(cut, caps[c], (const char *)data, size);
		if (n > caps[c] || memcmp(cut, esc, n) != 0 || decode((uint8_t *)cut, n, got) < 0)
			abort();
		if (caps[c] == elen && n != elen)
			abort();
	}
	free(cut);
	free(want);
	free(got);
	free(txt);
	return 0;
}
