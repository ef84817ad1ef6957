/* The value setters: one key's text -> its field, or "what is wrong;
 * expected ..." in e. */
#include "conf/conf_ctx.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fmt.h"
#include "base/strv.h"
#include "base/words.h"
#include "conf/probe_spec.h"
#include "conf/value.h"

/* --- value setters ------------------------------------------------------------------- */
/* What each value type expects, for "no value; expected ..." and the like. */
static const char *const expects[V_COUNT] = {
    [V_DURATION] = "a duration such as 500ms, 30s, 2m or 1h",
    [V_UINT] = "a whole number",
    [V_BOOL] = "yes or no",
    [V_STRING] = "a value",
    [V_PREFIX] = "a value",
    [V_SCRIPT] = "the path of a Python script",
    [V_IDENT] = "a user or group name or number",
    [V_AUTO_PATH] = "auto or an absolute path",
    [V_ARGV] = "a command line such as node server.js --port 7860",
    [V_ENV] = "NAME=VALUE pairs",
    [V_DIRS] = "directories separated by spaces",
    [V_PATHS] = "files or directories separated by spaces",
    [V_GLOBS] = "name globs such as __pycache__ *.swp, or nothing",
    [V_MODULES] = "Python module names such as torch transformers",
    [V_SIGNAL] = "a signal such as TERM or INT",
    [V_UMASK] = "an octal umask such as 022",
    [V_OOM] = "a number from -1000 to 1000",
    [V_PROBE] = "a probe such as started, line:ready, tcp:7860 or notify",
    [V_HEALTH] = "a probe such as tcp:7860 or http://127.0.0.1:7860/health",
    [V_RESTART] = "no, on-failure or always",
    [V_LOGFMT] = "text or json",
    [V_PROFILE] = "a seccomp profile name",
    [V_SYSCALLS] = "syscall names separated by spaces",
    [V_ACTION] = "allow, errno, errno:ENAME, kill or log",
    [V_DENY_ACT] = "allow, errno, errno:ENAME, kill or log",
    [V_RLIMIT] = "a number, a size such as 64M, unlimited, or SOFT:HARD",
    [V_TYPE] = "longrun or oneshot",
    [V_CODES] = "exit codes from 0 to 255 such as 0 3",
};

static const char *expect_of(enum vtype t)
{
	return (unsigned)t < V_COUNT && expects[t] ? expects[t] : "a value";
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
		} else if (conf_rlimits[which].is_size) {
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

/* One key being set: its text v, for the field f of the section's struct base. */
struct setting {
	struct ctx *c;
	const struct keydef *k;
	void *base;
	void *f;
	const char *v;
};

static int set_duration(const struct setting *s, struct err *e)
{
	const struct keydef *k = s->k;
	char b1[32], b2[32];
	uint64_t ms;

	if (parse_duration_ms(s->v, &ms, e) < 0)
		return -1;
	if ((long long)ms < k->min || (long long)ms > k->max)
		return err_set(e, 0, "%s is out of range; expected %s to %s", s->v,
			       fmt_duration((uint64_t)k->min, b1, sizeof(b1)),
			       fmt_duration((uint64_t)k->max, b2, sizeof(b2)));
	*(uint64_t *)s->f = ms;
	return 0;
}

static int set_uint(const struct setting *s, struct err *e)
{
	long long n;

	if (parse_int(s->v, s->k->min, s->k->max, &n, e) < 0)
		return -1;
	*(unsigned *)s->f = (unsigned)n;
	return 0;
}

static int set_bool(const struct setting *s, struct err *e)
{
	return parse_bool(s->v, (bool *)s->f, e);
}

/* The string field gets len bytes of v (a copy). */
static int store_string(const struct setting *s, const char *v, size_t len)
{
	char **sp = s->f;

	free(*sp);
	*sp = strndup(v, len);
	if (!*sp)
		s->c->oom = true;
	return 0;
}

static int set_string(const struct setting *s, struct err *e)
{
	(void)e;
	return store_string(s, s->v, strlen(s->v));
}

static int set_script(const struct setting *s, struct err *e)
{
	const char *v = s->v, *blank = strpbrk(v, " \t");

	/* "app.py --port 1": arguments in the path (a path with a blank in
	 * it stays possible as long as it does not look like that). */
	if (blank && (blank[1 + strspn(blank + 1, " \t")] == '-' ||
		      (blank - v >= 3 && strncmp(blank - 3, ".py", 3) == 0)))
		return err_set(e, 0,
			       "\"%.60s\" has arguments; expected only the script path "
			       "here and the arguments in args = %.60s",
			       v, blank + strspn(blank, " \t"));
	return store_string(s, v, strlen(v));
}

static int set_ident(const struct setting *s, struct err *e)
{
	if (!ident_ok(s->v))
		return err_set(e, 0,
			       "\"%.60s\" is not a valid name; expected a user or group name "
			       "(letters, digits, '_', '.', '-') or a number",
			       s->v);
	return store_string(s, s->v, strlen(s->v));
}

static int set_prefix(const struct setting *s, struct err *e)
{
	const char *v = s->v;
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	if (len > CONFIG_PREFIX_MAX)
		return err_set(e, 0, "the prefix is %zu bytes; expected at most %d", len,
			       CONFIG_PREFIX_MAX);
	return store_string(s, v, len);
}

static int set_auto_path(const struct setting *s, struct err *e)
{
	char **sp = s->f;

	free(*sp);
	*sp = NULL;
	if (strcmp(s->v, "auto") == 0)
		return 0;
	if (s->v[0] != '/')
		return err_set(e, 0, "\"%.60s\" is relative; expected auto or an absolute path",
			       s->v);
	*sp = conf_strdup(s->c, s->v);
	return 0;
}

/* V_ARGV (shell operators refused), V_DIRS, V_PATHS and V_GLOBS (may be
 * empty): the words replace the list. */
static int set_words(const struct setting *s, struct err *e)
{
	char ***vp = s->f, **words;

	if (split_words(s->v, s->k->type == V_ARGV, &words, e) < 0)
		return -1;
	if (!words[0] && s->k->type != V_GLOBS) {
		strv_free(words);
		return err_set(e, 0, "no value; expected %s", expect_of(s->k->type));
	}
	strv_free(*vp);
	*vp = words;
	return 0;
}

static int set_env(const struct setting *s, struct err *e)
{
	/* Appended in amortised O(1) per word; duplicates are found once the
	 * whole file is read (check_env_dups). */
	char ***vp = s->f, **words;
	struct section *sec = s->c->cur_sec;
	size_t add;

	if (parse_env_list(s->v, &words, e) < 0)
		return -1;
	add = strv_len(words);
	if (env_reserve(sec, vp, sec->nenv + add) < 0) {
		strv_free(words);
		s->c->oom = true;
		return 0;
	}
	for (size_t i = 0; i < add; i++) {
		(*vp)[sec->nenv] = words[i]; /* moved, not copied */
		sec->env_lines[sec->nenv++] = s->c->cur_line;
	}
	(*vp)[sec->nenv] = NULL;
	free(words);
	return 0;
}

/* A list of names separated by blanks or commas; at least one. */
static int split_names(const struct setting *s, char ***words, struct err *e)
{
	char tmp[CONFIG_MAX_LINE + 1];
	size_t n = strlen(s->v);

	if (n > CONFIG_MAX_LINE)
		n = CONFIG_MAX_LINE;
	/* commas separate too */
	for (size_t i = 0; i < n; i++)
		tmp[i] = s->v[i] == ',' ? ' ' : s->v[i];
	tmp[n] = '\0';
	if (split_words(tmp, false, words, e) < 0)
		return -1;
	if (!(*words)[0]) {
		strv_free(*words);
		return err_set(e, 0, "no value; expected %s", expect_of(s->k->type));
	}
	return 0;
}

/* The names are appended to the list (the key may repeat). */
static int append_names(const struct setting *s, char **words)
{
	if (strv_extend((char ***)s->f, words) < 0)
		s->c->oom = true;
	strv_free(words);
	return 0;
}

static int set_modules(const struct setting *s, struct err *e)
{
	char **words;

	if (split_names(s, &words, e) < 0)
		return -1;
	for (size_t i = 0; words[i]; i++)
		if (!module_ok(words[i])) {
			err_set(e, 0,
				"\"%.60s\" is not a Python module name; expected import names "
				"such as torch transformers (not pip names like "
				"scikit-learn)",
				words[i]);
			strv_free(words);
			return -1;
		}
	return append_names(s, words);
}

/* The plan layer's check of a syscall name (config_set_syscall_check). */
static config_syscall_check_fn *syscall_check;

void config_set_syscall_check(config_syscall_check_fn *fn)
{
	syscall_check = fn;
}

static int set_syscalls(const struct setting *s, struct err *e)
{
	char **words;

	if (split_names(s, &words, e) < 0)
		return -1;
	for (size_t i = 0; syscall_check && words[i]; i++)
		if (syscall_check(words[i], e) < 0) {
			strv_free(words);
			return -1;
		}
	return append_names(s, words);
}

static int set_signal(const struct setting *s, struct err *e)
{
	return parse_signal(s->v, (int *)s->f, e);
}

static int set_umask(const struct setting *s, struct err *e)
{
	struct service_conf *sc = s->base;

	if (parse_umask(s->v, &sc->umask, e) < 0)
		return -1;
	sc->has_umask = true;
	return 0;
}

static int set_oom(const struct setting *s, struct err *e)
{
	struct service_conf *sc = s->base;
	long long n;

	if (parse_int(s->v, -1000, 1000, &n, e) < 0)
		return -1;
	sc->oom_score_adj = (int)n;
	sc->has_oom_score_adj = true;
	return 0;
}

/* V_PROBE and V_HEALTH (polled kinds only). */
static int set_probe(const struct setting *s, struct err *e)
{
	struct probe p;

	if (parse_probe(s->v, s->k->type == V_HEALTH, &p, e) < 0)
		return -1; /* ENOMEM is noticed by the caller through e->code */
	probe_free((struct probe *)s->f);
	*(struct probe *)s->f = p;
	return 0;
}

/* V_RESTART and V_TYPE: one of a few names (an enum), or the nearest one named. */
static int set_choice(const struct setting *s, struct err *e)
{
	static const char *const names[][3] = {{"no", "on-failure", "always"},
					       {"longrun", "oneshot", NULL}};
	bool type = s->k->type == V_TYPE;
	const char *const *nv = names[type], *near;
	size_t n = type ? 2 : 3;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s->v, nv[i]) == 0) {
			*(int *)s->f = (int)i;
			return 0;
		}
	near = nearest(s->v, nv, n);
	return err_set(e, 0, "\"%.60s\" is not a %s%s%s%s; expected %s", s->v,
		       type ? "service type" : "restart policy", near ? " (did you mean " : "",
		       near ? near : "", near ? "?)" : "", expect_of(s->k->type));
}

/* V_CODES: the listed exit codes replace the default (0). */
static int set_codes(const struct setting *s, struct err *e)
{
	unsigned char *bits = s->f;
	char **words;
	long long n;

	if (split_names(s, &words, e) < 0)
		return -1;
	memset(bits, 0, 32);
	for (size_t i = 0; words[i]; i++) {
		if (parse_int(words[i], 0, 255, &n, NULL) < 0) {
			err_set(e, 0, "\"%.60s\" is not an exit code; expected %s", words[i],
				expect_of(V_CODES));
			strv_free(words);
			return -1;
		}
		bits[n / 8] |= (unsigned char)(1u << (n % 8));
	}
	strv_free(words);
	return 0;
}

static int set_logfmt(const struct setting *s, struct err *e)
{
	if (strcasecmp(s->v, "text") == 0)
		*(enum log_format *)s->f = LOG_FMT_TEXT;
	else if (strcasecmp(s->v, "json") == 0)
		*(enum log_format *)s->f = LOG_FMT_JSON;
	else
		return err_set(e, 0, "\"%.60s\" is not a log format; expected text or json", s->v);
	return 0;
}

static int set_profile(const struct setting *s, struct err *e)
{
	char **sp = s->f;

	if (!conf_name_ok(s->v))
		return err_set(e, 0,
			       "\"%.60s\" is not a profile name; expected worker or the "
			       "NAME of a [seccomp:NAME] section",
			       s->v);
	free(*sp);
	*sp = conf_strdup(s->c, s->v);
	return 0;
}

/* V_ACTION (sets has_default too) and V_DENY_ACT (not allow). */
static int set_action(const struct setting *s, struct err *e)
{
	struct seccomp_action_conf a = {0};

	if (parse_action(s->v, s->k->type == V_DENY_ACT, &a, e) < 0)
		return -1;
	*(struct seccomp_action_conf *)s->f = a;
	if (s->k->type == V_ACTION)
		((struct seccomp_conf *)s->base)->has_default = true;
	return 0;
}

static int set_rlimit_key(const struct setting *s, struct err *e)
{
	struct rlimit_conf *rl = (struct rlimit_conf *)s->f + s->k->min;

	return set_rlimit(rl, (enum config_rlimit)s->k->min, s->v, e);
}

typedef int setter_fn(const struct setting *s, struct err *e);

/* One setter per value type. list: the value may be longer than
 * CONFIG_MAX_VALUE (a list, up to a line); empty_ok: "" is a value. */
/* clang-format off */
static const struct {
	setter_fn *set;
	bool list, empty_ok;
} setters[V_COUNT] = {
    [V_DURATION] = {set_duration, false, false},
    [V_UINT] = {set_uint, false, false},
    [V_BOOL] = {set_bool, false, false},
    [V_STRING] = {set_string, false, false},
    [V_SCRIPT] = {set_script, false, false},
    [V_PREFIX] = {set_prefix, false, true},
    [V_IDENT] = {set_ident, false, false},
    [V_AUTO_PATH] = {set_auto_path, false, false},
    [V_ARGV] = {set_words, true, false},
    [V_ENV] = {set_env, true, false},
    [V_DIRS] = {set_words, true, false},
    [V_PATHS] = {set_words, true, false},
    [V_GLOBS] = {set_words, true, true},
    [V_MODULES] = {set_modules, true, false},
    [V_SIGNAL] = {set_signal, false, false},
    [V_UMASK] = {set_umask, false, false},
    [V_OOM] = {set_oom, false, false},
    [V_PROBE] = {set_probe, false, false},
    [V_HEALTH] = {set_probe, false, false},
    [V_RESTART] = {set_choice, false, false},
    [V_LOGFMT] = {set_logfmt, false, false},
    [V_PROFILE] = {set_profile, false, false},
    [V_SYSCALLS] = {set_syscalls, true, false},
    [V_ACTION] = {set_action, false, false},
    [V_DENY_ACT] = {set_action, false, false},
    [V_RLIMIT] = {set_rlimit_key, false, false},
    [V_TYPE] = {set_choice, false, false},
    [V_CODES] = {set_codes, true, false},
};
/* clang-format on */

int conf_set_value(struct ctx *c, const struct keydef *k, void *base, const char *v, struct err *e)
{
	const struct setting s = {c, k, base, (char *)base + k->off, v};

	if (k->type == V_COND) /* appended, up to a line (cond_spec.c) */
		return conf_cond_add(c, base, v, e);
	if ((unsigned)k->type >= V_COUNT || !setters[k->type].set)
		return err_set(e, 0, "internal: unhandled key type");
	if (!*v && !setters[k->type].empty_ok)
		return err_set(e, 0, "no value; expected %s", expect_of(k->type));
	if (strlen(v) > CONFIG_MAX_VALUE && !setters[k->type].list)
		return err_set(e, 0, "value is too long (%zu bytes); expected at most %d",
			       strlen(v), CONFIG_MAX_VALUE);
	return setters[k->type].set(&s, e);
}
