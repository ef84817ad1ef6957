/* Configuration file -> struct config, with every error collected: the
 * driver (scan, inih, keys, rules), the diagnostics, load, locate and free. */
#include "conf/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/redact.h"
#include "base/words.h"
#include "conf/conf_ctx.h"
#include "conf/expand.h"

#define HARD_DIAG 10000 /* diagnostics collected before sorting and trimming */

char *conf_strdup(struct ctx *c, const char *s)
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
void conf_diag(struct ctx *c, int line, const char *section, const char *key, const char *fmt, ...)
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

void conf_diag_free(struct config_diag *d)
{
	free(d->section);
	free(d->key);
	free(d->msg);
	free(d->text);
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
	const struct keydef *keys = conf_keys_of(sec->kind, &n);
	const char *near;

	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].name;
	near = nearest(name, names, n);
	if (near) {
		conf_diag(c, line, sec->label, name,
			  "unknown key (did you mean %s?); expected a key of %s", near,
			  kind_label(sec->kind));
		return;
	}
	/* A key of another kind of section? */
	for (int k = SEC_HFINIT; k <= SEC_SECCOMP; k++) {
		size_t m;
		const struct keydef *other = conf_keys_of((enum sec_kind)k, &m);
		if (k != (int)sec->kind && conf_key_index(other, m, name) >= 0) {
			conf_diag(c, line, sec->label, name,
				  "this key belongs in a %s section; expected a key of %s",
				  kind_label((enum sec_kind)k), kind_label(sec->kind));
			return;
		}
	}
	conf_diag(c, line, sec->label, name,
		  "unknown key; expected a key of %s (see docs/config.md)", kind_label(sec->kind));
}
static const char *env_get(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

/* Remembers a value that came from variables, for `hfinit check`. */
static void add_subst(struct ctx *c, const char *v, const struct expand_info *xi)
{
	struct config *cfg = c->cfg;
	struct config_subst *nv = realloc(cfg->substs, (cfg->nsubsts + 1) * sizeof(*nv));

	if (!nv) {
		c->oom = true;
		return;
	}
	cfg->substs = nv;
	nv += cfg->nsubsts++;
	nv->line = c->cur_line;
	nv->section = conf_strdup(c, c->cur_sec->label);
	nv->key = conf_strdup(c, c->cur_key);
	nv->value = conf_strdup(c, xi->secret ? REDACT_MARK : v);
	nv->vars = conf_strdup(c, xi->vars);
}

/* A setter's complaint about a value from variables names them, and hides a
 * secret one: '"3O s" (from ${T}) is not a duration; expected ...'. */
static void diag_from(struct ctx *c, const char *msg, const struct expand_info *xi)
{
	const char *q = msg[0] == '"' ? strchr(msg + 1, '"') : NULL, *x = strstr(msg, "; expected");
	const char *sec = c->cur_sec->label, *key = c->cur_key;
	int line = c->cur_line;

	if (!xi->nvars)
		conf_diag(c, line, sec, key, "%s", msg);
	else if (xi->secret)
		conf_diag(c, line, sec, key,
			  "the value from %s (a secret, not shown) is not valid%s", xi->vars,
			  x ? x : "");
	else if (q)
		conf_diag(c, line, sec, key, "%.*s (from %s)%s", (int)(q + 1 - msg), msg, xi->vars,
			  q + 1);
	else
		conf_diag(c, line, sec, key, "%s (from %s)", msg, xi->vars);
}

/* The value with its ${VAR} expanded (docs/config.md, "Values from the
 * environment"), then set. */
static void set_expanded(struct ctx *c, const struct keydef *k, void *base, const char *value,
			 struct err *e)
{
	struct expand_info xi = {0};
	char *buf = NULL;
	const char *q;

	if (strchr(value, '$')) {
		buf = malloc(CONFIG_MAX_LINE + 1);
		if (!buf) {
			c->oom = true;
			return;
		}
		if (expand_value(value, buf, CONFIG_MAX_LINE + 1, env_get, NULL, &xi, e) < 0) {
			conf_diag(c, c->cur_line, c->cur_sec->label, c->cur_key, "%s", e->msg);
			free(buf);
			return;
		}
		for (q = buf; *q && ((unsigned char)*q >= 0x20 || *q == '\t') && *q != 0x7f; q++)
			;
		if (*q) {
			conf_diag(c, c->cur_line, c->cur_sec->label, c->cur_key,
				  "the value from %s holds a control character; expected one line "
				  "of text",
				  xi.vars);
			free(buf);
			return;
		}
		if (xi.nvars)
			add_subst(c, buf, &xi);
		value = buf;
	}
	if (conf_set_value(c, k, base, value, e) < 0) {
		if (e->code == ENOMEM)
			c->oom = true;
		else
			diag_from(c, e->msg, &xi);
	}
	free(buf);
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
		conf_diag(c, lineno, NULL, name,
			  "set outside any section; expected it under [hfinit], [service:NAME] or "
			  "[seccomp:NAME]");
		return 1;
	}
	if (sec->kind == SEC_BAD)
		return 1; /* the section header was reported */
	keys = conf_keys_of(sec->kind, &n);
	ki = conf_key_index(keys, n, name);
	if (ki < 0) {
		unknown_key(c, sec, name, lineno);
		return 1;
	}
	if (sec->seen[ki] && !keys[ki].repeat) {
		conf_diag(c, lineno, sec->label, name,
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
	c->cur_key = name;
	set_expanded(c, &keys[ki], base, value, &e);
	return 1;
}
/* --- public -------------------------------------------------------------------------- */

/* What a parse keeps besides the config: the sections and the bad-line flags. */
static void ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < (c->nsecs < MAXSECS ? c->nsecs : MAXSECS); i++) {
		free(c->secs[i].label);
		free(c->secs[i].env_lines);
	}
	free(c->secs);
	free(c->bad);
}

struct config *config_parse(const char *file, const char *text, size_t len, struct err *e)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct ctx c = {0};
	char *buf = NULL;
	int rc;

	if (!cfg)
		goto nomem;
	conf_defaults(cfg);
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
		conf_diag(&c, 0, NULL, NULL,
			  "the file is too large (%zu bytes); expected at most %d", len,
			  CONFIG_MAX_FILE);
	} else {
		conf_scan(&c, buf, len);
		/* This Debian inih build reads lines into a 200-byte buffer unless
		 * told it may grow it (up to INI_MAX_LINE = 16384). */
		ini_allow_realloc = true;
		if (ini_max_line < CONFIG_MAX_LINE + 3)
			ini_max_line = CONFIG_MAX_LINE + 3;
		rc = ini_parse_string(buf, handler, &c);
		if (rc == -2)
			c.oom = true;
		conf_rules_check(&c);
	}
	if (!c.oom) {
		ctx_free(&c);
		free(buf);
		return cfg;
	}
nomem:
	ctx_free(&c);
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
	strv_free(s->watch);
	strv_free(s->watch_ignore);
	for (size_t i = 0; i < s->nconds; i++)
		condition_free(&s->conds[i]);
	free(s->conds);
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
	for (size_t i = 0; i < cfg->nsubsts; i++) {
		free(cfg->substs[i].section);
		free(cfg->substs[i].key);
		free(cfg->substs[i].value);
		free(cfg->substs[i].vars);
	}
	free(cfg->substs);
	for (size_t i = 0; i < cfg->ndiags; i++)
		conf_diag_free(&cfg->diags[i]);
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
