/* Configuration file -> struct config, with every error collected.
 *
 * inih reads the key = value lines; it does not tell us about section headers
 * (this Debian build never calls the handler for them), truncates section names
 * at 49 bytes and only reports the first bad line. So a pre-scan over the text
 * first finds every section header (by line number, full name), every line
 * inih would reject (no '=', unterminated '[', over-long, NUL bytes) and blanks
 * those lines in the copy given to inih, so that the handler only sees good
 * key lines and maps each to its section through the line number. */
#include "conf/conf_ctx.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/redact.h"
#include "base/words.h"

/* --- pre-scan ---------------------------------------------------------------------- */

bool conf_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > CONFIG_NAME_MAX || n[0] == '.' || n[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && !strchr("_.-", n[i]))
			return false;
	return true;
}

/* Index of the section (in c->secs) with the given kind and name, before `upto`. */
static ssize_t find_section(struct ctx *c, enum sec_kind kind, const char *label, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (c->secs[i].kind == kind && strcmp(c->secs[i].label, label) == 0)
			return (ssize_t)i;
	return -1;
}

/* A new service or profile struct for sec (SEC_SERVICE or SEC_SECCOMP), with
 * its defaults, line and name; false when out of memory. */
static bool new_entry(struct ctx *c, struct section *sec, int line, const char *name)
{
	struct config *cfg = c->cfg;
	char **namep;
	int *linep;

	if (sec->kind == SEC_SERVICE) {
		struct service_conf *v = realloc(cfg->services, (cfg->nservices + 1) * sizeof(*v));
		if (!v)
			return false;
		cfg->services = v;
		conf_service_defaults(&v[cfg->nservices]);
		namep = &v[cfg->nservices].name;
		linep = &v[cfg->nservices].line;
		sec->idx = cfg->nservices++;
	} else {
		struct seccomp_conf *v = realloc(cfg->profiles, (cfg->nprofiles + 1) * sizeof(*v));
		if (!v)
			return false;
		cfg->profiles = v;
		conf_profile_defaults(&v[cfg->nprofiles]);
		namep = &v[cfg->nprofiles].name;
		linep = &v[cfg->nprofiles].line;
		sec->idx = cfg->nprofiles++;
	}
	*linep = line;
	*namep = conf_strdup(c, name);
	return true;
}

/* [service:NAME] or [seccomp:NAME]: name is what follows the ':'. */
static void named_section(struct ctx *c, struct section *sec, const char *name)
{
	bool svc = strncmp(sec->label, "service", 7) == 0;
	enum sec_kind kind = svc ? SEC_SERVICE : SEC_SECCOMP;
	ssize_t prev;

	if (!*name) {
		conf_diag(c, sec->line, sec->label, NULL, "no name; expected [%s:NAME]",
			  svc ? "service" : "seccomp");
		return;
	}
	if (!conf_name_ok(name)) {
		conf_diag(c, sec->line, sec->label, NULL,
			  "bad name \"%.64s\"; expected 1 to %d letters, digits, '_', '.' or "
			  "'-', "
			  "not starting with '.' or '-'",
			  name, CONFIG_NAME_MAX);
		return;
	}
	if (!svc && strcmp(name, SECCOMP_BUILTIN_WORKER) == 0) {
		conf_diag(c, sec->line, sec->label, NULL,
			  "\"worker\" is the built-in profile; expected another name (use "
			  "extends = worker to build on it)");
		return;
	}
	prev = find_section(c, kind, sec->label, c->nsecs - 1);
	if (prev >= 0)
		conf_diag(c, sec->line, sec->label, NULL,
			  "%s \"%s\" is defined twice (first at line %d); expected unique names",
			  svc ? "service" : "seccomp profile", name, c->secs[prev].line);
	sec->kind = kind;
	if (!new_entry(c, sec, sec->line, name)) {
		c->oom = true;
		sec->kind = SEC_BAD;
	}
}

/* Unknown: suggest the kind the person probably meant. */
static void unknown_section(struct ctx *c, int line, const char *label, const char *colon)
{
	static const char *const kinds[] = {"hfinit", "service", "seccomp"};
	size_t wl = colon ? (size_t)(colon - label) : strlen(label);
	char word[32];
	const char *near = NULL;

	if (wl < sizeof(word)) {
		memcpy(word, label, wl);
		word[wl] = '\0';
		near = nearest(word, kinds, 3);
	}
	if (near && strcmp(near, "hfinit") == 0)
		conf_diag(c, line, label, NULL,
			  "unknown section (did you mean [hfinit]?); expected [hfinit], "
			  "[service:NAME] or [seccomp:NAME]");
	else if (near)
		conf_diag(c, line, label, NULL,
			  "unknown section (did you mean [%s:%.64s]?); expected [hfinit], "
			  "[service:NAME] or [seccomp:NAME]",
			  near, colon ? colon + 1 : "NAME");
	else
		conf_diag(c, line, label, NULL,
			  "unknown section; expected [hfinit], [service:NAME] or "
			  "[seccomp:NAME]");
}

/* The next section, header at line: NULL past MAXSECS (reported once) or out
 * of memory; else stored, kind SEC_BAD until its header is understood. */
static struct section *store_section(struct ctx *c, int line, const char *inside, size_t len)
{
	struct section *sec, *nv;
	char *label;

	if (c->nsecs >= MAXSECS) {
		if (c->nsecs == MAXSECS) {
			conf_diag(c, line, NULL, NULL,
				  "too many sections: this is section %d, expected at most %d per "
				  "file "
				  "([hfinit], [service:NAME] and [seccomp:NAME] together); it and "
				  "everything below it are ignored",
				  MAXSECS + 1, MAXSECS);
			c->over_line = line;
		}
		c->nsecs++; /* counted, not stored; their keys are not looked at */
		return NULL;
	}
	label = strndup(inside, len);
	nv = realloc(c->secs, (c->nsecs + 1) * sizeof(*nv));
	if (!label || !nv) {
		free(label);
		if (nv)
			c->secs = nv;
		c->oom = true;
		return NULL;
	}
	c->secs = nv;
	sec = &c->secs[c->nsecs++];
	memset(sec, 0, sizeof(*sec));
	sec->line = line;
	sec->label = label;
	sec->kind = SEC_BAD;
	return sec;
}

/* broken: an unterminated header (already reported): keys below it are ignored. */
static void add_section(struct ctx *c, int line, const char *inside, size_t len, bool broken)
{
	struct section *sec;
	const char *colon, *label;

	while (len && isspace((unsigned char)*inside))
		inside++, len--;
	while (len && isspace((unsigned char)inside[len - 1]))
		len--;
	sec = store_section(c, line, inside, len);
	if (!sec || broken)
		return;
	label = sec->label;
	colon = strchr(label, ':');
	if (strcmp(label, "hfinit") == 0) {
		sec->kind = SEC_HFINIT;
		if (c->hfinit_line)
			conf_diag(c, line, label, NULL,
				  "section appears twice (first at line %d); expected one [hfinit] "
				  "section",
				  c->hfinit_line);
		else
			c->hfinit_line = line;
	} else if (colon && (size_t)(colon - label) == 7 &&
		   (strncmp(label, "service", 7) == 0 || strncmp(label, "seccomp", 7) == 0)) {
		named_section(c, sec, colon + 1);
	} else if (strcmp(label, "service") == 0 || strcmp(label, "seccomp") == 0) {
		conf_diag(c, line, label, NULL, "no name; expected [%s:NAME]", label);
	} else {
		unknown_section(c, line, label, colon);
	}
}

/* inih's inline comment rule: ';' preceded by whitespace. Returns the position of
 * the first char of `chars` or the comment start or the end. */
static const char *find_chars_or_comment(const char *s, const char *end, const char *chars)
{
	bool was_space = false;

	for (; s < end; s++) {
		if (strchr(chars, *s) && *s)
			return s;
		if (was_space && *s == ';')
			return s;
		was_space = isspace((unsigned char)*s);
	}
	return end;
}

/* How much of a line that is no setting a message may quote: up to 60
 * bytes, but nothing after a word that names a secret (DB_PASSWORD: x). */
static int quotable(const char *s, const char *e)
{
	const char *w = s;

	while (w < e && w < s + 60) {
		const char *we = w;
		while (we < e && (isalnum((unsigned char)*we) || *we == '_'))
			we++;
		if (we > w && redact_secret_name(w, (size_t)(we - w)))
			return (int)(we - s);
		w = we > w ? we : w + 1;
	}
	return (int)(e - s > 60 ? 60 : e - s);
}

/* A line that cannot be read (too long, a NUL byte): true after reporting it. */
static bool unreadable(struct ctx *c, int lineno, const char *p, const char *le)
{
	const char *q = p;

	if ((size_t)(le - p) > (size_t)CONFIG_MAX_LINE + (le > p && le[-1] == '\r' ? 1 : 0))
		conf_diag(c, lineno, NULL, NULL,
			  "line is too long (%zu bytes); expected at most %d", (size_t)(le - p),
			  CONFIG_MAX_LINE);
	else if (memchr(p, '\0', (size_t)(le - p)))
		conf_diag(c, lineno, NULL, NULL, "the line contains a NUL byte; expected text");
	else
		return false;
	/* An unreadable line that looks like a section header still starts a
	 * section: keys below it must not land in the one before. */
	while (q < le && isspace((unsigned char)*q))
		q++;
	if (q < le && *q == '[')
		add_section(c, lineno, "", 0, true);
	return true;
}

/* [NAME] in s..e (trimmed): records the section; true when the line is bad. */
static bool scan_header(struct ctx *c, int lineno, const char *s, const char *e)
{
	const char *rb = find_chars_or_comment(s + 1, e, "]");
	const char *after;
	bool bad = false;

	if (rb == e || *rb != ']') {
		conf_diag(c, lineno, NULL, NULL,
			  "unterminated section header \"%.*s\"; expected [NAME]",
			  (int)(e - s > 60 ? 60 : e - s), s);
		add_section(c, lineno, "", 0, true);
		return true;
	}
	after = rb + 1;
	while (after < e && isspace((unsigned char)*after))
		after++;
	if (after < e && *after != ';') {
		conf_diag(c, lineno, NULL, NULL,
			  "text after the section header; expected only [NAME] on the line");
		bad = true;
	}
	add_section(c, lineno, s + 1, (size_t)(rb - s - 1), false);
	return bad;
}

/* KEY = VALUE in s..e (trimmed): true (reported) when it is not that shape. */
static bool bad_setting(struct ctx *c, int lineno, const char *s, const char *e)
{
	const char *sep = find_chars_or_comment(s, e, "=:");
	int q = quotable(s, e);
	const char *more = q < e - s && q < 60 ? " ..." : "";

	if (sep == e || *sep == ';')
		conf_diag(c, lineno, NULL, NULL,
			  "\"%.*s%s\" is not a setting; expected KEY = VALUE", q, s, more);
	else if (*sep == ':')
		conf_diag(c, lineno, NULL, NULL,
			  "\"%.*s%s\" uses ':' as separator; expected KEY = VALUE", q, s, more);
	else if (sep == s)
		conf_diag(c, lineno, NULL, NULL, "no key before '='; expected KEY = VALUE");
	else
		return false;
	return true;
}

/* One line, p..le (without the newline): true when inih must not see it. */
static bool scan_line(struct ctx *c, int lineno, const char *p, const char *le)
{
	const char *s = p, *e = le;

	if (unreadable(c, lineno, p, le))
		return true;
	if (lineno == 1 && e - s >= 3 && (unsigned char)s[0] == 0xEF &&
	    (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
		s += 3;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (s == e || *s == ';' || *s == '#')
		return false; /* blank or comment */
	if (*s == '[')
		return scan_header(c, lineno, s, e);
	return bad_setting(c, lineno, s, e);
}

void conf_scan(struct ctx *c, char *buf, size_t len)
{
	char *p = buf, *end = buf + len;
	int lineno = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;

		lineno++;
		if (scan_line(c, lineno, p, le)) {
			/* inih gets a blank line instead; the line count stays the same. */
			memset(p, ' ', (size_t)(le - p));
			if ((size_t)lineno < c->nlines)
				c->bad[lineno] = true;
		}
		p = nl ? nl + 1 : end;
	}
}
