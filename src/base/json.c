#include "base/json.h"

#include "base/redact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = 1;
	j->pretty = pretty;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *nb;

		while (j->len + n + 1 > cap) {
			if (cap > ((size_t)-1) / 2) {
				j->failed = ENOMEM;
				return;
			}
			cap *= 2;
		}
		nb = realloc(j->buf, cap);
		if (!nb) {
			j->failed = ENOMEM;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void newline(struct json *j)
{
	if (!j->pretty)
		return;
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* The items at depth go on one line: inside a folded object. */
static int folded(const struct json *j, int depth)
{
	return j->flat > 0 && depth >= j->flat;
}

/* Called before every value or key: separators and indentation. */
static void before_item(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (folded(j, j->depth)) {
		if (!j->first[j->depth])
			put(j, ", ", 2);
		j->first[j->depth] = 0;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = 0;
	if (j->depth > 0)
		newline(j);
}

static void open_(struct json *j, char c)
{
	before_item(j);
	put(j, &c, 1);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->failed = j->failed ? j->failed : EINVAL;
		return;
	}
	j->depth++;
	j->first[j->depth] = 1;
	if (c == '{' && !j->flat && j->pretty && j->fold > 0 && j->depth > j->fold)
		j->flat = j->depth;
}

static void close_(struct json *j, char c)
{
	int own_line; /* the closer goes on a line of its own */

	if (j->depth <= 0 || j->after_key) {
		j->failed = j->failed ? j->failed : EINVAL;
		return;
	}
	own_line = !j->first[j->depth] && !folded(j, j->depth);
	if (j->flat == j->depth)
		j->flat = 0;
	j->depth--;
	if (own_line)
		newline(j);
	put(j, &c, 1);
}

void json_obj_begin(struct json *j)
{
	open_(j, '{');
}

void json_obj_end(struct json *j)
{
	close_(j, '}');
}

void json_arr_begin(struct json *j)
{
	open_(j, '[');
}

void json_arr_end(struct json *j)
{
	close_(j, ']');
}

/* Length of a valid UTF-8 sequence at s (at most n bytes), 0 if invalid.
 * Rejects overlong forms, surrogates and values above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* The next piece of p[0..n) (n > 0) as JSON string contents: either a run of
 * bytes that stand for themselves (*rep = NULL; returns the run's length,
 * whole UTF-8 sequences only) or one byte replaced by *rep (returns 1): an
 * escape for '"', '\\' and control characters, \ufffd for a byte that does not
 * begin a valid UTF-8 sequence. */
static size_t next_piece(const unsigned char *p, size_t n, const char **rep, char hex[8])
{
	size_t run = 0, k;

	*rep = NULL;
	while (run < n) {
		unsigned char c = p[run];
		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f || c >= 0x80) {
			if (c >= 0x80 && (k = utf8_len(p + run, n - run)) > 0) {
				run += k;
				continue;
			}
			break;
		}
		run++;
	}
	if (run > 0)
		return run;
	static const char named[] = "\"\"\\\\\nn\rr\tt\bb\ff";
	const char *m = p[0] < 0x80 && p[0] ? strchr(named, p[0]) : NULL;
	if (m && (m - named) % 2 == 0) {
		hex[0] = '\\';
		hex[1] = m[1];
		hex[2] = '\0';
	} else if (p[0] < 0x80) {
		snprintf(hex, 8, "\\u%04x", p[0]);
	} else {
		memcpy(hex, "\\ufffd", 7);
	}
	*rep = hex;
	return 1;
}

void json_escape(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *rep;
	char hex[8];

	while (n > 0) {
		size_t k = next_piece(p, n, &rep, hex);
		if (rep)
			puts_(j, rep);
		else
			put(j, (const char *)p, k);
		p += k;
		n -= k;
	}
}

size_t json_escape_to(char *dst, size_t cap, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *rep;
	char hex[8];
	size_t len = 0;

	while (n > 0) {
		size_t k = next_piece(p, n, &rep, hex);
		size_t w = rep ? strlen(rep) : k;
		if (w > cap - len) {
			if (rep)
				break;
			/* Cut the run where a character begins. */
			w = cap - len;
			while (w > 0 && (p[w] & 0xc0) == 0x80)
				w--;
			memcpy(dst + len, p, w);
			len += w;
			break;
		}
		memcpy(dst + len, rep ? rep : (const char *)p, w);
		len += w;
		p += k;
		n -= k;
	}
	return len;
}

void json_strn(struct json *j, const char *s, size_t n)
{
	char *red = NULL;
	size_t rl;

	/* *** replaces at least one byte: 3 per byte is always enough; out of
	 * memory: *** alone rather than a secret */
	if (j->redact && redact_needed(s, n)) {
		red = malloc(n * 3 + 1);
		rl = red ? redact_to(s, n, red, n * 3 + 1) : 3;
		s = red ? red : REDACT_MARK;
		n = rl;
	}
	before_item(j);
	put(j, "\"", 1);
	json_escape(j, s, n);
	put(j, "\"", 1);
	free(red);
}

void json_str(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_strn(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
	if (j->depth <= 0 || j->after_key) {
		j->failed = j->failed ? j->failed : EINVAL;
		return;
	}
	before_item(j);
	put(j, "\"", 1);
	json_escape(j, key, strlen(key));
	puts_(j, j->pretty ? "\": " : "\":");
	j->after_key = 1;
}

void json_int(struct json *j, long long v)
{
	char num[32];

	before_item(j);
	snprintf(num, sizeof(num), "%lld", v);
	puts_(j, num);
}

void json_bool(struct json *j, int v)
{
	before_item(j);
	puts_(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	before_item(j);
	puts_(j, "null");
}

void json_kstr(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kint(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kbool(struct json *j, const char *key, int v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_free(struct json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

int json_finish(struct json *j, char **out, size_t *outlen)
{
	if (!j->failed && (j->depth != 0 || j->after_key || j->len == 0))
		j->failed = EINVAL;
	if (j->failed) {
		errno = j->failed;
		json_free(j);
		return -1;
	}
	*out = j->buf;
	if (outlen)
		*outlen = j->len;
	j->buf = NULL;
	j->len = j->cap = 0;
	return 0;
}
