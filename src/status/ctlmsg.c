/* The control protocol's lines (ctlmsg.h): parsed in place, bounded, no
 * allocation. What a client sends is untrusted: every word is checked, and a
 * refusal says which rule the request broke. */
#include "status/ctlmsg.h"

#include "conf/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WORDS_MAX (CTL_NAMES_MAX + 8) /* version, verb, options, names, signal */
#define MS_MAX	  (1000LL * 86400 * 366)

static const char *const verbs[] = {"restart", "stop", "start", "signal", "wait"};

const char *ctl_verb_name(enum ctl_verb v)
{
	return (unsigned)v < sizeof(verbs) / sizeof(verbs[0]) ? verbs[v] : "?";
}

int ctl_verb_of(const char *word)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(word, verbs[i]) == 0)
			return (int)i;
	return -1;
}

/* One line of printable ASCII (no newline), NUL-terminated at len. */
static int text_ok(char *line, size_t len)
{
	if (len >= CTL_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return -1;
	line[len] = '\0';
	return 0;
}

/* Words at spaces, in place; -1 when there are more than max. */
static int split(char *s, char **w, int max)
{
	int n = 0;

	while (*s) {
		if (*s == ' ') {
			*s++ = '\0';
			continue;
		}
		if (n == max)
			return -1;
		w[n++] = s;
		s += strcspn(s, " ");
	}
	return n;
}

/* A decimal number 0..max, digits only. */
static int num(const char *s, long long max, long long *out)
{
	long long v = 0;

	if (!*s || strlen(s) > 18)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* An option of verb v, or -1. */
static int option(struct ctl_req *r, enum ctl_verb v, const char *w)
{
	if (v <= CTL_START && strcmp(w, "--no-wait") == 0)
		r->no_wait = true;
	else if (v == CTL_WAIT && (strcmp(w, "--started") == 0 || strcmp(w, "--ready") == 0))
		r->started = w[2] == 's';
	else if (v == CTL_WAIT && strncmp(w, "--timeout=", 10) == 0)
		return num(w + 10, MS_MAX, &r->timeout_ms);
	else
		return -1;
	return 0;
}

static int refuse(char *why, size_t wn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t wn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, wn, fmt, ap);
	va_end(ap);
	return -1;
}

int ctl_parse(char *line, size_t len, struct ctl_req *r, char *why, size_t wn)
{
	char *w[WORDS_MAX];
	long long x;
	int n, i, v;

	memset(r, 0, sizeof(*r));
	r->timeout_ms = -1;
	if (text_ok(line, len) < 0)
		return refuse(why, wn, "not one line of printable text of at most %d bytes",
			      CTL_MAX);
	n = split(line, w, WORDS_MAX);
	if (n < 0)
		return refuse(why, wn, "too many words (%d names at most)", CTL_NAMES_MAX);
	if (n < 1 || strcmp(w[0], CTL_VERSION) != 0)
		return refuse(why, wn, "not a %s request (the protocol version)", CTL_VERSION);
	if (n < 2 || (v = ctl_verb_of(w[1])) < 0)
		return refuse(why, wn, "unknown command (restart, stop, start, signal, wait)");
	r->verb = (enum ctl_verb)v;
	for (i = 2; i < n && w[i][0] == '-'; i++)
		if (option(r, r->verb, w[i]) < 0)
			return refuse(why, wn, "%s: unknown option \"%.40s\"", w[1], w[i]);
	if (r->verb == CTL_SIGNAL) {
		if (n - i != 2 || num(w[n - 1], 64, &x) < 0 || x < 1)
			return refuse(why, wn, "signal takes a NAME and a signal number 1..64");
		r->sig = (int)x;
		n--;
	}
	for (; i < n; i++) {
		if (!conf_name_ok(w[i]))
			return refuse(why, wn, "\"%.64s\" is not a service name", w[i]);
		if (r->nnames == CTL_NAMES_MAX)
			return refuse(why, wn, "more than %d names", CTL_NAMES_MAX);
		r->names[r->nnames++] = w[i];
	}
	if (r->nnames == 0 && r->verb != CTL_WAIT)
		return refuse(why, wn, "%s: no service named", w[1]);
	return 0;
}

/* Append to buf; *k past n once it does not fit. */
static void put(char *buf, size_t n, size_t *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t n, size_t *k, const char *fmt, ...)
{
	va_list ap;
	int m;

	if (*k >= n)
		return;
	va_start(ap, fmt);
	m = vsnprintf(buf + *k, n - *k, fmt, ap);
	va_end(ap);
	*k = m < 0 ? n : *k + (size_t)m;
}

int ctl_format(const struct ctl_req *r, char *buf, size_t n)
{
	size_t k = 0;

	put(buf, n, &k, "%s %s", CTL_VERSION, ctl_verb_name(r->verb));
	if (r->no_wait)
		put(buf, n, &k, " --no-wait");
	if (r->verb == CTL_WAIT)
		put(buf, n, &k, r->started ? " --started" : " --ready");
	if (r->verb == CTL_WAIT && r->timeout_ms >= 0)
		put(buf, n, &k, " --timeout=%lld", r->timeout_ms);
	for (size_t i = 0; i < r->nnames; i++)
		put(buf, n, &k, " %s", r->names[i]);
	if (r->verb == CTL_SIGNAL)
		put(buf, n, &k, " %d", r->sig);
	put(buf, n, &k, "\n");
	return k < n ? (int)k : -1;
}

int ctl_reply_parse(char *line, size_t len, struct ctl_reply *o)
{
	static const char *const kinds[] = {"ok", "fail", "error", "end"};
	long long code;
	char *rest;
	size_t i;

	memset(o, 0, sizeof(*o));
	if (text_ok(line, len) < 0)
		return -1;
	rest = line + strcspn(line, " ");
	if (*rest)
		*rest++ = '\0';
	for (i = 0; i < 4 && strcmp(line, kinds[i]) != 0; i++)
		;
	if (i == 4)
		return -1;
	o->kind = (enum ctl_kind)i;
	o->text = rest;
	switch (o->kind) {
	case CTL_OK:
	case CTL_FAIL:
		o->name = rest;
		rest += strcspn(rest, " ");
		if (*rest)
			*rest++ = '\0';
		o->text = rest;
		return *o->name ? 0 : -1;
	case CTL_ERROR:
		return 0;
	case CTL_END:
		if (num(rest, 1, &code) < 0)
			return -1;
		o->code = (int)code;
		return 0;
	}
	return -1; /* not reached */
}
