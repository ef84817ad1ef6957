/* Checks across keys and sections, once the whole file is read: what one
 * key cannot know alone (command or script, profiles that exist, extends
 * chains, env set twice), then the diagnostics in line order. */
#include "conf/conf_ctx.h"

#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/strv.h"
#include "base/words.h"

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
		conf_diag(c, sec->env_lines[i], sec->label, "env",
			  "%.*s is set twice (first at line %d); expected each variable once",
			  (int)(nl > 60 ? 60 : nl), env[i], sec->env_lines[first[i]]);
	}
	free(first);
}
/* --- checks across keys and sections ----------------------------------------------- */

static int seen_line(const struct section *sec, const char *key)
{
	size_t n;
	const struct keydef *keys = conf_keys_of(sec->kind, &n);
	ssize_t i = conf_key_index(keys, n, key);

	return i >= 0 ? sec->seen[i] : 0;
}

/* Dev Mode: the watch keys go with watch =; a glob matches one name. */
static void check_watch(struct ctx *c, struct section *sec, const struct service_conf *s)
{
	int l;

	if (!s->watch) {
		static const char *const wk[] = {"watch_ignore", "watch_debounce"};
		for (int i = 0; i < 2; i++)
			if ((l = seen_line(sec, wk[i])))
				conf_diag(
				    c, l, sec->label, wk[i],
				    "has no effect without watch = ...; expected watch = PATH... "
				    "in this section, or remove the key");
	}
	for (char **g = s->watch_ignore; g && *g; g++)
		if (strchr(*g, '/'))
			conf_diag(c, seen_line(sec, "watch_ignore"), sec->label, "watch_ignore",
				  "\"%.60s\" has a /; expected globs that match one name, such as "
				  "node_modules or *.log",
				  *g);
}

/* type = oneshot: no readiness, restart or health of a longrun; watchdog =
 * only with ready = notify. */
static void check_kind(struct ctx *c, struct section *sec, const struct service_conf *s)
{
	static const char *const longrun_only[] = {"ready", "restart", "health", "watchdog"};
	int l;

	for (int i = 0; s->type == TYPE_ONESHOT && i < 4; i++)
		if ((l = seen_line(sec, longrun_only[i])))
			conf_diag(c, l, sec->label, longrun_only[i],
				  "does not apply to type = oneshot (line %d: it is done when it "
				  "exits with a success code); expected no %s = here, or type = "
				  "longrun",
				  seen_line(sec, "type"), longrun_only[i]);
	if (s->type != TYPE_ONESHOT && (l = seen_line(sec, "watchdog")) &&
	    s->ready.kind != PROBE_NOTIFY)
		conf_diag(c, l, sec->label, "watchdog",
			  "needs ready = notify (WATCHDOG=1 comes on the notify socket); expected "
			  "ready = notify in this section, or no watchdog");
}

static void check_service(struct ctx *c, struct section *sec)
{
	struct config *cfg = c->cfg;
	struct service_conf *s = &cfg->services[sec->idx];
	char b1[32], b2[32];
	int l;

	check_env_dups(c, sec, s->env);
	if (!s->command && !s->script && !seen_line(sec, "command") && !seen_line(sec, "script"))
		conf_diag(c, sec->line, sec->label, NULL,
			  "no command or script; expected command = PROGRAM ARGS... or script = "
			  "PATH.py (run with the resolved Python)");
	if (seen_line(sec, "command") && seen_line(sec, "script")) {
		int a = seen_line(sec, "command"), b = seen_line(sec, "script");
		conf_diag(
		    c, a > b ? a : b, sec->label, a > b ? "command" : "script",
		    "both command (line %d) and script (line %d) are set; expected exactly one", a,
		    b);
	}
	if ((l = seen_line(sec, "args")) && seen_line(sec, "command") && !seen_line(sec, "script"))
		conf_diag(c, l, sec->label, "args",
			  "args only goes with script; expected the arguments in command = ...");
	if (s->restart_max_delay_ms < s->restart_delay_ms) {
		int lm = seen_line(sec, "restart_max_delay"), ld = seen_line(sec, "restart_delay");
		conf_diag(
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
				conf_diag(
				    c, l, sec->label, hk[i],
				    "has no effect without a health probe; expected health = ... "
				    "in this section, or remove the key");
	}
	check_watch(c, sec, s);
	check_kind(c, sec, s);
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
			conf_diag(c, s->seccomp_line, sec->label, "seccomp",
				  "unknown profile \"%s\" (did you mean %s?); expected worker or a "
				  "[seccomp:NAME] defined in this file",
				  s->seccomp, near);
		else
			conf_diag(
			    c, s->seccomp_line, sec->label, "seccomp",
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
		conf_diag(
		    c, seen_line(sec, "deny"), sec->label, "deny",
		    "execve is denied, but hfinit starts the service with execve after loading "
		    "the filter; expected execve not in deny");
	else if (!denied && p->has_default && def != SECCOMP_ACT_ALLOW && def != SECCOMP_ACT_LOG)
		conf_diag(c, seen_line(sec, "default") ? seen_line(sec, "default") : sec->line,
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
				conf_diag(c, seen_line(sec, "allow"), sec->label, "allow",
					  "%s is in both deny and allow; expected it in one list",
					  p->deny[i]);
				break;
			}
	check_execve(c, sec, p);
	if (!p->extends || strcmp(p->extends, SECCOMP_BUILTIN_WORKER) == 0)
		return;
	if (!config_profile(cfg, p->extends)) {
		conf_diag(
		    c, p->extends_line, sec->label, "extends",
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
			conf_diag(
			    c, p->extends_line, sec->label, "extends",
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

void conf_rules_check(struct ctx *c)
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
		conf_diag(
		    c, 0, NULL, NULL,
		    "no services; expected at least one [service:NAME] section with a command or "
		    "script");

	if (cfg->ndiags > 1)
		qsort(cfg->diags, cfg->ndiags, sizeof(*cfg->diags), diag_cmp);
	if (c->ndiag_all > CONFIG_MAX_DIAGS) {
		size_t more = c->ndiag_all - (CONFIG_MAX_DIAGS - 1);
		for (size_t i = CONFIG_MAX_DIAGS - 1; i < cfg->ndiags; i++)
			conf_diag_free(&cfg->diags[i]);
		cfg->ndiags = CONFIG_MAX_DIAGS - 1;
		c->ndiag_all = 0;
		conf_diag(c, 0, NULL, NULL, "%zu more errors not shown; expected fewer errors",
			  more);
	}
	for (size_t i = 0; i < cfg->ndiags; i++)
		cfg->diags[i].seq = i;
}
