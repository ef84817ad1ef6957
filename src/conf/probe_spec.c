/* ready = and health = values -> struct probe, through one table of kinds. */
#include "conf/probe_spec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strv.h"
#include "base/words.h"
#include "conf/value.h"

void probe_free(struct probe *p)
{
	if (!p)
		return;
	free(p->spec);
	free(p->text);
	free(p->host);
	strv_free(p->argv);
	if (p->has_re)
		regfree(&p->re);
	memset(p, 0, sizeof(*p));
}

#define READY_KINDS                                                                                \
	"started, line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "                            \
	"http://HOST:PORT/PATH, file:PATH or exec:CMD"
#define HEALTH_KINDS "tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD"

static int parse_port(const char *s, size_t len, int *port, const char *spec, struct err *e)
{
	char buf[16];
	long long n;

	if (len == 0 || len >= sizeof(buf))
		return err_set(e, 0, "\"%.*s%s\": bad port; expected a number 1..65535",
			       SHOW_ARGS(spec));
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!isdigit((unsigned char)buf[0]) || parse_int(buf, 1, 65535, &n, NULL) < 0)
		return err_set(e, 0, "\"%.*s%s\": bad port \"%s\"; expected a number 1..65535",
			       SHOW_ARGS(spec), buf);
	*port = (int)n;
	return 0;
}

static bool host_ok(const char *h, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr("-._:", h[i]))
			return false;
	return true;
}

/* host part: "[v6]" or a name/address (no ':'); fills p->host. */
static int set_host(struct probe *p, const char *h, size_t len, const char *spec, struct err *e)
{
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	} else if (memchr(h, ':', len)) {
		len = 0; /* an IPv6 address needs brackets */
	}
	if (!host_ok(h, len))
		return err_set(e, 0,
			       "\"%.*s%s\": bad host; expected a name or address such as "
			       "127.0.0.1, localhost or [::1]",
			       SHOW_ARGS(spec));
	p->host = strndup(h, len);
	if (!p->host)
		return err_set(e, ENOMEM, "out of memory");
	return 0;
}

static int parse_tcp(struct probe *p, const char *v, const char *spec, struct err *e)
{
	const char *colon = strrchr(v, ':');

	if (!colon || (v[0] == '[' && colon < strchr(v, ']'))) {
		p->host = strdup("127.0.0.1");
		if (!p->host)
			return err_set(e, ENOMEM, "out of memory");
		return parse_port(v, strlen(v), &p->port, spec, e);
	}
	if (set_host(p, v, (size_t)(colon - v), spec, e) < 0)
		return -1;
	return parse_port(colon + 1, strlen(colon + 1), &p->port, spec, e);
}

static int parse_http(struct probe *p, const char *v, const char *spec, struct err *e)
{
	const char *slash = strchr(v, '/');
	size_t hlen = slash ? (size_t)(slash - v) : strlen(v);
	const char *colon = NULL;

	/* find the port colon: after a ']' for [v6], else the last ':' of the authority */
	for (size_t i = 0; i < hlen; i++)
		if (v[i] == ':' && (v[0] != '[' || memchr(v, ']', i)))
			colon = v + i;
	if (hlen == 0)
		return err_set(e, 0, "\"%.*s%s\": no host; expected http://127.0.0.1:PORT/PATH",
			       SHOW_ARGS(spec));
	if (colon) {
		if (set_host(p, v, (size_t)(colon - v), spec, e) < 0 ||
		    parse_port(colon + 1, (size_t)(v + hlen - colon - 1), &p->port, spec, e) < 0)
			return -1;
	} else {
		if (set_host(p, v, hlen, spec, e) < 0)
			return -1;
		p->port = 80;
	}
	p->text = strdup(slash ? slash : "/");
	if (!p->text)
		return err_set(e, ENOMEM, "out of memory");
	for (const char *c = p->text; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return err_set(e, 0,
				       "\"%.*s%s\": the path contains a space or control "
				       "character; expected a URL path such as /health (encode "
				       "spaces as %%20)",
				       SHOW_ARGS(spec));
	return 0;
}

/* The text of line:TEXT and file:PATH. */
static int parse_text(struct probe *p, const char *v, const char *spec, struct err *e)
{
	(void)spec;
	p->text = strdup(v);
	return p->text ? 0 : err_set(e, ENOMEM, "out of memory");
}

static int parse_regex(struct probe *p, const char *v, const char *spec, struct err *e)
{
	char buf[160];
	int r;

	(void)spec;
	p->text = strdup(v);
	if (!p->text)
		return err_set(e, ENOMEM, "out of memory");
	r = regcomp(&p->re, v, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		regerror(r, &p->re, buf, sizeof(buf));
		return err_set(e, 0,
			       "bad regular expression \"%.*s%s\": %s; expected a POSIX extended "
			       "regex",
			       SHOW_ARGS(v), buf);
	}
	p->has_re = true;
	return 0;
}

static int parse_fd(struct probe *p, const char *v, const char *spec, struct err *e)
{
	long long n;

	if (!isdigit((unsigned char)*v) || parse_int(v, 0, INT_MAX, &n, NULL) < 0)
		return err_set(e, 0, "\"%.*s%s\": expected fd:N with N a number from 3 to 1023",
			       SHOW_ARGS(spec));
	if (n < 3 || n > 1023)
		return err_set(e, 0,
			       "\"%.*s%s\": fd %lld is out of range; expected 3..1023 (0-2 are "
			       "stdin, stdout and stderr)",
			       SHOW_ARGS(spec), n);
	p->fd = (int)n;
	return 0;
}

static int parse_exec(struct probe *p, const char *v, const char *spec, struct err *e)
{
	(void)spec;
	if (split_words(v, true, &p->argv, e) < 0)
		return -1;
	if (!p->argv[0])
		return err_set(e, 0,
			       "exec: needs a command; expected e.g. exec:curl -fs localhost:7860");
	return 0;
}

/* Every probe kind, in the order of the READY_KINDS text (the did-you-mean
 * order too). exact: the whole value is the prefix, nothing follows; else
 * parse gets what follows it (empty: the message when nothing does). polled:
 * checked again and again until it passes, so it is the only kind a health
 * check may use. */
static const struct probe_kind_def {
	const char *prefix;
	bool exact, polled;
	int (*parse)(struct probe *p, const char *v, const char *spec, struct err *e);
	const char *empty;
	const char *name;
} probe_kinds[] = {
    [PROBE_NONE] = {NULL, false, false, NULL, NULL, "none"},
    [PROBE_STARTED] = {"started", true, false, NULL, NULL, "started"},
    [PROBE_LINE] = {"line:", false, false, parse_text,
		    "line: needs the text to wait for; expected e.g. line:ready", "line"},
    [PROBE_REGEX] = {"regex:", false, false, parse_regex,
		     "regex: needs a pattern; expected e.g. regex:listening on port [0-9]+",
		     "regex"},
    [PROBE_NOTIFY] = {"notify", true, false, NULL, NULL, "notify"},
    [PROBE_FD] = {"fd:", false, false, parse_fd, NULL, "fd"},
    [PROBE_TCP] = {"tcp:", false, true, parse_tcp, NULL, "tcp"},
    [PROBE_HTTP] = {"http://", false, true, parse_http, NULL, "http"},
    [PROBE_FILE] = {"file:", false, true, parse_text,
		    "file: needs a path; expected e.g. file:/tmp/app.ready", "file"},
    [PROBE_EXEC] = {"exec:", false, true, parse_exec,
		    "exec: needs a command; expected e.g. exec:curl -fs localhost:7860", "exec"},
};

#define NKINDS (sizeof(probe_kinds) / sizeof(probe_kinds[0]))

const char *probe_kind_name(enum probe_kind k)
{
	return (unsigned)k < NKINDS ? probe_kinds[k].name : "?";
}

bool probe_kind_polled(enum probe_kind k)
{
	return (unsigned)k < NKINDS && probe_kinds[k].polled;
}

/* The kind whose prefix starts s (the whole of s for an exact one), or PROBE_NONE. */
static enum probe_kind kind_of(const char *s)
{
	for (size_t k = PROBE_NONE + 1; k < NKINDS; k++) {
		const struct probe_kind_def *d = &probe_kinds[k];
		if (d->exact ? strcmp(s, d->prefix) == 0
			     : strncmp(s, d->prefix, strlen(d->prefix)) == 0)
			return (enum probe_kind)k;
	}
	return PROBE_NONE;
}

/* s is no probe: say why, naming the kind the person probably meant. */
static int not_a_probe(const char *s, bool health, struct err *e)
{
	const char *kinds[NKINDS - 1];
	char word[16];
	size_t wl = strcspn(s, ":");
	const char *near = NULL;

	if (strncasecmp(s, "https://", 8) == 0)
		return err_set(
		    e, 0,
		    "\"%.*s%s\": https is not supported; expected http://127.0.0.1:PORT/PATH "
		    "(probe the service's plain port inside the container)",
		    SHOW_ARGS(s));
	if (strncasecmp(s, "http:", 5) == 0)
		return err_set(e, 0, "\"%.*s%s\" is not a URL; expected http://HOST:PORT/PATH",
			       SHOW_ARGS(s));
	if (*s && strspn(s, "0123456789") == strlen(s))
		return err_set(e, 0,
			       "\"%.*s%s\" is not a probe (did you mean tcp:%.*s%s?); expected %s",
			       SHOW_ARGS(s), SHOW_ARGS(s), health ? HEALTH_KINDS : READY_KINDS);
	/* Compare the word before the first ':' (with the ':') against the kinds. */
	for (size_t k = PROBE_NONE + 1; k < NKINDS; k++)
		kinds[k - 1] = probe_kinds[k].prefix;
	if (wl + 1 < sizeof(word)) {
		memcpy(word, s, wl);
		word[wl] = '\0';
		if (s[wl] == ':')
			strcpy(word + wl, ":");
		near = nearest(word, kinds, NKINDS - 1);
	}
	if (near) {
		/* "tpc:7860" -> "tcp:7860": keep what followed the kind. */
		const char *rest = s[wl] == ':' && near[strlen(near) - 1] == ':' ? s + wl + 1 : "";
		return err_set(
		    e, 0, "\"%.*s%s\" is not a probe (did you mean %s%.*s%s?); expected %s",
		    SHOW_ARGS(s), near, SHOW_ARGS(rest), health ? HEALTH_KINDS : READY_KINDS);
	}
	return err_set(e, 0, "\"%.*s%s\" is not a probe; expected %s", SHOW_ARGS(s),
		       health ? HEALTH_KINDS : READY_KINDS);
}

int parse_probe(const char *s, bool health, struct probe *out, struct err *e)
{
	struct probe p = {0};
	enum probe_kind k = kind_of(s);
	const struct probe_kind_def *d = &probe_kinds[k];
	const char *v = k != PROBE_NONE && !d->exact ? s + strlen(d->prefix) : "";
	int rc = 0;

	memset(out, 0, sizeof(*out));
	p.spec = strdup(s);
	if (!p.spec)
		return err_set(e, ENOMEM, "out of memory");
	p.kind = k;
	if (k == PROBE_NONE)
		rc = not_a_probe(s, health, e);
	else if (!*v && d->empty)
		rc = err_set(e, 0, "%s", d->empty);
	else if (d->parse)
		rc = d->parse(&p, v, s, e);
	if (rc == 0 && health && !d->polled)
		rc = err_set(
		    e, 0,
		    "\"%.*s%s\" cannot be a health check (it only fires once, at start-up); "
		    "expected %s",
		    SHOW_ARGS(s), HEALTH_KINDS);
	if (rc < 0) {
		probe_free(&p);
		return -1;
	}
	*out = p;
	return 0;
}
