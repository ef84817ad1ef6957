#include "base/redact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

struct value {
	char *s;
	size_t n;
};

static struct value *values;
static size_t nvalues;
static bool env_done; /* hfinit's own environment has been collected */

static const char *const secret_words[] = {"TOKEN", "KEY", "SECRET", "PASS"};

bool redact_secret_name(const char *name, size_t len)
{
	for (size_t w = 0; w < sizeof(secret_words) / sizeof(secret_words[0]); w++) {
		size_t k = strlen(secret_words[w]);

		for (size_t i = 0; i + k <= len; i++)
			if (strncasecmp(name + i, secret_words[w], k) == 0)
				return true;
	}
	return false;
}

static int add_value(const char *v, size_t n)
{
	struct value *nv;

	if (n < REDACT_MIN || nvalues >= REDACT_MAX_VALUES)
		return 0;
	for (size_t i = 0; i < nvalues; i++)
		if (values[i].n == n && memcmp(values[i].s, v, n) == 0)
			return 0;
	nv = realloc(values, (nvalues + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	values = nv;
	values[nvalues].s = malloc(n);
	if (!values[nvalues].s)
		return -1;
	memcpy(values[nvalues].s, v, n);
	values[nvalues++].n = n;
	return 0;
}

static int add_env(char *const *envp)
{
	int r = 0;

	for (; envp && *envp; envp++) {
		const char *eq = strchr(*envp, '=');
		if (eq && redact_secret_name(*envp, (size_t)(eq - *envp)) &&
		    add_value(eq + 1, strlen(eq + 1)) < 0)
			r = -1;
	}
	return r;
}

static void init(void)
{
	if (env_done)
		return;
	env_done = true;
	(void)add_env(environ); /* out of memory: the patterns still apply */
}

int redact_add(const char *value, size_t len)
{
	init();
	return add_value(value, len);
}

int redact_add_env(char *const *envp)
{
	init();
	return add_env(envp);
}

void redact_reset(void)
{
	for (size_t i = 0; i < nvalues; i++)
		free(values[i].s);
	free(values);
	values = NULL;
	nvalues = 0;
	env_done = false;
}

/* --- marking ----------------------------------------------------------------- */

/* Bytes to redact, one bit each; allocated on the first mark. */
struct marks {
	const char *s;
	size_t n;
	uint8_t *bits;
	uint8_t small[2048];
	bool any;
	bool failed; /* no memory for the bits: redact everything */
};

static void mark(struct marks *m, size_t from, size_t to)
{
	if (!m->any) {
		size_t nb = m->n / 8 + 1;
		m->any = true;
		m->bits = nb <= sizeof(m->small) ? m->small : malloc(nb);
		if (!m->bits) {
			m->failed = true;
			return;
		}
		memset(m->bits, 0, nb);
	}
	if (m->failed)
		return;
	for (size_t i = from; i < to; i++)
		m->bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool marked(const struct marks *m, size_t i)
{
	return m->failed || (m->bits[i / 8] >> (i % 8)) & 1u;
}

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* RFC 6750 b64token characters. */
static bool is_b64tok(unsigned char c)
{
	return is_alnum(c) || (c && strchr("-._~+/=", c));
}

static bool ends_authority(unsigned char c)
{
	return c <= ' ' || strchr("/?#\"'<>`", c);
}

/* hf_ + REDACT_HF_MIN or more letters and digits: all of it. */
static size_t hub_token(struct marks *m, size_t i)
{
	size_t k = i + 3;

	while (k < m->n && is_alnum((unsigned char)m->s[k]))
		k++;
	if (k - i - 3 >= REDACT_HF_MIN)
		mark(m, i, k);
	return k;
}

/* "Bearer" (any case) + blanks + token: the token (i is at "earer"). */
static size_t bearer(struct marks *m, size_t i)
{
	size_t k = i + 5, t;

	if (i == 0 || (m->s[i - 1] | 0x20) != 'b' || strncasecmp(m->s + i, "earer", 5) != 0)
		return i + 1;
	while (k < m->n && (m->s[k] == ' ' || m->s[k] == '\t'))
		k++;
	if (k == i + 5)
		return i + 1;
	t = k;
	while (k < m->n && is_b64tok((unsigned char)m->s[k]))
		k++;
	if (k > t)
		mark(m, t, k);
	return k > t ? k : i + 1;
}

/* "://user:PASS@host": PASS (i is at the ':' of "://"). */
static size_t url_password(struct marks *m, size_t i)
{
	size_t a = i + 3, e = a, at = 0, colon = 0;

	while (e < m->n && !ends_authority((unsigned char)m->s[e])) {
		if (m->s[e] == '@')
			at = e;
		e++;
	}
	for (size_t k = a; at && k < at; k++)
		if (m->s[k] == ':') {
			colon = k;
			break;
		}
	if (colon && colon + 1 < at)
		mark(m, colon + 1, at);
	return a; /* the user part is scanned too (https://hf_...@host) */
}

/* One byte that may start a shape: where to look next. */
static size_t candidate(struct marks *m, size_t i)
{
	const char *s = m->s;
	unsigned char c = (unsigned char)s[i];

	if (c == ':' && i + 2 < m->n && s[i + 1] == '/' && s[i + 2] == '/')
		return url_password(m, i);
	if (c == '_' && i >= 2 && s[i - 2] == 'h' && s[i - 1] == 'f')
		return hub_token(m, i - 2);
	if ((c | 0x20) == 'b' && i + 6 < m->n && (s[i + 1] | 0x20) == 'e')
		return bearer(m, i + 1);
	return i + 1;
}

/* The first two bytes of the first SCAN_VALUES values, which the vector scan
 * of redact_next looks for with the shapes' pairs; later values are looked
 * for with memchr. */
#define SCAN_VALUES 4

typedef unsigned char v16 __attribute__((vector_size(16)));

struct scan {
	size_t nv;			    /* 0 for mark_patterns: shapes only */
	v16 a[SCAN_VALUES], b[SCAN_VALUES]; /* each value's first and second byte, 16 times */
};

static void scan_init(struct scan *sc, bool with_values)
{
	sc->nv = with_values ? (nvalues < SCAN_VALUES ? nvalues : SCAN_VALUES) : 0;
	for (size_t v = 0; v < sc->nv; v++) {
		sc->a[v] = (v16){0} + (unsigned char)values[v].s[0];
		sc->b[v] = (v16){0} + (unsigned char)values[v].s[1];
	}
}

/* Where candidate() can find a shape: a ':' before '/', a '_' after 'f'
 * (hf_), a 'b' or 'B' before 'e' or 'E' (Bearer); each shape needs its pair.
 * Or where one of the scan's values begins (the whole of it, within n). */
static bool starts_shape(const struct scan *sc, const char *s, size_t i, size_t n)
{
	char c = s[i], next = i + 1 < n ? s[i + 1] : 0;

	if ((c == ':' && next == '/') || (c == '_' && i > 0 && s[i - 1] == 'f') ||
	    ((c | 0x20) == 'b' && (next | 0x20) == 'e'))
		return true;
	for (size_t v = 0; v < sc->nv; v++)
		if (n - i >= values[v].n && memcmp(s + i, values[v].s, values[v].n) == 0)
			return true;
	return false;
}

/* The pairs among the 16 positions from s + j (one byte readable each side). */
static bool block_has_pair(const struct scan *sc, const char *s, size_t j)
{
	v16 c, w, prev, next;
	uint64_t h[2];

	memcpy(&c, s + j, 16);
	memcpy(&prev, s + j - 1, 16);
	memcpy(&next, s + j + 1, 16);
	w = (v16)(((c == ':') & (next == '/')) | ((c == '_') & (prev == 'f')) |
		  (((c | 0x20) == 'b') & ((next | 0x20) == 'e')));
	for (size_t v = 0; v < sc->nv; v++)
		w |= (v16)((c == sc->a[v]) & (next == sc->b[v]));
	memcpy(h, &w, 16);
	return (h[0] | h[1]) != 0;
}

/* The first i' >= i where a shape (or a scan value) may start: 16 at a time (GCC
 * vectors: SSE2 or NEON; no intrinsics) while a whole block and the byte
 * after it are in the text, then byte by byte, in a block that has a pair
 * (then on with the blocks after it) and in the last positions (no
 * endianness assumption). */
static size_t next_candidate(const struct scan *sc, const char *s, size_t i, size_t n)
{
	if (i == 0 && n > 0) {
		if (starts_shape(sc, s, 0, n))
			return 0;
		i = 1; /* the blocks below need a byte before them */
	}
	for (;;) {
		size_t end;
		for (; i + 17 <= n; i += 16)
			if (block_has_pair(sc, s, i))
				break;
		/* a value's first two bytes are not the value: on past the block */
		end = i + 17 <= n ? i + 16 : n;
		for (; i < end; i++)
			if (starts_shape(sc, s, i, n))
				return i;
		if (end >= n)
			return n;
	}
}

static void mark_patterns(struct marks *m)
{
	struct scan sc;

	scan_init(&sc, false);
	for (size_t i = next_candidate(&sc, m->s, 0, m->n); i < m->n;
	     i = next_candidate(&sc, m->s, i, m->n))
		i = candidate(m, i);
}

/* Every occurrence of every value, overlapping ones too (memchr for the
 * first byte, then memcmp: smaller than libc's memmem, as fast for these). */
static void mark_values(struct marks *m)
{
	for (size_t v = 0; v < nvalues; v++) {
		const char *val = values[v].s, *p = m->s;
		size_t vn = values[v].n;

		while ((size_t)(m->s + m->n - p) >= vn &&
		       (p = memchr(p, val[0], (size_t)(m->s + m->n - p) - vn + 1))) {
			if (memcmp(p, val, vn) == 0)
				mark(m, (size_t)(p - m->s), (size_t)(p - m->s) + vn);
			p++;
		}
	}
}

static void mark_all(struct marks *m, const char *s, size_t n)
{
	m->s = s;
	m->n = n;
	m->bits = NULL;
	m->any = m->failed = false;
	init();
	mark_values(m);
	mark_patterns(m);
}

static void marks_free(struct marks *m)
{
	if (m->bits && m->bits != m->small)
		free(m->bits);
}

bool redact_needed(const char *s, size_t n)
{
	struct marks m;

	mark_all(&m, s, n);
	marks_free(&m);
	return m.any;
}

size_t redact_next(const char *s, size_t from, size_t n)
{
	struct scan sc;
	size_t best;

	init();
	scan_init(&sc, true);
	best = next_candidate(&sc, s, from, n);
	for (size_t v = sc.nv; v < nvalues; v++) {
		const char *val = values[v].s, *p = s + from, *end = s + best;
		size_t vn = values[v].n;
		while (p < end && (p = memchr(p, val[0], (size_t)(end - p))) != NULL) {
			if ((size_t)(s + n - p) >= vn && memcmp(p, val, vn) == 0) {
				best = (size_t)(p - s);
				break;
			}
			p++;
		}
	}
	return best;
}

size_t redact_to(const char *s, size_t n, char *out, size_t cap)
{
	struct marks m;
	size_t o = 0, i = 0;

	mark_all(&m, s, n);
	if (!m.any)
		return (size_t)-1;
	while (i < n && o + 1 < cap) {
		if (!marked(&m, i)) {
			out[o++] = s[i++];
			continue;
		}
		while (i < n && marked(&m, i))
			i++;
		for (size_t k = 0; k < 3 && o + 1 < cap; k++)
			out[o++] = '*';
	}
	out[o] = '\0';
	marks_free(&m);
	return o;
}

void redact_str(char *s, size_t cap)
{
	size_t n = strlen(s), r;
	char small[4096], *tmp = cap <= sizeof(small) ? small : malloc(cap);

	if (!tmp) { /* out of memory: nothing shown rather than a secret */
		if (redact_needed(s, n) && cap > 3)
			memcpy(s, REDACT_MARK, 4);
		return;
	}
	r = redact_to(s, n, tmp, cap);
	if (r != (size_t)-1)
		memcpy(s, tmp, r + 1);
	if (tmp != small)
		free(tmp);
}
