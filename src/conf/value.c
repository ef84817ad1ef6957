#include "conf/value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/signame.h"

/* Values quoted in messages are cut to this many bytes. */
#define SHOW 60

/* "%.*s" arguments for a value shown in a message. */
#define Q(s) (strlen(s) > SHOW ? SHOW : (int)strlen(s)), (s), (strlen(s) > SHOW ? "..." : "")

#define MAX_DURATION_MS (1000ULL * 3600 * 1000) /* 1000 hours */

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Reads decimal digits at *p into *v (no sign); false when none or on overflow. */
static bool read_digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
		s++;
	}
	*p = s;
	*v = n;
	return true;
}

int parse_duration_ms(const char *s, uint64_t *out, struct err *e)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = s;
	uint64_t total = 0;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return err_set(e, 0, "empty; expected a duration such as 500ms, 30s, 2m or 1h");
	while (*p) {
		uint64_t n, mul = 0;
		size_t ulen = 0;

		if (!read_digits(&p, &n))
			return err_set(
			    e, 0,
			    "\"%.*s%s\" is not a duration; expected a number with a unit: "
			    "500ms, 30s, 2m, 1h (or a sum such as 1m30s)",
			    Q(s));
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			/* "m" must not match the "m" of "ms": try longer units first. */
			if (strncmp(p, units[i].unit, l) == 0 && l > ulen &&
			    !isalpha((unsigned char)p[l])) {
				mul = units[i].ms;
				ulen = l;
			}
		}
		if (!ulen) {
			if (!*p)
				return err_set(
				    e, 0,
				    "\"%.*s%s\" lacks a unit; expected e.g. 30s or 500ms "
				    "(units: ms, s, m, h)",
				    Q(s));
			return err_set(e, 0,
				       "\"%.*s%s\": unknown unit; expected ms, s, m or h "
				       "(e.g. 500ms, 30s, 2m, 1h)",
				       Q(s));
		}
		p += ulen;
		if (n > MAX_DURATION_MS / mul || total + n * mul > MAX_DURATION_MS)
			return err_set(e, 0, "\"%.*s%s\" is too long; expected at most 1000h",
				       Q(s));
		total += n * mul;
	}
	*out = total;
	return 0;
}

int parse_size(const char *s, uint64_t *out, struct err *e)
{
	static const char sfx[] = "KMGT";
	const char *p = s;
	uint64_t n, mul = 1;

	if (!read_digits(&p, &n))
		return err_set(e, 0,
			       "\"%.*s%s\" is not a size; expected a number of bytes with an "
			       "optional K, M, G or T suffix (e.g. 512K, 64M, 1G)",
			       Q(s));
	if (*p) {
		const char *k = strchr(sfx, toupper((unsigned char)*p));
		const char *rest;

		if (!k || !*k)
			return err_set(e, 0,
				       "\"%.*s%s\": unknown size suffix; expected K, M, G or T "
				       "(e.g. 512K, 64M, 1G)",
				       Q(s));
		for (const char *q = sfx; q <= k; q++)
			mul *= 1024;
		rest = p + 1;
		if (strcmp(rest, "") != 0 && strcasecmp(rest, "B") != 0 &&
		    strcasecmp(rest, "iB") != 0)
			return err_set(e, 0,
				       "\"%.*s%s\": unknown size suffix; expected K, M, G or T "
				       "(e.g. 512K, 64M, 1G)",
				       Q(s));
	}
	if (n > UINT64_MAX / mul)
		return err_set(e, 0, "\"%.*s%s\" is too large", Q(s));
	*out = n * mul;
	return 0;
}

int parse_bool(const char *s, bool *out, struct err *e)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return err_set(e, 0,
		       "\"%.*s%s\" is not a boolean; expected yes or no (true/false, on/off, 1/0)",
		       Q(s));
}

int parse_int(const char *s, long long min, long long max, long long *out, struct err *e)
{
	const char *p = s;
	bool neg = false;
	uint64_t n;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!read_digits(&p, &n) || *p)
		return err_set(e, 0, "\"%.*s%s\" is not a whole number; expected %lld..%lld", Q(s),
			       min, max);
	if (n > (uint64_t)LLONG_MAX || (neg ? -(long long)n : (long long)n) < min ||
	    (neg ? -(long long)n : (long long)n) > max)
		return err_set(e, 0, "%.*s%s is out of range; expected %lld..%lld", Q(s), min, max);
	*out = neg ? -(long long)n : (long long)n;
	return 0;
}

int parse_signal(const char *s, int *out, struct err *e)
{
	int n = signum(s);

	if (n <= 0)
		return err_set(e, 0,
			       "\"%.*s%s\" is not a signal; expected a name such as TERM, INT, "
			       "QUIT, HUP, USR1 (with or without SIG) or a number",
			       Q(s));
	*out = n;
	return 0;
}

int parse_umask(const char *s, mode_t *out, struct err *e)
{
	unsigned v = 0;
	size_t n = 0;

	for (const char *p = s; *p; p++, n++) {
		if (*p < '0' || *p > '7' || n >= 4)
			return err_set(e, 0,
				       "\"%.*s%s\" is not a umask; expected octal digits such as "
				       "022 or 0077",
				       Q(s));
		v = v * 8 + (unsigned)(*p - '0');
	}
	if (!n)
		return err_set(e, 0, "empty; expected an octal umask such as 022");
	if (v > 0777)
		return err_set(e, 0, "\"%.*s%s\" is out of range; expected 000..0777", Q(s));
	*out = (mode_t)v;
	return 0;
}

static const struct {
	int num;
	const char *name;
} errnos[] = {
    {EPERM, "EPERM"},	  {ENOENT, "ENOENT"}, {EINTR, "EINTR"},	  {EIO, "EIO"},
    {ENXIO, "ENXIO"},	  {E2BIG, "E2BIG"},   {EBADF, "EBADF"},	  {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},	  {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},	  {ENODEV, "ENODEV"}, {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},	  {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"},	  {ENOSYS, "ENOSYS"},
    {ENOTSUP, "ENOTSUP"},
};

int parse_errno(const char *s, int *out, struct err *e)
{
	long long n;

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcasecmp(s, errnos[i].name) == 0) {
			*out = errnos[i].num;
			return 0;
		}
	if (isdigit((unsigned char)*s) && parse_int(s, 1, 4095, &n, NULL) == 0) {
		*out = (int)n;
		return 0;
	}
	return err_set(e, 0,
		       "\"%.*s%s\" is not an errno; expected a name such as EPERM, EACCES, "
		       "ENOSYS or a number 1..4095",
		       Q(s));
}

const char *errno_name(int errnum)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].num == errnum)
			return errnos[i].name;
	return NULL;
}

/* --- shell-like word splitting ------------------------------------------------ */

static bool is_operator(const char *w)
{
	static const char *const ops[] = {"|",	"||", "&&",   ";",   ";;",   "&",  "<",	 ">",  ">>",
					  "<<", "2>", "2>&1", ">&2", "1>&2", "&>", "|&", "<<<"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(w, ops[i]) == 0)
			return true;
	return false;
}

/* Where a bad word of an `env =` value is, without its text (it may hold a
 * secret): "HF_TOKEN" when the word starts with a valid NAME=, else "word N". */
static void env_word_where(char *buf, size_t cap, const char *w, size_t wordno)
{
	size_t nl = strcspn(w, "= \t\r\n\v\f'\"\\");

	if (w[nl] == '=' && env_name_ok(w, nl) && nl < 64)
		snprintf(buf, cap, "%.*s", (int)nl, w);
	else
		snprintf(buf, cap, "word %zu", wordno);
}

enum split_fail { SPLIT_SQUOTE, SPLIT_DQUOTE, SPLIT_BACKSLASH };

static void split_error(enum split_fail why, const char *s, const char *w, size_t wordno, bool env,
			struct err *e)
{
	static const char *const what[] = {"unterminated single quote", "unterminated double quote",
					   "ends with a lone backslash"};
	static const char *const want[] = {"a closing '", "a closing \"",
					   "a character after it (write \\\\ for a backslash)"};
	char where[96];

	if (env) {
		env_word_where(where, sizeof(where), w, wordno);
		err_set(e, 0, "%s: %s (the value is not shown); expected %s", where, what[why],
			want[why]);
	} else if (why == SPLIT_BACKSLASH) {
		err_set(e, 0, "\"%.*s%s\" %s; expected %s", Q(s), what[why], want[why]);
	} else {
		err_set(e, 0, "%s in \"%.*s%s\"; expected %s", what[why], Q(s), want[why]);
	}
}

/* split_words; env: messages never quote the text (`env =` values). */
static int split(const char *s, bool reject_operators, bool env, char ***out, struct err *e)
{
	size_t cap = strlen(s) + 1, n = 0, wlen;
	char **v = calloc(1, sizeof(*v));
	char *w = NULL;
	const char *p = s, *ws;

	*out = NULL;
	if (!v)
		goto nomem;
	for (;;) {
		bool quoted = false;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		w = malloc(cap);
		if (!w)
			goto nomem;
		wlen = 0;
		ws = p;
		while (*p && !is_blank(*p)) {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (!q) {
					split_error(SPLIT_SQUOTE, s, ws, n + 1, env, e);
					goto fail;
				}
				memcpy(w + wlen, p + 1, (size_t)(q - p - 1));
				wlen += (size_t)(q - p - 1);
				p = q + 1;
				quoted = true;
			} else if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					w[wlen++] = *p++;
				}
				if (*p != '"') {
					split_error(SPLIT_DQUOTE, s, ws, n + 1, env, e);
					goto fail;
				}
				p++;
				quoted = true;
			} else if (*p == '\\') {
				if (!p[1]) {
					split_error(SPLIT_BACKSLASH, s, ws, n + 1, env, e);
					goto fail;
				}
				w[wlen++] = p[1];
				p += 2;
				quoted = true;
			} else {
				w[wlen++] = *p++;
			}
		}
		w[wlen] = '\0';
		if (reject_operators && !quoted && is_operator(w)) {
			err_set(
			    e, 0,
			    "\"%s\" is shell syntax, but no shell runs the command; expected a "
			    "plain command and arguments (quote it to pass it literally, or use "
			    "sh -c '...')",
			    w);
			goto fail;
		}
		if (strv_push(&v, &n, w) < 0) {
			w = NULL;
			goto nomem;
		}
		w = NULL;
	}
	*out = v;
	return 0;
nomem:
	err_set(e, ENOMEM, "out of memory");
fail:
	free(w);
	strv_free(v);
	return -1;
}

int split_words(const char *s, bool reject_operators, char ***out, struct err *e)
{
	return split(s, reject_operators, false, out, e);
}

bool env_name_ok(const char *name, size_t len)
{
	if (!len || isdigit((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

/* Errors name the variable or the word's position, never a value. */
int parse_env_list(const char *s, char ***out, struct err *e)
{
	char **v;

	if (split(s, false, true, &v, e) < 0)
		return -1;
	if (!v[0]) {
		strv_free(v);
		return err_set(e, 0, "empty; expected NAME=VALUE pairs such as HF_HOME=/data/hf");
	}
	for (size_t i = 0; v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		if (!eq && i > 0) {
			err_set(
			    e, 0,
			    "word %zu (after %.*s=) has no '=' (the text is not shown); expected "
			    "NAME=VALUE pairs (quote a value that contains blanks: NAME='a b')",
			    i + 1, (int)strcspn(v[i - 1], "="), v[i - 1]);
		} else if (!eq) {
			err_set(e, 0,
				"word 1 has no '=' (the text is not shown); expected NAME=VALUE "
				"pairs such as HF_HOME=/data/hf LOG_LEVEL=info");
		} else if (!env_name_ok(v[i], (size_t)(eq - v[i]))) {
			err_set(e, 0,
				"word %zu: the name before '=' is not valid (the text is not "
				"shown); expected NAME=VALUE with a NAME of letters, digits and _, "
				"not starting with a digit",
				i + 1);
		} else {
			continue;
		}
		strv_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

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

/* --- near misses -------------------------------------------------------------- */

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions,
 * so "retires" is one step from "retries"), case-insensitive. */
size_t edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t r0[65], r1[65], r2[65]; /* rows i-2, i-1, i */
	size_t *pp = r0, *prev = r1, *cur = r2;

	if (la > 64 || lb > 64)
		return strcasecmp(a, b) == 0 ? 0 : cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		int ca = tolower((unsigned char)a[i - 1]);
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca == cb ? 0 : 1);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *nearest(const char *s, const char *const *candidates, size_t n)
{
	size_t len = strlen(s);
	size_t limit = len / 3 < 1 ? 1 : (len / 3 > 2 ? 2 : len / 3);
	const char *best = NULL;
	size_t bestd = limit + 1;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(s, candidates[i], limit);
		if (d < bestd) {
			bestd = d;
			best = candidates[i];
		}
	}
	return best;
}
