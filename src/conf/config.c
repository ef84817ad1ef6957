/* Configuration file -> struct config, with every error collected.
 *
 * inih reads the key = value lines; it does not tell us about section headers
 * (this Debian build never calls the handler for them), truncates section names
 * at 49 bytes and only reports the first bad line. So a pre-scan over the text
 * first finds every section header (by line number, full name), every line
 * inih would reject (no '=', unterminated '[', over-long, NUL bytes) and blanks
 * those lines in the copy given to inih, so that the handler only sees good
 * key lines and maps each to its section through the line number. */
#include "conf/config.h"
#include "base/fmt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ini.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/words.h"
#include "conf/probe_spec.h"
#include "conf/value.h"
#include "base/redact.h"

/* --- key tables ---------------------------------------------------------------- */

enum sec_kind { SEC_HFINIT, SEC_SERVICE, SEC_SECCOMP, SEC_BAD };

enum vtype {
	V_DURATION,  /* uint64_t ms in [min, max] */
	V_UINT,	     /* unsigned in [min, max] */
	V_BOOL,	     /* bool */
	V_STRING,    /* char *, non-empty, <= CONFIG_MAX_VALUE */
	V_SCRIPT,    /* char *, a path, not "app.py --with args" */
	V_PREFIX,    /* char *, may be empty, surrounding "" removed */
	V_IDENT,     /* char *, a user or group name or number */
	V_AUTO_PATH, /* char *: "auto" -> NULL, else an absolute path */
	V_ARGV,	     /* char **, split shell-like, shell operators refused */
	V_ENV,	     /* char **, K=V words, appended */
	V_DIRS,	     /* char **, split shell-like */
	V_MODULES,   /* char **, Python module names, appended */
	V_SIGNAL,    /* int */
	V_UMASK,     /* mode_t + has_umask */
	V_OOM,	     /* int -1000..1000 + has_oom_score_adj */
	V_PROBE,     /* struct probe */
	V_HEALTH,    /* struct probe, polled kinds only */
	V_RESTART,   /* enum restart_policy */
	V_LOGFMT,    /* enum log_format */
	V_PROFILE,   /* char *, a profile name (checked after parsing) */
	V_SYSCALLS,  /* char **, syscall names, appended */
	V_ACTION,    /* struct seccomp_action_conf (+ has_default) */
	V_DENY_ACT,  /* struct seccomp_action_conf, not allow */
	V_RLIMIT,    /* struct rlimit_conf rlimits[min] */
};

#define NOLINE ((size_t)-1)
#define MS(x)  ((long long)(x))
#define SEC(x) (MS(x) * 1000)
#define MAXD   (SEC(3600) * 1000)

struct keydef {
	const char *name;
	enum vtype type;
	size_t off;	    /* the field in the section's struct */
	long long min, max; /* V_UINT / V_DURATION range; V_RLIMIT: the enum config_rlimit */
	size_t line_off;    /* an int *_line field, or NOLINE */
	bool repeat;	    /* may appear more than once (the values add up) */
};

#define G(f) offsetof(struct config, f)
#define S(f) offsetof(struct service_conf, f)
#define P(f) offsetof(struct seccomp_conf, f)

static const struct keydef hfinit_keys[] = {
    {"status_dir", V_AUTO_PATH, G(status_dir), 0, 0, NOLINE, false},
    {"app_dirs", V_DIRS, G(app_dirs), 0, 0, NOLINE, false},
    {"python", V_AUTO_PATH, G(python), 0, 0, G(python_line), false},
    {"python_timeout", V_DURATION, G(python_timeout_ms), MS(100), SEC(600), NOLINE, false},
    {"stop_timeout", V_DURATION, G(stop_timeout_ms), 0, SEC(3600), NOLINE, false},
    {"log_format", V_LOGFMT, G(log_format), 0, 0, NOLINE, false},
    {"probe_interval", V_DURATION, G(probe_interval_ms), MS(10), SEC(3600), NOLINE, false},
};

static const struct keydef service_keys[] = {
    {"stage", V_UINT, S(stage), 1, 1000000, NOLINE, false},
    {"command", V_ARGV, S(command), 0, 0, S(command_line), false},
    {"script", V_SCRIPT, S(script), 0, 0, S(script_line), false},
    {"args", V_ARGV, S(args), 0, 0, NOLINE, false},
    {"ready", V_PROBE, S(ready), 0, 0, NOLINE, false},
    {"ready_timeout", V_DURATION, S(ready_timeout_ms), MS(10), MAXD, NOLINE, false},
    {"retries", V_UINT, S(retries), 1, 1000, NOLINE, false},
    {"retry_delay", V_DURATION, S(retry_delay_ms), 0, MAXD, NOLINE, false},
    {"required", V_BOOL, S(required), 0, 0, NOLINE, false},
    {"restart", V_RESTART, S(restart), 0, 0, NOLINE, false},
    {"restart_delay", V_DURATION, S(restart_delay_ms), MS(10), MAXD, NOLINE, false},
    {"restart_max_delay", V_DURATION, S(restart_max_delay_ms), MS(10), MAXD, NOLINE, false},
    {"restart_burst", V_UINT, S(restart_burst), 1, 1000000, NOLINE, false},
    {"restart_window", V_DURATION, S(restart_window_ms), MS(100), MAXD, NOLINE, false},
    {"health", V_HEALTH, S(health), 0, 0, NOLINE, false},
    {"health_interval", V_DURATION, S(health_interval_ms), MS(10), MAXD, NOLINE, false},
    {"health_failures", V_UINT, S(health_failures), 1, 1000, NOLINE, false},
    {"user", V_IDENT, S(user), 0, 0, S(user_line), false},
    {"group", V_IDENT, S(group), 0, 0, S(group_line), false},
    {"workdir", V_STRING, S(workdir), 0, 0, NOLINE, false},
    {"env", V_ENV, S(env), 0, 0, NOLINE, true},
    {"env_file", V_STRING, S(env_file), 0, 0, S(env_file_line), false},
    {"stop_signal", V_SIGNAL, S(stop_signal), 0, 0, NOLINE, false},
    {"stop_timeout", V_DURATION, S(stop_timeout_ms), 0, SEC(3600), NOLINE, false},
    {"oom_score_adj", V_OOM, S(oom_score_adj), 0, 0, NOLINE, false},
    {"umask", V_UMASK, S(umask), 0, 0, NOLINE, false},
    {"log_prefix", V_PREFIX, S(log_prefix), 0, 0, NOLINE, false},
    {"redact", V_BOOL, S(redact), 0, 0, NOLINE, false},
    {"seccomp", V_PROFILE, S(seccomp), 0, 0, S(seccomp_line), false},
    {"requires", V_MODULES, S(requires), 0, 0, S(requires_line), true},
    {"rlimit_as", V_RLIMIT, S(rlimits), CRL_AS, 0, NOLINE, false},
    {"rlimit_core", V_RLIMIT, S(rlimits), CRL_CORE, 0, NOLINE, false},
    {"rlimit_cpu", V_RLIMIT, S(rlimits), CRL_CPU, 0, NOLINE, false},
    {"rlimit_data", V_RLIMIT, S(rlimits), CRL_DATA, 0, NOLINE, false},
    {"rlimit_fsize", V_RLIMIT, S(rlimits), CRL_FSIZE, 0, NOLINE, false},
    {"rlimit_locks", V_RLIMIT, S(rlimits), CRL_LOCKS, 0, NOLINE, false},
    {"rlimit_memlock", V_RLIMIT, S(rlimits), CRL_MEMLOCK, 0, NOLINE, false},
    {"rlimit_msgqueue", V_RLIMIT, S(rlimits), CRL_MSGQUEUE, 0, NOLINE, false},
    {"rlimit_nice", V_RLIMIT, S(rlimits), CRL_NICE, 0, NOLINE, false},
    {"rlimit_nofile", V_RLIMIT, S(rlimits), CRL_NOFILE, 0, NOLINE, false},
    {"rlimit_nproc", V_RLIMIT, S(rlimits), CRL_NPROC, 0, NOLINE, false},
    {"rlimit_rss", V_RLIMIT, S(rlimits), CRL_RSS, 0, NOLINE, false},
    {"rlimit_rtprio", V_RLIMIT, S(rlimits), CRL_RTPRIO, 0, NOLINE, false},
    {"rlimit_rttime", V_RLIMIT, S(rlimits), CRL_RTTIME, 0, NOLINE, false},
    {"rlimit_sigpending", V_RLIMIT, S(rlimits), CRL_SIGPENDING, 0, NOLINE, false},
    {"rlimit_stack", V_RLIMIT, S(rlimits), CRL_STACK, 0, NOLINE, false},
};

static const struct keydef seccomp_keys[] = {
    {"default", V_ACTION, P(def), 0, 0, NOLINE, false},
    {"deny_action", V_DENY_ACT, P(deny_action), 0, 0, NOLINE, false},
    {"deny", V_SYSCALLS, P(deny), 0, 0, NOLINE, true},
    {"allow", V_SYSCALLS, P(allow), 0, 0, NOLINE, true},
    {"extends", V_PROFILE, P(extends), 0, 0, P(extends_line), false},
};

#define NKEYS(t)  (sizeof(t) / sizeof((t)[0]))
#define MAXKEYS	  64
#define MAXSECS	  1000	/* section headers kept; a file with more is refused */
#define HARD_DIAG 10000 /* diagnostics collected before sorting and trimming */

static const struct {
	const char *name;
	int resource;
	bool is_size;
} rlimits[CRL_COUNT] = {
    [CRL_AS] = {"as", RLIMIT_AS, true},
    [CRL_CORE] = {"core", RLIMIT_CORE, true},
    [CRL_CPU] = {"cpu", RLIMIT_CPU, false},
    [CRL_DATA] = {"data", RLIMIT_DATA, true},
    [CRL_FSIZE] = {"fsize", RLIMIT_FSIZE, true},
    [CRL_LOCKS] = {"locks", RLIMIT_LOCKS, false},
    [CRL_MEMLOCK] = {"memlock", RLIMIT_MEMLOCK, true},
    [CRL_MSGQUEUE] = {"msgqueue", RLIMIT_MSGQUEUE, true},
    [CRL_NICE] = {"nice", RLIMIT_NICE, false},
    [CRL_NOFILE] = {"nofile", RLIMIT_NOFILE, false},
    [CRL_NPROC] = {"nproc", RLIMIT_NPROC, false},
    [CRL_RSS] = {"rss", RLIMIT_RSS, true},
    [CRL_RTPRIO] = {"rtprio", RLIMIT_RTPRIO, false},
    [CRL_RTTIME] = {"rttime", RLIMIT_RTTIME, false},
    [CRL_SIGPENDING] = {"sigpending", RLIMIT_SIGPENDING, false},
    [CRL_STACK] = {"stack", RLIMIT_STACK, true},
};

const char *config_rlimit_name(enum config_rlimit r)
{
	return (unsigned)r < CRL_COUNT ? rlimits[r].name : NULL;
}

int config_rlimit_resource(enum config_rlimit r)
{
	return (unsigned)r < CRL_COUNT ? rlimits[r].resource : -1;
}

const char *restart_policy_name(enum restart_policy p)
{
	switch (p) {
	case RESTART_NO:
		return "no";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	}
	return "?";
}

const char *seccomp_action_name(enum seccomp_action a)
{
	switch (a) {
	case SECCOMP_ACT_ALLOW:
		return "allow";
	case SECCOMP_ACT_ERRNO:
		return "errno";
	case SECCOMP_ACT_KILL:
		return "kill";
	case SECCOMP_ACT_LOG:
		return "log";
	}
	return "?";
}

/* --- parse state ------------------------------------------------------------------ */

struct section {
	int line;
	enum sec_kind kind;
	char *label; /* as written between the brackets, trimmed */
	size_t idx;  /* into services / profiles */
	int seen[MAXKEYS];
	int *env_lines; /* the line of each env = word, for the duplicate check */
	size_t nenv, capenv;
};

struct ctx {
	struct config *cfg;
	struct section *secs;
	size_t nsecs;
	bool *bad; /* per line: reported by the pre-scan, inih must not see it */
	size_t nlines;
	int hfinit_line;	 /* first [hfinit] header */
	int over_line;		 /* first section header past MAXSECS, 0: none */
	struct section *cur_sec; /* where the key being set is, and its line */
	int cur_line;
	size_t ndiag_all;
	bool oom;
};

static char *xstrdup(struct ctx *c, const char *s)
{
	char *d = strdup(s);

	if (!d)
		c->oom = true;
	return d;
}

/* Control characters from the file (escape sequences, CR) must not reach a
 * terminal through a message: they are shown as '?'. */
static void printable(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void diag(struct ctx *c, int line, const char *section, const char *key, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

static void diag(struct ctx *c, int line, const char *section, const char *key, const char *fmt,
		 ...)
{
	struct config *cfg = c->cfg;
	struct config_diag *d, *nv;
	char msg[1200], text[2048], where[160] = "", keybuf[128];
	va_list ap;

	c->ndiag_all++;
	if (cfg->ndiags >= HARD_DIAG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* nothing shaped like a secret in a message (docs/config.md, "Secrets") */
	redact_str(msg, sizeof(msg));
	if (key && redact_needed(key, strlen(key))) {
		snprintf(keybuf, sizeof(keybuf), "%s", key);
		redact_str(keybuf, sizeof(keybuf));
		key = keybuf;
	}
	if (section && key)
		snprintf(where, sizeof(where), " [%.60s] %.60s:", section, key);
	else if (section)
		snprintf(where, sizeof(where), " [%.60s]:", section);
	else if (key)
		snprintf(where, sizeof(where), " %.60s:", key);
	if (line > 0)
		snprintf(text, sizeof(text), "%s:%d:%s %s", cfg->file, line, where, msg);
	else
		snprintf(text, sizeof(text), "%s:%s %s", cfg->file, where, msg);
	redact_str(text, sizeof(text));

	nv = realloc(cfg->diags, (cfg->ndiags + 1) * sizeof(*nv));
	if (!nv) {
		c->oom = true;
		return;
	}
	cfg->diags = nv;
	d = &cfg->diags[cfg->ndiags];
	memset(d, 0, sizeof(*d));
	d->line = line;
	d->seq = cfg->ndiags;
	d->section = section ? strdup(section) : NULL;
	d->key = key ? strdup(key) : NULL;
	d->msg = strdup(msg);
	d->text = strdup(text);
	cfg->ndiags++;
	if ((section && !d->section) || (key && !d->key) || !d->msg || !d->text)
		c->oom = true;
	printable(d->section);
	printable(d->key);
	printable(d->msg);
	printable(d->text);
}

static void diag_free(struct config_diag *d)
{
	free(d->section);
	free(d->key);
	free(d->msg);
	free(d->text);
}

/* --- defaults ---------------------------------------------------------------------- */

static void service_defaults(struct service_conf *s)
{
	memset(s, 0, sizeof(*s));
	s->stage = 1;
	s->ready.kind = PROBE_STARTED;
	s->ready_timeout_ms = 30000;
	s->retries = 3;
	s->retry_delay_ms = 15000;
	s->required = true;
	s->redact = true;
	s->restart = RESTART_ON_FAILURE;
	s->restart_delay_ms = 1000;
	s->restart_max_delay_ms = 60000;
	s->restart_burst = 5;
	s->restart_window_ms = 60000;
	s->health.kind = PROBE_NONE;
	s->health_interval_ms = 10000;
	s->health_failures = 3;
	s->stop_signal = SIGTERM;
	s->stop_timeout_ms = UINT64_MAX; /* inherit: filled in at the end */
	for (int r = 0; r < CRL_COUNT; r++)
		s->rlimits[r].resource = rlimits[r].resource;
}

static void profile_defaults(struct seccomp_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->def.action = SECCOMP_ACT_ALLOW;
	p->deny_action.action = SECCOMP_ACT_ERRNO;
	p->deny_action.errnum = EPERM;
}

static void config_defaults(struct config *cfg)
{
	cfg->python_timeout_ms = 10000;
	cfg->stop_timeout_ms = 8000;
	cfg->log_format = LOG_FMT_TEXT;
	cfg->probe_interval_ms = 100;
}

/* --- pre-scan ---------------------------------------------------------------------- */

static bool name_ok(const char *n)
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

/* broken: an unterminated header (already reported): keys below it are ignored. */
static void add_section(struct ctx *c, int line, const char *inside, size_t len, bool broken)
{
	struct config *cfg = c->cfg;
	struct section *sec, *nv;
	const char *colon;
	char *label;
	ssize_t prev;

	while (len && isspace((unsigned char)*inside))
		inside++, len--;
	while (len && isspace((unsigned char)inside[len - 1]))
		len--;
	if (c->nsecs >= MAXSECS) {
		if (c->nsecs == MAXSECS) {
			diag(c, line, NULL, NULL,
			     "too many sections: this is section %d, expected at most %d per file "
			     "([hfinit], [service:NAME] and [seccomp:NAME] together); it and "
			     "everything below it are ignored",
			     MAXSECS + 1, MAXSECS);
			c->over_line = line;
		}
		c->nsecs++; /* counted, not stored; their keys are not looked at */
		return;
	}
	label = strndup(inside, len);
	nv = realloc(c->secs, (c->nsecs + 1) * sizeof(*nv));
	if (!label || !nv) {
		free(label);
		if (nv)
			c->secs = nv;
		c->oom = true;
		return;
	}
	c->secs = nv;
	sec = &c->secs[c->nsecs++];
	memset(sec, 0, sizeof(*sec));
	sec->line = line;
	sec->label = label;
	sec->kind = SEC_BAD;
	if (broken)
		return;

	colon = strchr(label, ':');
	if (strcmp(label, "hfinit") == 0) {
		sec->kind = SEC_HFINIT;
		if (c->hfinit_line)
			diag(c, line, label, NULL,
			     "section appears twice (first at line %d); expected one [hfinit] "
			     "section",
			     c->hfinit_line);
		else
			c->hfinit_line = line;
		return;
	}
	if ((colon && (size_t)(colon - label) == 7 && strncmp(label, "service", 7) == 0) ||
	    (colon && (size_t)(colon - label) == 7 && strncmp(label, "seccomp", 7) == 0)) {
		const char *name = colon + 1;
		bool svc = strncmp(label, "service", 7) == 0;
		enum sec_kind kind = svc ? SEC_SERVICE : SEC_SECCOMP;

		if (!*name) {
			diag(c, line, label, NULL, "no name; expected [%s:NAME]",
			     svc ? "service" : "seccomp");
			return;
		}
		if (!name_ok(name)) {
			diag(c, line, label, NULL,
			     "bad name \"%.64s\"; expected 1 to %d letters, digits, '_', '.' or "
			     "'-', "
			     "not starting with '.' or '-'",
			     name, CONFIG_NAME_MAX);
			return;
		}
		if (!svc && strcmp(name, SECCOMP_BUILTIN_WORKER) == 0) {
			diag(c, line, label, NULL,
			     "\"worker\" is the built-in profile; expected another name (use "
			     "extends = worker to build on it)");
			return;
		}
		prev = find_section(c, kind, label, c->nsecs - 1);
		if (prev >= 0)
			diag(c, line, label, NULL,
			     "%s \"%s\" is defined twice (first at line %d); expected unique names",
			     svc ? "service" : "seccomp profile", name, c->secs[prev].line);
		sec->kind = kind;
		if (svc) {
			struct service_conf *v =
			    realloc(cfg->services, (cfg->nservices + 1) * sizeof(*v));
			if (!v) {
				c->oom = true;
				sec->kind = SEC_BAD;
				return;
			}
			cfg->services = v;
			service_defaults(&v[cfg->nservices]);
			v[cfg->nservices].line = line;
			v[cfg->nservices].name = xstrdup(c, name);
			sec->idx = cfg->nservices++;
		} else {
			struct seccomp_conf *v =
			    realloc(cfg->profiles, (cfg->nprofiles + 1) * sizeof(*v));
			if (!v) {
				c->oom = true;
				sec->kind = SEC_BAD;
				return;
			}
			cfg->profiles = v;
			profile_defaults(&v[cfg->nprofiles]);
			v[cfg->nprofiles].line = line;
			v[cfg->nprofiles].name = xstrdup(c, name);
			sec->idx = cfg->nprofiles++;
		}
		return;
	}
	if (strcmp(label, "service") == 0 || strcmp(label, "seccomp") == 0) {
		diag(c, line, label, NULL, "no name; expected [%s:NAME]", label);
		return;
	}
	{
		/* Unknown: suggest the kind the person probably meant. */
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
			diag(c, line, label, NULL,
			     "unknown section (did you mean [hfinit]?); expected [hfinit], "
			     "[service:NAME] or [seccomp:NAME]");
		else if (near)
			diag(c, line, label, NULL,
			     "unknown section (did you mean [%s:%.64s]?); expected [hfinit], "
			     "[service:NAME] or [seccomp:NAME]",
			     near, colon ? colon + 1 : "NAME");
		else
			diag(c, line, label, NULL,
			     "unknown section; expected [hfinit], [service:NAME] or "
			     "[seccomp:NAME]");
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

static void prescan(struct ctx *c, char *buf, size_t len)
{
	char *p = buf, *end = buf + len;
	int lineno = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end;
		char *s = p, *e = le;
		bool bad = false;

		lineno++;
		if ((size_t)(le - p) >
		    (size_t)CONFIG_MAX_LINE + (le > p && le[-1] == '\r' ? 1 : 0)) {
			diag(c, lineno, NULL, NULL,
			     "line is too long (%zu bytes); expected at most %d", (size_t)(le - p),
			     CONFIG_MAX_LINE);
			bad = true;
		} else if (memchr(p, '\0', (size_t)(le - p))) {
			diag(c, lineno, NULL, NULL, "the line contains a NUL byte; expected text");
			bad = true;
		}
		if (bad) {
			/* An unreadable line that looks like a section header still
			 * starts a section: keys below it must not land in the one
			 * before. */
			const char *q = p;
			while (q < le && isspace((unsigned char)*q))
				q++;
			if (q < le && *q == '[')
				add_section(c, lineno, "", 0, true);
		} else {
			if (lineno == 1 && e - s >= 3 && (unsigned char)s[0] == 0xEF &&
			    (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
				s += 3;
			while (s < e && isspace((unsigned char)*s))
				s++;
			while (e > s && isspace((unsigned char)e[-1]))
				e--;
			if (s == e || *s == ';' || *s == '#') {
				/* blank or comment */
			} else if (*s == '[') {
				const char *rb = find_chars_or_comment(s + 1, e, "]");
				if (rb == e || *rb != ']') {
					diag(
					    c, lineno, NULL, NULL,
					    "unterminated section header \"%.*s\"; expected [NAME]",
					    (int)(e - s > 60 ? 60 : e - s), s);
					bad = true;
					add_section(c, lineno, "", 0, true);
				} else {
					const char *after = rb + 1;
					while (after < e && isspace((unsigned char)*after))
						after++;
					if (after < e && *after != ';') {
						diag(c, lineno, NULL, NULL,
						     "text after the section header; expected only "
						     "[NAME] on the line");
						bad = true;
					}
					add_section(c, lineno, s + 1, (size_t)(rb - s - 1), false);
				}
			} else {
				const char *sep = find_chars_or_comment(s, e, "=:");
				int q = quotable(s, e);
				const char *more = q < e - s && q < 60 ? " ..." : "";
				if (sep == e || *sep == ';') {
					diag(c, lineno, NULL, NULL,
					     "\"%.*s%s\" is not a setting; expected KEY = VALUE", q,
					     s, more);
					bad = true;
				} else if (*sep == ':') {
					diag(c, lineno, NULL, NULL,
					     "\"%.*s%s\" uses ':' as separator; expected KEY = "
					     "VALUE",
					     q, s, more);
					bad = true;
				} else if (sep == s) {
					diag(c, lineno, NULL, NULL,
					     "no key before '='; expected KEY = VALUE");
					bad = true;
				}
			}
		}
		if (bad) {
			/* inih gets a blank line instead; the line count stays the same. */
			memset(p, ' ', (size_t)(le - p));
			if ((size_t)lineno < c->nlines)
				c->bad[lineno] = true;
		}
		p = nl ? nl + 1 : end;
	}
}

/* --- value setters ------------------------------------------------------------------- */

static const char *expect_of(enum vtype t)
{
	switch (t) {
	case V_DURATION:
		return "a duration such as 500ms, 30s, 2m or 1h";
	case V_UINT:
		return "a whole number";
	case V_BOOL:
		return "yes or no";
	case V_STRING:
	case V_PREFIX:
		return "a value";
	case V_SCRIPT:
		return "the path of a Python script";
	case V_IDENT:
		return "a user or group name or number";
	case V_AUTO_PATH:
		return "auto or an absolute path";
	case V_ARGV:
		return "a command line such as node server.js --port 7860";
	case V_ENV:
		return "NAME=VALUE pairs";
	case V_DIRS:
		return "directories separated by spaces";
	case V_MODULES:
		return "Python module names such as torch transformers";
	case V_SIGNAL:
		return "a signal such as TERM or INT";
	case V_UMASK:
		return "an octal umask such as 022";
	case V_OOM:
		return "a number from -1000 to 1000";
	case V_PROBE:
		return "a probe such as started, line:ready, tcp:7860 or notify";
	case V_HEALTH:
		return "a probe such as tcp:7860 or http://127.0.0.1:7860/health";
	case V_RESTART:
		return "no, on-failure or always";
	case V_LOGFMT:
		return "text or json";
	case V_PROFILE:
		return "a seccomp profile name";
	case V_SYSCALLS:
		return "syscall names separated by spaces";
	case V_ACTION:
	case V_DENY_ACT:
		return "allow, errno, errno:ENAME, kill or log";
	case V_RLIMIT:
		return "a number, a size such as 64M, unlimited, or SOFT:HARD";
	}
	return "a value";
}

static bool ident_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 32 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]) &&
		    !(s[i] == '$' && i == len - 1))
			return false;
	return true;
}

static bool module_ok(const char *s)
{
	bool start = true;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return false;
			start = true;
			continue;
		}
		if (!(isalpha((unsigned char)*s) || *s == '_' ||
		      (!start && isdigit((unsigned char)*s))))
			return false;
		start = false;
	}
	return !start;
}

static int parse_action(const char *v, bool deny, struct seccomp_action_conf *a, struct err *e)
{
	const char *exp =
	    deny ? "errno, errno:ENAME, kill or log" : "allow, errno, errno:ENAME, kill or log";

	if (strcmp(v, "allow") == 0 && !deny) {
		a->action = SECCOMP_ACT_ALLOW;
	} else if (strcmp(v, "kill") == 0) {
		a->action = SECCOMP_ACT_KILL;
	} else if (strcmp(v, "log") == 0) {
		a->action = SECCOMP_ACT_LOG;
	} else if (strcmp(v, "errno") == 0) {
		a->action = SECCOMP_ACT_ERRNO;
		a->errnum = EPERM;
	} else if (strncmp(v, "errno:", 6) == 0) {
		if (parse_errno(v + 6, &a->errnum, e) < 0)
			return -1;
		a->action = SECCOMP_ACT_ERRNO;
	} else {
		return err_set(e, 0, "\"%.60s\" is not an action; expected %s", v, exp);
	}
	return 0;
}

/* Did-you-mean for a syscall name: libseccomp knows every name of this arch.
 * The names are collected once per process (asking libseccomp for each number
 * is slow), and never freed: a few KB, reachable until exit. */
static const char *syscall_near(const char *name, char *buf, size_t len)
{
	static char *names[1024];
	static bool loaded;
	size_t best = 3;

	if (!loaded) {
		uint32_t arch = seccomp_arch_native();
		for (int nr = 0; nr < 1024; nr++)
			names[nr] = seccomp_syscall_resolve_num_arch(arch, nr);
		loaded = true;
	}
	buf[0] = '\0';
	if (strlen(name) > 64)
		return NULL;
	for (int nr = 0; nr < 1024; nr++) {
		size_t d;
		if (!names[nr])
			continue;
		d = edit_distance(name, names[nr], 2);
		if (d < best) {
			best = d;
			snprintf(buf, len, "%s", names[nr]);
		}
	}
	return buf[0] ? buf : NULL;
}

static int set_rlimit(struct rlimit_conf *rl, enum config_rlimit which, const char *v,
		      struct err *e)
{
	uint64_t vals[2];
	const char *parts[2];
	char tmp[128];
	char *colon;

	if (strlen(v) >= sizeof(tmp))
		return err_set(e, 0, "value is too long; expected %s", expect_of(V_RLIMIT));
	strcpy(tmp, v);
	colon = strchr(tmp, ':');
	parts[0] = tmp;
	parts[1] = tmp;
	if (colon) {
		*colon = '\0';
		parts[1] = colon + 1;
	}
	for (int i = 0; i < 2; i++) {
		const char *s = parts[i];
		if (strcasecmp(s, "unlimited") == 0 || strcasecmp(s, "infinity") == 0) {
			vals[i] = CONFIG_RLIM_INFINITY;
		} else if (which == CRL_CPU && *s && !isdigit((unsigned char)s[strlen(s) - 1])) {
			uint64_t ms;
			if (parse_duration_ms(s, &ms, e) < 0)
				return -1;
			vals[i] = (ms + 999) / 1000;
		} else if (rlimits[which].is_size) {
			if (parse_size(s, &vals[i], NULL) < 0)
				return err_set(e, 0,
					       "\"%.60s\" is not a limit; expected a size such as "
					       "64M, a number of bytes, unlimited, or SOFT:HARD",
					       s);
		} else {
			long long n;
			if (parse_int(s, 0, LLONG_MAX, &n, NULL) < 0)
				return err_set(e, 0,
					       "\"%.60s\" is not a limit; expected a number, "
					       "unlimited, or SOFT:HARD",
					       s);
			vals[i] = (uint64_t)n;
		}
	}
	if (vals[0] > vals[1])
		return err_set(e, 0,
			       "the soft limit is above the hard limit; expected SOFT:HARD with "
			       "SOFT <= HARD");
	rl->set = true;
	rl->soft = vals[0];
	rl->hard = vals[1];
	return 0;
}

/* Set one value; on error fill e with "what; expected ...". */
/* Room for n env words (and the NULL) in *vp, and n lines; doubles. */
static int env_reserve(struct section *sec, char ***vp, size_t n)
{
	size_t cap;
	char **nv;
	int *nl;

	if (n <= sec->capenv)
		return 0;
	cap = n < 8 ? 8 : n * 2;
	nv = realloc(*vp, (cap + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	nv[sec->nenv] = NULL; /* a valid list even if the next step fails */
	*vp = nv;
	nl = realloc(sec->env_lines, cap * sizeof(*nl));
	if (!nl)
		return -1;
	sec->env_lines = nl;
	sec->capenv = cap;
	return 0;
}

static int set_value(struct ctx *c, const struct keydef *k, void *base, const char *v,
		     struct err *e)
{
	void *f = (char *)base + k->off;
	char b1[32], b2[32];

	if (!*v && k->type != V_PREFIX)
		return err_set(e, 0, "no value; expected %s", expect_of(k->type));
	if (strlen(v) > CONFIG_MAX_VALUE &&
	    !(k->type == V_ARGV || k->type == V_ENV || k->type == V_DIRS || k->type == V_MODULES ||
	      k->type == V_SYSCALLS))
		return err_set(e, 0, "value is too long (%zu bytes); expected at most %d",
			       strlen(v), CONFIG_MAX_VALUE);

	switch (k->type) {
	case V_DURATION: {
		uint64_t ms;
		if (parse_duration_ms(v, &ms, e) < 0)
			return -1;
		if ((long long)ms < k->min || (long long)ms > k->max)
			return err_set(e, 0, "%s is out of range; expected %s to %s", v,
				       fmt_duration((uint64_t)k->min, b1, sizeof(b1)),
				       fmt_duration((uint64_t)k->max, b2, sizeof(b2)));
		*(uint64_t *)f = ms;
		return 0;
	}
	case V_UINT: {
		long long n;
		if (parse_int(v, k->min, k->max, &n, e) < 0)
			return -1;
		*(unsigned *)f = (unsigned)n;
		return 0;
	}
	case V_BOOL:
		return parse_bool(v, (bool *)f, e);
	case V_STRING:
	case V_SCRIPT:
	case V_IDENT:
	case V_PREFIX: {
		char **sp = f;
		size_t len = strlen(v);
		const char *blank = strpbrk(v, " \t");

		/* "app.py --port 1": arguments in the path (a path with a blank in
		 * it stays possible as long as it does not look like that). */
		if (k->type == V_SCRIPT && blank &&
		    (blank[1 + strspn(blank + 1, " \t")] == '-' ||
		     (blank - v >= 3 && strncmp(blank - 3, ".py", 3) == 0)))
			return err_set(e, 0,
				       "\"%.60s\" has arguments; expected only the script path "
				       "here and the arguments in args = %.60s",
				       v, blank + strspn(blank, " \t"));
		if (k->type == V_IDENT && !ident_ok(v))
			return err_set(
			    e, 0,
			    "\"%.60s\" is not a valid name; expected a user or group name "
			    "(letters, digits, '_', '.', '-') or a number",
			    v);
		if (k->type == V_PREFIX && len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v++;
			len -= 2;
		}
		if (k->type == V_PREFIX && len > CONFIG_PREFIX_MAX)
			return err_set(e, 0, "the prefix is %zu bytes; expected at most %d", len,
				       CONFIG_PREFIX_MAX);
		free(*sp);
		*sp = strndup(v, len);
		if (!*sp)
			c->oom = true;
		return 0;
	}
	case V_AUTO_PATH: {
		char **sp = f;
		free(*sp);
		*sp = NULL;
		if (strcmp(v, "auto") == 0)
			return 0;
		if (v[0] != '/')
			return err_set(
			    e, 0, "\"%.60s\" is relative; expected auto or an absolute path", v);
		*sp = xstrdup(c, v);
		return 0;
	}
	case V_ARGV:
	case V_DIRS: {
		char ***vp = f, **words;
		if (split_words(v, k->type == V_ARGV, &words, e) < 0)
			return -1;
		if (!words[0]) {
			strv_free(words);
			return err_set(e, 0, "no value; expected %s", expect_of(k->type));
		}
		strv_free(*vp);
		*vp = words;
		return 0;
	}
	case V_ENV: {
		/* Appended in amortised O(1) per word; duplicates are found once the
		 * whole file is read (check_env_dups). */
		char ***vp = f, **words;
		struct section *sec = c->cur_sec;
		size_t add;
		if (parse_env_list(v, &words, e) < 0)
			return -1;
		add = strv_len(words);
		if (env_reserve(sec, vp, sec->nenv + add) < 0) {
			strv_free(words);
			c->oom = true;
			return 0;
		}
		for (size_t i = 0; i < add; i++) {
			(*vp)[sec->nenv] = words[i]; /* moved, not copied */
			sec->env_lines[sec->nenv++] = c->cur_line;
		}
		(*vp)[sec->nenv] = NULL;
		free(words);
		return 0;
	}
	case V_MODULES:
	case V_SYSCALLS: {
		char ***vp = f, **words;
		char tmp[CONFIG_MAX_LINE + 1];
		size_t n = strlen(v);

		if (n > CONFIG_MAX_LINE)
			n = CONFIG_MAX_LINE;
		/* commas separate too */
		for (size_t i = 0; i < n; i++)
			tmp[i] = v[i] == ',' ? ' ' : v[i];
		tmp[n] = '\0';
		if (split_words(tmp, false, &words, e) < 0)
			return -1;
		if (!words[0]) {
			strv_free(words);
			return err_set(e, 0, "no value; expected %s", expect_of(k->type));
		}
		for (size_t i = 0; words[i]; i++) {
			if (k->type == V_MODULES && !module_ok(words[i])) {
				err_set(
				    e, 0,
				    "\"%.60s\" is not a Python module name; expected import names "
				    "such as torch transformers (not pip names like "
				    "scikit-learn)",
				    words[i]);
				strv_free(words);
				return -1;
			}
			if (k->type == V_SYSCALLS &&
			    seccomp_syscall_resolve_name(words[i]) == __NR_SCMP_ERROR) {
				char near[64];
				if (syscall_near(words[i], near, sizeof(near)))
					err_set(e, 0,
						"unknown syscall \"%.60s\" (did you mean %s?); "
						"expected syscall names of this architecture",
						words[i], near);
				else
					err_set(e, 0,
						"unknown syscall \"%.60s\"; expected syscall names "
						"of this architecture",
						words[i]);
				strv_free(words);
				return -1;
			}
		}
		if (strv_extend(vp, words) < 0)
			c->oom = true;
		strv_free(words);
		return 0;
	}
	case V_SIGNAL:
		return parse_signal(v, (int *)f, e);
	case V_UMASK: {
		struct service_conf *s = base;
		if (parse_umask(v, &s->umask, e) < 0)
			return -1;
		s->has_umask = true;
		return 0;
	}
	case V_OOM: {
		struct service_conf *s = base;
		long long n;
		if (parse_int(v, -1000, 1000, &n, e) < 0)
			return -1;
		s->oom_score_adj = (int)n;
		s->has_oom_score_adj = true;
		return 0;
	}
	case V_PROBE:
	case V_HEALTH: {
		struct probe p;
		if (parse_probe(v, k->type == V_HEALTH, &p, e) < 0)
			return -1; /* ENOMEM is noticed by the caller through e->code */
		probe_free((struct probe *)f);
		*(struct probe *)f = p;
		return 0;
	}
	case V_RESTART: {
		static const char *const names[] = {"no", "on-failure", "always"};
		for (int i = 0; i < 3; i++)
			if (strcasecmp(v, names[i]) == 0) {
				*(enum restart_policy *)f = (enum restart_policy)i;
				return 0;
			}
		const char *near = nearest(v, names, 3);
		if (near)
			return err_set(e, 0,
				       "\"%.60s\" is not a restart policy (did you mean %s?); "
				       "expected no, on-failure or always",
				       v, near);
		return err_set(
		    e, 0, "\"%.60s\" is not a restart policy; expected no, on-failure or always",
		    v);
	}
	case V_LOGFMT:
		if (strcasecmp(v, "text") == 0)
			*(enum log_format *)f = LOG_FMT_TEXT;
		else if (strcasecmp(v, "json") == 0)
			*(enum log_format *)f = LOG_FMT_JSON;
		else
			return err_set(e, 0, "\"%.60s\" is not a log format; expected text or json",
				       v);
		return 0;
	case V_PROFILE: {
		char **sp = f;
		if (!name_ok(v))
			return err_set(e, 0,
				       "\"%.60s\" is not a profile name; expected worker or the "
				       "NAME of a [seccomp:NAME] section",
				       v);
		free(*sp);
		*sp = xstrdup(c, v);
		return 0;
	}
	case V_ACTION:
	case V_DENY_ACT: {
		struct seccomp_action_conf a = {0};
		if (parse_action(v, k->type == V_DENY_ACT, &a, e) < 0)
			return -1;
		*(struct seccomp_action_conf *)f = a;
		if (k->type == V_ACTION)
			((struct seccomp_conf *)base)->has_default = true;
		return 0;
	}
	case V_RLIMIT: {
		struct rlimit_conf *rl = (struct rlimit_conf *)f + k->min;
		return set_rlimit(rl, (enum config_rlimit)k->min, v, e);
	}
	}
	return err_set(e, 0, "internal: unhandled key type");
}

/* --- the inih handler -------------------------------------------------------------- */

static const struct keydef *keys_of(enum sec_kind kind, size_t *n)
{
	switch (kind) {
	case SEC_HFINIT:
		*n = NKEYS(hfinit_keys);
		return hfinit_keys;
	case SEC_SERVICE:
		*n = NKEYS(service_keys);
		return service_keys;
	case SEC_SECCOMP:
		*n = NKEYS(seccomp_keys);
		return seccomp_keys;
	case SEC_BAD:
		break;
	}
	*n = 0;
	return NULL;
}

static ssize_t key_index(const struct keydef *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static const char *kind_label(enum sec_kind k)
{
	return k == SEC_HFINIT	  ? "[hfinit]"
	       : k == SEC_SERVICE ? "[service:NAME]"
				  : "[seccomp:NAME]";
}

static void unknown_key(struct ctx *c, struct section *sec, const char *name, int line)
{
	const char *names[MAXKEYS];
	size_t n;
	const struct keydef *keys = keys_of(sec->kind, &n);
	const char *near;

	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].name;
	near = nearest(name, names, n);
	if (near) {
		diag(c, line, sec->label, name,
		     "unknown key (did you mean %s?); expected a key of %s", near,
		     kind_label(sec->kind));
		return;
	}
	/* A key of another kind of section? */
	for (int k = SEC_HFINIT; k <= SEC_SECCOMP; k++) {
		size_t m;
		const struct keydef *other = keys_of((enum sec_kind)k, &m);
		if (k != (int)sec->kind && key_index(other, m, name) >= 0) {
			diag(c, line, sec->label, name,
			     "this key belongs in a %s section; expected a key of %s",
			     kind_label((enum sec_kind)k), kind_label(sec->kind));
			return;
		}
	}
	diag(c, line, sec->label, name, "unknown key; expected a key of %s (see docs/config.md)",
	     kind_label(sec->kind));
}

struct env_key {
	const char *s;
	size_t len; /* of the name, up to '=' */
	size_t i;
};

static int env_key_cmp(const void *a, const void *b)
{
	const struct env_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->s, y->s, n);

	if (r == 0 && x->len != y->len)
		r = x->len < y->len ? -1 : 1;
	if (r == 0)
		r = x->i < y->i ? -1 : x->i > y->i;
	return r;
}

size_t config_env_dups(char *const *env, size_t n, size_t *first)
{
	struct env_key *k;
	size_t dups = 0;

	if (n == 0)
		return 0;
	k = malloc(n * sizeof(*k));
	if (!k)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(env[i], '=');
		k[i].s = env[i];
		k[i].len = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
		k[i].i = i;
	}
	qsort(k, n, sizeof(*k), env_key_cmp);
	for (size_t j = 0, run = 0; j < n; j++) {
		if (j == 0 || k[j].len != k[run].len || memcmp(k[j].s, k[run].s, k[j].len) != 0)
			run = j; /* a new name: its first setting, by position */
		else
			dups++;
		first[k[j].i] = k[run].i;
	}
	free(k);
	return dups;
}

static void check_env_dups(struct ctx *c, struct section *sec, char *const *env)
{
	size_t n = strv_len(env), *first;

	if (n < 2 || n != sec->nenv)
		return;
	first = malloc(n * sizeof(*first));
	if (!first || config_env_dups(env, n, first) == (size_t)-1) {
		free(first);
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t nl = (size_t)(strchr(env[i], '=') - env[i]);
		if (first[i] == i)
			continue;
		diag(c, sec->env_lines[i], sec->label, "env",
		     "%.*s is set twice (first at line %d); expected each variable once",
		     (int)(nl > 60 ? 60 : nl), env[i], sec->env_lines[first[i]]);
	}
	free(first);
}

static int handler(void *user, const char *section, const char *name, const char *value, int lineno)
{
	struct ctx *c = user;
	struct section *sec = NULL;
	const struct keydef *keys;
	size_t n, stored = c->nsecs < MAXSECS ? c->nsecs : MAXSECS;
	ssize_t ki;
	void *base;
	struct err e;

	(void)section; /* inih's name may be truncated: we map by line instead */
	if (!name || !value || lineno <= 0)
		return 1;
	if ((size_t)lineno < c->nlines && c->bad[lineno])
		return 1;
	if (c->over_line && lineno > c->over_line)
		return 1; /* below the section limit: reported once at its header */
	/* The section whose header is the last one above this line. */
	{
		size_t lo = 0, hi = stored;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (c->secs[mid].line < lineno)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo > 0)
			sec = &c->secs[lo - 1];
	}
	if (!sec) {
		diag(c, lineno, NULL, name,
		     "set outside any section; expected it under [hfinit], [service:NAME] or "
		     "[seccomp:NAME]");
		return 1;
	}
	if (sec->kind == SEC_BAD)
		return 1; /* the section header was reported */
	keys = keys_of(sec->kind, &n);
	ki = key_index(keys, n, name);
	if (ki < 0) {
		unknown_key(c, sec, name, lineno);
		return 1;
	}
	if (sec->seen[ki] && !keys[ki].repeat) {
		diag(c, lineno, sec->label, name,
		     "set twice (first at line %d); expected each key once per section",
		     sec->seen[ki]);
		return 1;
	}
	if (!sec->seen[ki])
		sec->seen[ki] = lineno;
	base = sec->kind == SEC_HFINIT	  ? (void *)c->cfg
	       : sec->kind == SEC_SERVICE ? (void *)&c->cfg->services[sec->idx]
					  : (void *)&c->cfg->profiles[sec->idx];
	if (keys[ki].line_off != NOLINE)
		*(int *)((char *)base + keys[ki].line_off) = lineno;
	err_clear(&e);
	c->cur_sec = sec;
	c->cur_line = lineno;
	if (set_value(c, &keys[ki], base, value, &e) < 0) {
		if (e.code == ENOMEM)
			c->oom = true;
		else
			diag(c, lineno, sec->label, name, "%s", e.msg);
	}
	return 1;
}

/* --- checks across keys and sections ----------------------------------------------- */

static int seen_line(const struct section *sec, const char *key)
{
	size_t n;
	const struct keydef *keys = keys_of(sec->kind, &n);
	ssize_t i = key_index(keys, n, key);

	return i >= 0 ? sec->seen[i] : 0;
}

static void check_service(struct ctx *c, struct section *sec)
{
	struct config *cfg = c->cfg;
	struct service_conf *s = &cfg->services[sec->idx];
	char b1[32], b2[32];
	int l;

	check_env_dups(c, sec, s->env);
	if (!s->command && !s->script && !seen_line(sec, "command") && !seen_line(sec, "script"))
		diag(c, sec->line, sec->label, NULL,
		     "no command or script; expected command = PROGRAM ARGS... or script = "
		     "PATH.py (run with the resolved Python)");
	if (seen_line(sec, "command") && seen_line(sec, "script")) {
		int a = seen_line(sec, "command"), b = seen_line(sec, "script");
		diag(c, a > b ? a : b, sec->label, a > b ? "command" : "script",
		     "both command (line %d) and script (line %d) are set; expected exactly one", a,
		     b);
	}
	if ((l = seen_line(sec, "args")) && seen_line(sec, "command") && !seen_line(sec, "script"))
		diag(c, l, sec->label, "args",
		     "args only goes with script; expected the arguments in command = ...");
	if (s->restart_max_delay_ms < s->restart_delay_ms) {
		int lm = seen_line(sec, "restart_max_delay"), ld = seen_line(sec, "restart_delay");
		diag(
		    c, lm ? lm : ld, sec->label, lm ? "restart_max_delay" : "restart_delay",
		    "restart_max_delay (%s) is below restart_delay (%s); expected the cap to be at "
		    "least the first delay",
		    fmt_duration(s->restart_max_delay_ms, b1, sizeof(b1)),
		    fmt_duration(s->restart_delay_ms, b2, sizeof(b2)));
	}
	if (!seen_line(sec, "health")) {
		static const char *const hk[] = {"health_interval", "health_failures"};
		for (int i = 0; i < 2; i++)
			if ((l = seen_line(sec, hk[i])))
				diag(c, l, sec->label, hk[i],
				     "has no effect without a health probe; expected health = ... "
				     "in this section, or remove the key");
	}
	if (s->seccomp && strcmp(s->seccomp, SECCOMP_BUILTIN_WORKER) != 0 &&
	    !config_profile(cfg, s->seccomp)) {
		const char **names = malloc((cfg->nprofiles + 1) * sizeof(*names));
		const char *near = NULL;
		if (names) {
			names[0] = SECCOMP_BUILTIN_WORKER;
			for (size_t i = 0; i < cfg->nprofiles; i++)
				names[i + 1] = cfg->profiles[i].name ? cfg->profiles[i].name : "";
			near = nearest(s->seccomp, names, cfg->nprofiles + 1);
		} else {
			c->oom = true;
		}
		if (near)
			diag(c, s->seccomp_line, sec->label, "seccomp",
			     "unknown profile \"%s\" (did you mean %s?); expected worker or a "
			     "[seccomp:NAME] defined in this file",
			     s->seccomp, near);
		else
			diag(c, s->seccomp_line, sec->label, "seccomp",
			     "unknown profile \"%s\"; expected worker or a [seccomp:NAME] defined "
			     "in this file",
			     s->seccomp);
		free(names);
	}
	if (s->stop_timeout_ms == UINT64_MAX)
		s->stop_timeout_ms = cfg->stop_timeout_ms;
}

static bool strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* hfinit loads the filter and then execs the service: a profile that blocks
 * execve could never start anything. Walk the extends chain (the built-in
 * worker profile allows execve) for the effective default, deny and allow. */
static void check_execve(struct ctx *c, struct section *sec, const struct seccomp_conf *p)
{
	const struct seccomp_conf *q = p;
	bool have_default = false, denied = false, allowed = false;
	enum seccomp_action def = SECCOMP_ACT_ALLOW;

	for (size_t steps = 0; q && steps <= c->cfg->nprofiles; steps++) {
		if (!have_default && q->has_default) {
			have_default = true;
			def = q->def.action;
		}
		denied = denied || strv_has(q->deny, "execve");
		allowed = allowed || strv_has(q->allow, "execve");
		if (!q->extends || strcmp(q->extends, SECCOMP_BUILTIN_WORKER) == 0)
			break;
		q = config_profile(c->cfg, q->extends);
	}
	/* Report it where it is caused: an inherited problem is reported once, at
	 * the parent. */
	if (allowed)
		return;
	if (strv_has(p->deny, "execve"))
		diag(c, seen_line(sec, "deny"), sec->label, "deny",
		     "execve is denied, but hfinit starts the service with execve after loading "
		     "the filter; expected execve not in deny");
	else if (!denied && p->has_default && def != SECCOMP_ACT_ALLOW && def != SECCOMP_ACT_LOG)
		diag(c, seen_line(sec, "default") ? seen_line(sec, "default") : sec->line,
		     sec->label, "default",
		     "%s by default also stops the execve that starts the service; expected "
		     "allow = execve (plus what the program needs)",
		     def == SECCOMP_ACT_KILL ? "killing" : "failing calls");
}

static void check_profile(struct ctx *c, struct section *sec)
{
	struct config *cfg = c->cfg;
	struct seccomp_conf *p = &cfg->profiles[sec->idx];

	for (size_t i = 0; p->deny && p->deny[i]; i++)
		for (size_t j = 0; p->allow && p->allow[j]; j++)
			if (strcmp(p->deny[i], p->allow[j]) == 0) {
				diag(c, seen_line(sec, "allow"), sec->label, "allow",
				     "%s is in both deny and allow; expected it in one list",
				     p->deny[i]);
				break;
			}
	check_execve(c, sec, p);
	if (!p->extends || strcmp(p->extends, SECCOMP_BUILTIN_WORKER) == 0)
		return;
	if (!config_profile(cfg, p->extends)) {
		diag(c, p->extends_line, sec->label, "extends",
		     "unknown profile \"%s\"; expected worker or a [seccomp:NAME] defined in this "
		     "file",
		     p->extends);
		return;
	}
	/* Follow the chain: at most nprofiles steps without meeting p again. */
	const struct seccomp_conf *q = p;
	for (size_t steps = 0; steps <= cfg->nprofiles && q && q->extends; steps++) {
		if (strcmp(q->extends, SECCOMP_BUILTIN_WORKER) == 0)
			return;
		q = config_profile(cfg, q->extends);
		if (q == p) {
			diag(c, p->extends_line, sec->label, "extends",
			     "\"%s\" leads back to %s (a cycle); expected a chain that ends at "
			     "worker or at a profile without extends",
			     p->extends, p->name);
			return;
		}
	}
}

static int diag_cmp(const void *a, const void *b)
{
	const struct config_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void finish(struct ctx *c)
{
	struct config *cfg = c->cfg;
	size_t stored = c->nsecs < MAXSECS ? c->nsecs : MAXSECS;

	for (size_t i = 0; i < stored; i++) {
		if (c->secs[i].kind == SEC_SERVICE)
			check_service(c, &c->secs[i]);
		else if (c->secs[i].kind == SEC_SECCOMP)
			check_profile(c, &c->secs[i]);
	}
	for (size_t i = 0; i < cfg->nservices; i++)
		if (cfg->services[i].stop_timeout_ms == UINT64_MAX)
			cfg->services[i].stop_timeout_ms = cfg->stop_timeout_ms;
	if (cfg->nservices == 0 && cfg->ndiags == 0)
		diag(c, 0, NULL, NULL,
		     "no services; expected at least one [service:NAME] section with a command or "
		     "script");

	if (cfg->ndiags > 1)
		qsort(cfg->diags, cfg->ndiags, sizeof(*cfg->diags), diag_cmp);
	if (c->ndiag_all > CONFIG_MAX_DIAGS) {
		size_t more = c->ndiag_all - (CONFIG_MAX_DIAGS - 1);
		for (size_t i = CONFIG_MAX_DIAGS - 1; i < cfg->ndiags; i++)
			diag_free(&cfg->diags[i]);
		cfg->ndiags = CONFIG_MAX_DIAGS - 1;
		c->ndiag_all = 0;
		diag(c, 0, NULL, NULL, "%zu more errors not shown; expected fewer errors", more);
	}
	for (size_t i = 0; i < cfg->ndiags; i++)
		cfg->diags[i].seq = i;
}

/* --- public -------------------------------------------------------------------------- */

struct config *config_parse(const char *file, const char *text, size_t len, struct err *e)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct ctx c = {0};
	char *buf = NULL;
	int rc;

	if (!cfg)
		goto nomem;
	config_defaults(cfg);
	c.cfg = cfg;
	cfg->file = strdup(file ? file : "(config)");
	buf = malloc(len + 1);
	/* One flag per line (+1 for 1-based numbers, +1 for a last line without '\n'). */
	c.nlines = 2;
	for (size_t i = 0; i < len; i++)
		c.nlines += text[i] == '\n';
	c.bad = calloc(c.nlines, sizeof(*c.bad));
	if (!cfg->file || !buf || !c.bad)
		goto nomem;
	memcpy(buf, text, len);
	buf[len] = '\0';

	if (len > CONFIG_MAX_FILE) {
		diag(&c, 0, NULL, NULL, "the file is too large (%zu bytes); expected at most %d",
		     len, CONFIG_MAX_FILE);
	} else {
		prescan(&c, buf, len);
		/* This Debian inih build reads lines into a 200-byte buffer unless
		 * told it may grow it (up to INI_MAX_LINE = 16384). */
		ini_allow_realloc = true;
		if (ini_max_line < CONFIG_MAX_LINE + 3)
			ini_max_line = CONFIG_MAX_LINE + 3;
		rc = ini_parse_string(buf, handler, &c);
		if (rc == -2)
			c.oom = true;
		finish(&c);
	}
	if (c.oom)
		goto nomem;
	for (size_t i = 0; i < (c.nsecs < MAXSECS ? c.nsecs : MAXSECS); i++) {
		free(c.secs[i].label);
		free(c.secs[i].env_lines);
	}
	free(c.secs);
	free(c.bad);
	free(buf);
	return cfg;
nomem:
	for (size_t i = 0; i < (c.nsecs < MAXSECS ? c.nsecs : MAXSECS); i++) {
		free(c.secs[i].label);
		free(c.secs[i].env_lines);
	}
	free(c.secs);
	free(c.bad);
	free(buf);
	config_free(cfg);
	err_set(e, ENOMEM, "out of memory while parsing %s", file ? file : "the config");
	return NULL;
}

void config_locate(const char *opt_path, struct config_location *loc)
{
	const char *env = getenv(CONFIG_ENV_VAR);

	if (opt_path) {
		loc->path = opt_path;
		loc->source = CONFIG_SRC_OPTION;
	} else if (env && *env) {
		loc->path = env;
		loc->source = CONFIG_SRC_ENV;
	} else {
		loc->path = CONFIG_DEFAULT_PATH;
		loc->source = CONFIG_SRC_DEFAULT;
	}
}

const char *config_source_name(enum config_source s)
{
	switch (s) {
	case CONFIG_SRC_OPTION:
		return "-c option";
	case CONFIG_SRC_ENV:
		return "$" CONFIG_ENV_VAR;
	case CONFIG_SRC_DEFAULT:
		return "default path";
	}
	return "?";
}

static const char *source_hint(enum config_source s)
{
	switch (s) {
	case CONFIG_SRC_OPTION:
		return "given with -c";
	case CONFIG_SRC_ENV:
		return "from $" CONFIG_ENV_VAR;
	case CONFIG_SRC_DEFAULT:
		return "the default path; use -c FILE or set $" CONFIG_ENV_VAR " to choose another";
	}
	return "?";
}

struct config *config_load(const struct config_location *loc, struct err *e)
{
	struct config *cfg;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd;

	fd = open(loc->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err_sys(e, "cannot read config %s (%s)", loc->path, source_hint(loc->source));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		err_sys(e, "cannot read config %s (%s)", loc->path, source_hint(loc->source));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		err_set(e, errno, "cannot read config %s (%s): %s", loc->path,
			source_hint(loc->source),
			S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
		goto fail;
	}
	buf = malloc(CONFIG_MAX_FILE + 1);
	if (!buf) {
		err_set(e, ENOMEM, "out of memory reading %s", loc->path);
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, CONFIG_MAX_FILE + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, "cannot read config %s (%s)", loc->path,
				source_hint(loc->source));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONFIG_MAX_FILE) {
			err_set(e, EFBIG, "config %s (%s) is larger than %d bytes", loc->path,
				source_hint(loc->source), CONFIG_MAX_FILE);
			goto fail;
		}
	}
	/* A read-only fd: close cannot lose data, and everything was read. */
	(void)close(fd);
	fd = -1;
	cfg = config_parse(loc->path, buf, len, e);
	free(buf);
	if (cfg) {
		cfg->source = strdup(config_source_name(loc->source));
		if (!cfg->source) {
			config_free(cfg);
			err_set(e, ENOMEM, "out of memory");
			return NULL;
		}
	}
	return cfg;
fail:
	free(buf);
	if (fd >= 0)
		(void)close(fd); /* read-only fd: nothing to flush, the error is already set */
	return NULL;
}

static void service_free(struct service_conf *s)
{
	free(s->name);
	strv_free(s->command);
	free(s->script);
	strv_free(s->args);
	probe_free(&s->ready);
	probe_free(&s->health);
	free(s->user);
	free(s->group);
	free(s->workdir);
	strv_free(s->env);
	free(s->env_file);
	free(s->log_prefix);
	free(s->seccomp);
	strv_free(s->requires);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->file);
	free(cfg->source);
	free(cfg->status_dir);
	strv_free(cfg->app_dirs);
	free(cfg->python);
	for (size_t i = 0; i < cfg->nservices; i++)
		service_free(&cfg->services[i]);
	free(cfg->services);
	for (size_t i = 0; i < cfg->nprofiles; i++) {
		struct seccomp_conf *p = &cfg->profiles[i];
		free(p->name);
		strv_free(p->deny);
		strv_free(p->allow);
		free(p->extends);
	}
	free(cfg->profiles);
	for (size_t i = 0; i < cfg->ndiags; i++)
		diag_free(&cfg->diags[i]);
	free(cfg->diags);
	free(cfg);
}

const struct service_conf *config_service(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->nservices; i++)
		if (cfg->services[i].name && strcmp(cfg->services[i].name, name) == 0)
			return &cfg->services[i];
	return NULL;
}

const struct seccomp_conf *config_profile(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && i < cfg->nprofiles; i++)
		if (cfg->profiles[i].name && strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

unsigned config_max_stage(const struct config *cfg)
{
	unsigned m = 0;

	for (size_t i = 0; cfg && i < cfg->nservices; i++)
		if (cfg->services[i].stage > m)
			m = cfg->services[i].stage;
	return m;
}

size_t config_diags_print(const struct config *cfg, FILE *out)
{
	if (!cfg)
		return 0;
	for (size_t i = 0; i < cfg->ndiags; i++)
		fprintf(out, "%s\n", cfg->diags[i].text);
	if (cfg->ndiags)
		fprintf(out, "%s: %zu error%s\n", cfg->file, cfg->ndiags,
			cfg->ndiags == 1 ? "" : "s");
	return cfg->ndiags;
}
