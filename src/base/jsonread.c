/* A small JSON reader (RFC 8259) into a tree of struct jr: `hfinit status`
 * reads status.json with it. */
#include "base/jsonread.h"

#include "base/json.h"

#include <stdlib.h>
#include <string.h>

struct jr_parser {
	const char *p, *end;
	int depth;
};

void jr_free(struct jr *v)
{
	if (!v)
		return;
	free(v->str);
	for (size_t i = 0; i < v->n; i++) {
		jr_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	memset(v, 0, sizeof(*v));
}

static void jr_ws(struct jr_parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | (cp >> 6));
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | (cp >> 12));
		d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | (cp >> 18));
	d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote. The decoded text is never longer than the source. */
static int jr_string(struct jr_parser *ps, char **out)
{
	const char *s = ps->p + 1, *q = s;
	char *d, *o;

	while (q < ps->end && *q != '"') {
		if ((unsigned char)*q < 0x20 || (*q == '\\' && q + 1 >= ps->end))
			return -1;
		q += *q == '\\' ? 2 : 1;
	}
	if (q >= ps->end)
		return -1;
	o = d = malloc((size_t)(q - s) + 1);
	if (!d)
		return -1;
	while (s < q) {
		unsigned cp, lo;
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			*o++ = *s++;
			continue;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (q - s < 5 || hex4(s + 1, &cp) < 0)
				goto bad;
			s += 5;
			if (cp >= 0xd800 && cp <= 0xdbff && q - s >= 6 && s[0] == '\\' &&
			    s[1] == 'u' && hex4(s + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd; /* a lone surrogate */
			}
			o += utf8_put(o, cp);
			continue;
		default:
			goto bad;
		}
		s++;
	}
	*o = '\0';
	*out = d;
	ps->p = q + 1;
	return 0;
bad:
	free(d);
	return -1;
}

/* A JSON number (RFC 8259 grammar). Only integers within +-9e15 are kept
 * (*out, *exact = 1): every number hfinit writes is one; any other valid
 * number parses but is not exact. No strtod: it would pull libc's float
 * scanner into the binary. */
static int jr_number(struct jr_parser *ps, long long *out, bool *exact)
{
	const char *s = ps->p, *e = ps->end;
	bool neg = false;
	long long v = 0;

	*exact = true;
	if (s < e && *s == '-') {
		neg = true;
		s++;
	}
	if (s < e && *s == '0') {
		s++;
	} else if (s < e && *s >= '1' && *s <= '9') {
		for (; s < e && *s >= '0' && *s <= '9'; s++) {
			if (v > 900000000000000LL)
				*exact = false;
			else
				v = v * 10 + (*s - '0');
		}
	} else {
		return -1;
	}
	if (s < e && *s == '.') {
		const char *f = ++s;
		while (s < e && *s >= '0' && *s <= '9')
			s++;
		if (s == f)
			return -1;
		*exact = false;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		const char *f;
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		f = s;
		while (s < e && *s >= '0' && *s <= '9')
			s++;
		if (s == f)
			return -1;
		*exact = false;
	}
	if (v > 9000000000000000LL)
		*exact = false;
	*out = neg ? -v : v;
	ps->p = s;
	return 0;
}

static int jr_value(struct jr_parser *ps, struct jr *v);

static int jr_push(struct jr *v, char *key)
{
	struct jr *ni = realloc(v->items, (v->n + 1) * sizeof(*ni));

	if (!ni)
		return -1;
	v->items = ni;
	memset(&v->items[v->n], 0, sizeof(*ni));
	if (v->type == JR_OBJ) {
		char **nk = realloc(v->keys, (v->n + 1) * sizeof(*nk));
		if (!nk)
			return -1;
		v->keys = nk;
		v->keys[v->n] = key;
	}
	v->n++;
	return 0;
}

static int jr_container(struct jr_parser *ps, struct jr *v, char close)
{
	v->type = close == '}' ? JR_OBJ : JR_ARR;
	if (++ps->depth > JSON_MAX_DEPTH)
		return -1;
	ps->p++;
	jr_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		jr_ws(ps);
		if (v->type == JR_OBJ) {
			if (ps->p >= ps->end || *ps->p != '"' || jr_string(ps, &key) < 0)
				return -1;
			jr_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				free(key);
				return -1;
			}
			ps->p++;
		}
		if (jr_push(v, key) < 0) {
			free(key);
			return -1;
		}
		if (jr_value(ps, &v->items[v->n - 1]) < 0)
			return -1;
		jr_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return 0;
		}
		return -1;
	}
}

static int jr_lit(struct jr_parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return -1;
	ps->p += n;
	return 0;
}

static int jr_value(struct jr_parser *ps, struct jr *v)
{
	jr_ws(ps);
	if (ps->p >= ps->end)
		return -1;
	switch (*ps->p) {
	case '{':
		return jr_container(ps, v, '}');
	case '[':
		return jr_container(ps, v, ']');
	case '"':
		v->type = JR_STR;
		return jr_string(ps, &v->str);
	case 't':
		v->type = JR_BOOL;
		v->b = 1;
		return jr_lit(ps, "true");
	case 'f':
		v->type = JR_BOOL;
		return jr_lit(ps, "false");
	case 'n':
		v->type = JR_NULL;
		return jr_lit(ps, "null");
	default:
		v->type = JR_NUM;
		return jr_number(ps, &v->num, &v->num_exact);
	}
}

/* Parse a whole document; 0, or -1 with *at = the byte offset of the error. */
int jr_parse(const char *buf, size_t len, struct jr *v, size_t *at)
{
	struct jr_parser ps = {buf, buf + len, 0};

	memset(v, 0, sizeof(*v));
	if (jr_value(&ps, v) == 0) {
		jr_ws(&ps);
		if (ps.p == ps.end)
			return 0;
	}
	*at = (size_t)(ps.p - buf);
	jr_free(v);
	return -1;
}
const struct jr *jr_get(const struct jr *o, const char *key)
{
	if (!o || o->type != JR_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], key) == 0)
			return &o->items[i];
	return NULL;
}

const char *jr_str(const struct jr *o, const char *key)
{
	const struct jr *v = jr_get(o, key);

	return v && v->type == JR_STR ? v->str : NULL;
}

/* 1 and *out when key is a number, else 0. */
int jr_num(const struct jr *o, const char *key, long long *out)
{
	const struct jr *v = jr_get(o, key);

	if (!v || v->type != JR_NUM || !v->num_exact)
		return 0;
	*out = v->num;
	return 1;
}
