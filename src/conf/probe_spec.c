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

/* --- probes ------------------------------------------------------------------ */

const char *probe_kind_name(enum probe_kind k)
{
	switch (k) {
	case PROBE_NONE:
		return "none";
	case PROBE_STARTED:
		return "started";
	case PROBE_LINE:
		return "line";
	case PROBE_REGEX:
		return "regex";
	case PROBE_NOTIFY:
		return "notify";
	case PROBE_FD:
		return "fd";
	case PROBE_TCP:
		return "tcp";
	case PROBE_HTTP:
		return "http";
	case PROBE_FILE:
		return "file";
	case PROBE_EXEC:
		return "exec";
	}
	return "?";
}

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
		return err_set(e, 0, "\"%.*s%s\": bad port; expected a number 1..65535", Q(spec));
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!isdigit((unsigned char)buf[0]) || parse_int(buf, 1, 65535, &n, NULL) < 0)
		return err_set(e, 0, "\"%.*s%s\": bad port \"%s\"; expected a number 1..65535",
			       Q(spec), buf);
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
			       Q(spec));
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
			       Q(spec));
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
				       Q(spec));
	return 0;
}

int parse_probe(const char *s, bool health, struct probe *out, struct err *e)
{
	static const char *const kinds[] = {
	    "started", "line:", "regex:", "notify", "fd:", "tcp:", "http://", "file:", "exec:"};
	struct probe p = {0};
	const char *v;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	p.spec = strdup(s);
	if (!p.spec)
		return err_set(e, ENOMEM, "out of memory");
	if (strcmp(s, "started") == 0) {
		p.kind = PROBE_STARTED;
		rc = 0;
	} else if (strcmp(s, "notify") == 0) {
		p.kind = PROBE_NOTIFY;
		rc = 0;
	} else if (strncmp(s, "line:", 5) == 0) {
		p.kind = PROBE_LINE;
		v = s + 5;
		if (!*v) {
			err_set(e, 0, "line: needs the text to wait for; expected e.g. line:ready");
			goto out;
		}
		p.text = strdup(v);
		rc = p.text ? 0 : err_set(e, ENOMEM, "out of memory");
	} else if (strncmp(s, "regex:", 6) == 0) {
		int r;
		char buf[160];

		p.kind = PROBE_REGEX;
		v = s + 6;
		if (!*v) {
			err_set(
			    e, 0,
			    "regex: needs a pattern; expected e.g. regex:listening on port [0-9]+");
			goto out;
		}
		p.text = strdup(v);
		if (!p.text) {
			err_set(e, ENOMEM, "out of memory");
			goto out;
		}
		r = regcomp(&p.re, v, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			regerror(r, &p.re, buf, sizeof(buf));
			err_set(e, 0,
				"bad regular expression \"%.*s%s\": %s; expected a POSIX extended "
				"regex",
				Q(v), buf);
			goto out;
		}
		p.has_re = true;
		rc = 0;
	} else if (strncmp(s, "fd:", 3) == 0) {
		long long n;

		p.kind = PROBE_FD;
		v = s + 3;
		if (!isdigit((unsigned char)*v) || parse_int(v, 0, INT_MAX, &n, NULL) < 0) {
			err_set(e, 0, "\"%.*s%s\": expected fd:N with N a number from 3 to 1023",
				Q(s));
			goto out;
		}
		if (n < 3 || n > 1023) {
			err_set(e, 0,
				"\"%.*s%s\": fd %lld is out of range; expected 3..1023 (0-2 are "
				"stdin, stdout and stderr)",
				Q(s), n);
			goto out;
		}
		p.fd = (int)n;
		rc = 0;
	} else if (strncmp(s, "tcp:", 4) == 0) {
		p.kind = PROBE_TCP;
		rc = parse_tcp(&p, s + 4, s, e);
	} else if (strncmp(s, "http://", 7) == 0) {
		p.kind = PROBE_HTTP;
		rc = parse_http(&p, s + 7, s, e);
	} else if (strncasecmp(s, "https://", 8) == 0) {
		err_set(e, 0,
			"\"%.*s%s\": https is not supported; expected http://127.0.0.1:PORT/PATH "
			"(probe the service's plain port inside the container)",
			Q(s));
	} else if (strncmp(s, "file:", 5) == 0) {
		p.kind = PROBE_FILE;
		v = s + 5;
		if (!*v) {
			err_set(e, 0, "file: needs a path; expected e.g. file:/tmp/app.ready");
			goto out;
		}
		p.text = strdup(v);
		rc = p.text ? 0 : err_set(e, ENOMEM, "out of memory");
	} else if (strncmp(s, "exec:", 5) == 0) {
		p.kind = PROBE_EXEC;
		if (split_words(s + 5, true, &p.argv, e) < 0)
			goto out;
		if (!p.argv[0]) {
			err_set(
			    e, 0,
			    "exec: needs a command; expected e.g. exec:curl -fs localhost:7860");
			goto out;
		}
		rc = 0;
	} else if (strncasecmp(s, "http:", 5) == 0) {
		err_set(e, 0, "\"%.*s%s\" is not a URL; expected http://HOST:PORT/PATH", Q(s));
	} else if (*s && strspn(s, "0123456789") == strlen(s)) {
		err_set(e, 0, "\"%.*s%s\" is not a probe (did you mean tcp:%.*s%s?); expected %s",
			Q(s), Q(s), health ? HEALTH_KINDS : READY_KINDS);
	} else {
		/* Name the kind the person probably meant: compare the word before
		 * the first ':' (with the ':') against the kinds. */
		char word[16];
		size_t wl = strcspn(s, ":");
		const char *near = NULL;

		if (wl + 1 < sizeof(word)) {
			memcpy(word, s, wl);
			word[wl] = '\0';
			if (s[wl] == ':')
				strcpy(word + wl, ":");
			near = nearest(word, kinds, sizeof(kinds) / sizeof(kinds[0]));
		}
		if (near) {
			/* "tpc:7860" -> "tcp:7860": keep what followed the kind. */
			const char *rest =
			    s[wl] == ':' && near[strlen(near) - 1] == ':' ? s + wl + 1 : "";
			err_set(e, 0,
				"\"%.*s%s\" is not a probe (did you mean %s%.*s%s?); expected %s",
				Q(s), near, Q(rest), health ? HEALTH_KINDS : READY_KINDS);
		} else
			err_set(e, 0, "\"%.*s%s\" is not a probe; expected %s", Q(s),
				health ? HEALTH_KINDS : READY_KINDS);
	}
	if (rc == 0 && health &&
	    !(p.kind == PROBE_TCP || p.kind == PROBE_HTTP || p.kind == PROBE_FILE ||
	      p.kind == PROBE_EXEC)) {
		err_set(e, 0,
			"\"%.*s%s\" cannot be a health check (it only fires once, at start-up); "
			"expected %s",
			Q(s), HEALTH_KINDS);
		rc = -1;
	}
out:
	if (rc < 0) {
		probe_free(&p);
		return -1;
	}
	*out = p;
	return 0;
}
