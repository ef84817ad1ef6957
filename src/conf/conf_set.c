/* The value setters: one key's text -> its field, or "what is wrong;
 * expected ..." in e. */
#include "conf/conf_ctx.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <seccomp.h>
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

int conf_set_value(struct ctx *c, const struct keydef *k, void *base, const char *v, struct err *e)
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
		*sp = conf_strdup(c, v);
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
		if (!conf_name_ok(v))
			return err_set(e, 0,
				       "\"%.60s\" is not a profile name; expected worker or the "
				       "NAME of a [seccomp:NAME] section",
				       v);
		free(*sp);
		*sp = conf_strdup(c, v);
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
