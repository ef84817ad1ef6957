/* Unit tests: the config parser. Table-driven malformed configs from
 * tests/configs/bad (each file lists every diagnostic it must produce in
 * "; expect: LINE: ..." lines at its top), good configs, the shipped configs,
 * typed values, defaults, config_locate/config_load. Run from the repo root
 * (make unit does), or set HFINIT_SRCDIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conf/config.h"
#include "plan/syscalls.h"

static char srcdir[4096];

static const char *path_in(const char *rel)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "%s/%s", srcdir, rel);
	return buf;
}

static struct config *parse(const char *text)
{
	struct err e = {0};
	struct config *cfg = config_parse("t.ini", text, strlen(text), &e);

	assert_non_null(cfg);
	return cfg;
}

static struct config *parse_ok(const char *text)
{
	struct config *cfg = parse(text);

	if (cfg->ndiags)
		config_diags_print(cfg, stderr);
	assert_int_equal(cfg->ndiags, 0);
	return cfg;
}

/* The diagnostic as "LINE: rest" (the file name cut off). */
static void diag_line(const struct config *cfg, const struct config_diag *d, char *buf, size_t len)
{
	const char *t = d->text;
	size_t fl = strlen(cfg->file);

	assert_memory_equal(t, cfg->file, fl);
	t += fl;
	assert_true(*t == ':');
	t++;
	if (d->line > 0) {
		char num[16];
		snprintf(num, sizeof(num), "%d:", d->line);
		assert_memory_equal(t, num, strlen(num));
		t += strlen(num);
	}
	assert_true(*t == ' ');
	snprintf(buf, len, "%d: %s", d->line, t + 1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	buf = malloc(CONFIG_MAX_FILE + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, CONFIG_MAX_FILE, f);
	assert_int_equal(fclose(f), 0);
	buf[*len] = '\0';
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.ini names of a directory. */
static size_t list_ini(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char **v = NULL;
	size_t n = 0;

	if (!d)
		fail_msg("cannot open %s: %s (run from the repo root or set HFINIT_SRCDIR)", dir,
			 strerror(errno));
	while ((ent = readdir(d))) {
		size_t l = strlen(ent->d_name);
		if (l < 5 || strcmp(ent->d_name + l - 4, ".ini") != 0)
			continue;
		v = realloc(v, (n + 1) * sizeof(*v));
		assert_non_null(v);
		v[n] = strdup(ent->d_name);
		assert_non_null(v[n]);
		n++;
	}
	assert_int_equal(closedir(d), 0);
	qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	return n;
}

static void test_bad_configs(void **state)
{
	char dir[8192];
	char **names;
	size_t n, failed = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s", path_in("tests/configs/bad"));
	n = list_ini(dir, &names);
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		char path[16384], *text, *p;
		size_t len, nexp = 0;
		const char *exp[16];
		struct config_location loc;
		struct config *cfg;
		struct err e = {0};

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = slurp(path, &len);
		/* "; expect: " lines at the top, each ending at '\n' */
		p = text;
		while (strncmp(p, "; expect: ", 10) == 0 && nexp < 16) {
			char *nl = strchr(p, '\n');
			assert_non_null(nl);
			*nl = '\0';
			exp[nexp++] = p + 10;
			p = nl + 1;
		}
		if (nexp == 0)
			fail_msg("%s: no '; expect:' line", names[i]);

		loc.path = path;
		loc.source = CONFIG_SRC_OPTION;
		cfg = config_load(&loc, &e);
		assert_non_null(cfg);
		bool ok = cfg->ndiags == nexp;
		for (size_t j = 0; ok && j < nexp; j++) {
			char got[4096];
			diag_line(cfg, &cfg->diags[j], got, sizeof(got));
			ok = strcmp(got, exp[j]) == 0;
		}
		if (!ok) {
			failed++;
			fprintf(stderr, "FAIL %s: expected %zu diagnostic(s):\n", names[i], nexp);
			for (size_t j = 0; j < nexp; j++)
				fprintf(stderr, "  want %s\n", exp[j]);
			for (size_t j = 0; j < cfg->ndiags; j++) {
				char got[4096];
				diag_line(cfg, &cfg->diags[j], got, sizeof(got));
				fprintf(stderr, "  got  %s\n", got);
			}
		}
		assert_false(config_ok(cfg));
		config_free(cfg);
		free(text);
		free(names[i]);
	}
	free(names);
	fprintf(stderr, "%zu malformed configs checked\n", n);
	assert_int_equal(failed, 0);
}

/* Every config shipped in the repo must parse without a diagnostic. */
static void check_good_dir(const char *rel, size_t min)
{
	char dir[8192];
	char **names;
	size_t n;

	snprintf(dir, sizeof(dir), "%s", path_in(rel));
	n = list_ini(dir, &names);
	assert_true(n >= min);
	for (size_t i = 0; i < n; i++) {
		char path[16384];
		struct config_location loc = {path, CONFIG_SRC_OPTION};
		struct err e = {0};
		struct config *cfg;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		cfg = config_load(&loc, &e);
		assert_non_null(cfg);
		if (cfg->ndiags)
			config_diags_print(cfg, stderr);
		assert_int_equal(cfg->ndiags, 0);
		assert_true(cfg->nservices > 0);
		config_free(cfg);
		free(names[i]);
	}
	free(names);
}

static void test_shipped_configs(void **state)
{
	(void)state;
	check_good_dir("config", 4);
	check_good_dir("rootfs/etc/hfinit", 1);
	check_good_dir("tests/configs/good", 1);
	check_good_dir("docker/example-space", 1);
}

/* The HF Space default: exactly what the issue asks for. */
static void test_space_default(void **state)
{
	struct config_location loc;
	struct err e = {0};
	struct config *cfg;
	const struct service_conf *web, *tts, *vc;

	(void)state;
	config_locate(path_in("rootfs/etc/hfinit/hfinit.ini"), &loc);
	cfg = config_load(&loc, &e);
	assert_non_null(cfg);
	assert_true(config_ok(cfg));
	assert_int_equal(cfg->nservices, 4);
	/* The model fetch: a stage-1 one-shot the pools' stage waits for. */
	const struct service_conf *fetch = config_service(cfg, "fetch-models");
	assert_non_null(fetch);
	assert_int_equal(fetch->stage, 1);
	assert_int_equal(fetch->type, TYPE_ONESHOT);
	assert_false(fetch->required);
	web = config_service(cfg, "web");
	tts = config_service(cfg, "tts");
	vc = config_service(cfg, "voice-clone");
	assert_non_null(web);
	assert_non_null(tts);
	assert_non_null(vc);
	assert_int_equal(web->stage, 1);
	assert_int_equal(web->ready.kind, PROBE_TCP);
	assert_int_equal(web->ready.port, 7860);
	assert_string_equal(web->ready.host, "127.0.0.1");
	assert_true(web->required);
	assert_true(web->redact);
	assert_string_equal(web->command[0], "node");
	assert_string_equal(web->command[1], "server/index.js"); /* the example Space's */
	assert_null(web->command[2]);
	assert_null(web->seccomp);
	/* Lowering oom_score_adj needs CAP_SYS_RESOURCE: not for uid 1000 or Docker's root. */
	assert_false(web->has_oom_score_adj && web->oom_score_adj < 0);
	for (int i = 0; i < 2; i++) {
		const struct service_conf *s = i ? vc : tts;
		assert_int_equal(s->stage, 2);
		assert_string_equal(s->script, "server/ml-services/worker_pool.py");
		assert_null(s->command);
		assert_string_equal(s->args[0], "--workers");
		assert_string_equal(s->args[3], i ? "voice-clone" : "tts");
		/* Exactly "ready": line:ready would match "Address already in use". */
		assert_int_equal(s->ready.kind, PROBE_REGEX);
		assert_true(s->ready.has_re);
		assert_int_equal(regexec(&s->ready.re, "ready", 0, NULL, 0), 0);
		assert_int_not_equal(
		    regexec(&s->ready.re, "OSError: [Errno 98] Address already in use", 0, NULL, 0),
		    0);
		assert_true(s->has_oom_score_adj && s->oom_score_adj > 0);
		assert_int_equal(s->ready_timeout_ms, 30000);
		assert_int_equal(s->retries, 3);
		assert_int_equal(s->retry_delay_ms, 15000);
		assert_false(s->required);
		assert_string_equal(s->seccomp, "worker");
	}
	assert_null(cfg->status_dir);
	assert_null(cfg->python);
	assert_string_equal(cfg->app_dirs[0], "/app");
	assert_string_equal(cfg->app_dirs[1], "/home/user/app");
	assert_string_equal(cfg->app_dirs[2], ".");
	assert_null(cfg->app_dirs[3]);
	assert_int_equal(cfg->stop_timeout_ms, 8000);
	assert_int_equal(config_max_stage(cfg), 2);
	assert_string_equal(cfg->source, "-c option");
	config_free(cfg);
}

static void test_defaults(void **state)
{
	struct config *cfg = parse_ok("[service:a]\ncommand = /bin/true\n");
	const struct service_conf *s = &cfg->services[0];

	(void)state;
	assert_int_equal(cfg->python_timeout_ms, 10000);
	assert_int_equal(cfg->stop_timeout_ms, 8000);
	assert_int_equal(cfg->log_format, LOG_FMT_TEXT);
	assert_int_equal(cfg->probe_interval_ms, 100);
	assert_null(cfg->app_dirs);
	assert_int_equal(s->stage, 1);
	assert_int_equal(s->ready.kind, PROBE_STARTED);
	assert_int_equal(s->ready_timeout_ms, 30000);
	assert_int_equal(s->retries, 3);
	assert_int_equal(s->retry_delay_ms, 15000);
	assert_true(s->required);
	assert_int_equal(s->restart, RESTART_ON_FAILURE);
	assert_int_equal(s->restart_delay_ms, 1000);
	assert_int_equal(s->restart_max_delay_ms, 60000);
	assert_int_equal(s->restart_burst, 5);
	assert_int_equal(s->restart_window_ms, 60000);
	assert_int_equal(s->health.kind, PROBE_NONE);
	assert_int_equal(s->stop_signal, SIGTERM);
	assert_int_equal(s->stop_timeout_ms, 8000);
	assert_false(s->has_umask);
	assert_false(s->has_oom_score_adj);
	assert_null(s->user);
	assert_null(s->env);
	assert_null(s->log_prefix);
	assert_int_equal(s->line, 1);
	assert_int_equal(s->command_line, 2);
	for (int r = 0; r < CRL_COUNT; r++)
		assert_false(s->rlimits[r].set);
	config_free(cfg);
}

static void test_every_key(void **state)
{
	struct config *cfg = parse_ok("[hfinit]\n"
				      "status_dir = /run/x\n"
				      "python = /opt/py/bin/python3\n"
				      "python_timeout = 2s\n"
				      "stop_timeout = 3s\n"
				      "log_format = json\n"
				      "probe_interval = 50ms\n"
				      "[seccomp:box]\n"
				      "extends = worker\n"
				      "default = log\n"
				      "deny = socket, connect\n"
				      "deny = bind\n"
				      "allow = ptrace\n"
				      "deny_action = errno:ENOSYS\n"
				      "[service:a]\n"
				      "stage = 3\n"
				      "script = app.py\n"
				      "args = --x 'two words' \"q\\\"uote\"\n"
				      "ready = regex:^listening on [0-9]+$\n"
				      "ready_timeout = 1m30s\n"
				      "retries = 7\n"
				      "retry_delay = 0\n"
				      "required = off\n"
				      "restart = Always\n"
				      "restart_delay = 250ms\n"
				      "restart_max_delay = 1h\n"
				      "restart_burst = 9\n"
				      "restart_window = 10m\n"
				      "health = http://[::1]:8080/health?x=1\n"
				      "health_interval = 2s\n"
				      "health_failures = 4\n"
				      "user = 1000\n"
				      "group = users\n"
				      "workdir = /srv\n"
				      "env = A=1 B='x y' ; a comment\n"
				      "env = C=\n"
				      "env_file = /etc/a.env\n"
				      "stop_signal = SIGINT\n"
				      "stop_timeout = 500ms\n"
				      "oom_score_adj = -17\n"
				      "umask = 027\n"
				      "rlimit_nofile = 1024:4096\n"
				      "rlimit_as = 4G\n"
				      "rlimit_core = unlimited\n"
				      "rlimit_cpu = 2m\n"
				      "log_prefix = \"tts| \"\n"
				      "seccomp = box\n"
				      "requires = torch, numpy.linalg\n"
				      "requires = transformers\n"
				      "redact = no\n");
	const struct service_conf *s = &cfg->services[0];
	const struct seccomp_conf *p = config_profile(cfg, "box");

	(void)state;
	assert_string_equal(cfg->status_dir, "/run/x");
	assert_string_equal(cfg->python, "/opt/py/bin/python3");
	assert_int_equal(cfg->python_line, 3);
	assert_int_equal(cfg->python_timeout_ms, 2000);
	assert_int_equal(cfg->stop_timeout_ms, 3000);
	assert_int_equal(cfg->log_format, LOG_FMT_JSON);
	assert_int_equal(cfg->probe_interval_ms, 50);

	assert_non_null(p);
	assert_string_equal(p->extends, "worker");
	assert_true(p->has_default);
	assert_int_equal(p->def.action, SECCOMP_ACT_LOG);
	assert_string_equal(p->deny[0], "socket");
	assert_string_equal(p->deny[1], "connect");
	assert_string_equal(p->deny[2], "bind");
	assert_null(p->deny[3]);
	assert_string_equal(p->allow[0], "ptrace");
	assert_int_equal(p->deny_action.action, SECCOMP_ACT_ERRNO);
	assert_int_equal(p->deny_action.errnum, ENOSYS);

	assert_int_equal(s->stage, 3);
	assert_string_equal(s->script, "app.py");
	assert_int_equal(s->script_line, 17);
	assert_string_equal(s->args[0], "--x");
	assert_string_equal(s->args[1], "two words");
	assert_string_equal(s->args[2], "q\"uote");
	assert_null(s->args[3]);
	assert_int_equal(s->ready.kind, PROBE_REGEX);
	assert_true(s->ready.has_re);
	assert_int_equal(regexec(&s->ready.re, "listening on 7860", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(&s->ready.re, "listening on x", 0, NULL, 0), 0);
	assert_int_equal(s->ready_timeout_ms, 90000);
	assert_int_equal(s->retries, 7);
	assert_int_equal(s->retry_delay_ms, 0);
	assert_false(s->required);
	assert_false(s->redact);
	assert_int_equal(s->restart, RESTART_ALWAYS);
	assert_int_equal(s->restart_delay_ms, 250);
	assert_int_equal(s->restart_max_delay_ms, 3600000);
	assert_int_equal(s->restart_burst, 9);
	assert_int_equal(s->restart_window_ms, 600000);
	assert_int_equal(s->health.kind, PROBE_HTTP);
	assert_string_equal(s->health.host, "::1");
	assert_int_equal(s->health.port, 8080);
	assert_string_equal(s->health.text, "/health?x=1");
	assert_int_equal(s->health_interval_ms, 2000);
	assert_int_equal(s->health_failures, 4);
	assert_string_equal(s->user, "1000");
	assert_string_equal(s->group, "users");
	assert_int_equal(s->user_line, 32);
	assert_string_equal(s->workdir, "/srv");
	assert_string_equal(s->env[0], "A=1");
	assert_string_equal(s->env[1], "B=x y");
	assert_string_equal(s->env[2], "C=");
	assert_null(s->env[3]);
	assert_string_equal(s->env_file, "/etc/a.env");
	assert_int_equal(s->stop_signal, SIGINT);
	assert_int_equal(s->stop_timeout_ms, 500);
	assert_true(s->has_oom_score_adj);
	assert_int_equal(s->oom_score_adj, -17);
	assert_true(s->has_umask);
	assert_int_equal(s->umask, 027);
	assert_true(s->rlimits[CRL_NOFILE].set);
	assert_int_equal(s->rlimits[CRL_NOFILE].resource, RLIMIT_NOFILE);
	assert_int_equal(s->rlimits[CRL_NOFILE].soft, 1024);
	assert_int_equal(s->rlimits[CRL_NOFILE].hard, 4096);
	assert_int_equal(s->rlimits[CRL_AS].soft, 4ULL << 30);
	assert_int_equal(s->rlimits[CRL_AS].hard, 4ULL << 30);
	assert_true(s->rlimits[CRL_CORE].soft == CONFIG_RLIM_INFINITY);
	assert_int_equal(s->rlimits[CRL_CPU].soft, 120);
	assert_false(s->rlimits[CRL_STACK].set);
	assert_string_equal(s->log_prefix, "tts| ");
	assert_string_equal(s->seccomp, "box");
	assert_string_equal(s->requires[0], "torch");
	assert_string_equal(s->requires[1], "numpy.linalg");
	assert_string_equal(s->requires[2], "transformers");
	assert_null(s->requires[3]);
	config_free(cfg);
}

/* config_env_dups: the first setting of each name, by position. */
static void test_env_dups(void **state)
{
	char *env[] = {"A=1", "B=2", "A=3", "C=", "AB=4", "B=5", "A=6", "C=7", NULL};
	size_t first[8], want[8] = {0, 1, 0, 3, 4, 1, 0, 3};
	(void)state;

	assert_int_equal(config_env_dups(env, 8, first), 4);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(first[i], want[i]);
	assert_int_equal(config_env_dups(env, 2, first), 0);
	assert_int_equal(config_env_dups(env, 0, first), 0);
}

/* 40,000 env = lines (in 1 MiB): parsed, each duplicate named at its line. */
static void test_env_40000(void **state)
{
	size_t cap = 1024 * 1024, n = 0;
	char *text = malloc(cap);
	struct config *cfg;
	char buf[256];
	(void)state;

	assert_non_null(text);
	n += (size_t)snprintf(text, cap, "[service:a]\ncommand = x\n");
	for (int i = 0; i < 40000; i++)
		n += (size_t)snprintf(text + n, cap - n, "env = V%d=x\n", i);
	cfg = config_parse("t.ini", text, n, &(struct err){0});
	assert_non_null(cfg);
	assert_int_equal(cfg->ndiags, 0);
	assert_int_equal(strv_len(cfg->services[0].env), 40000);
	assert_string_equal(cfg->services[0].env[39999], "V39999=x");
	config_free(cfg);
	/* two repeats: line 3 is V0, line 40002 is V39999 */
	n += (size_t)snprintf(text + n, cap - n, "env = V39999=y V0=z\n");
	cfg = config_parse("t.ini", text, n, &(struct err){0});
	assert_int_equal(cfg->ndiags, 2);
	diag_line(cfg, &cfg->diags[0], buf, sizeof(buf));
	assert_string_equal(buf,
			    "40003: [service:a] env: V39999 is set twice (first at line 40002); "
			    "expected each variable once");
	diag_line(cfg, &cfg->diags[1], buf, sizeof(buf));
	assert_string_equal(buf, "40003: [service:a] env: V0 is set twice (first at line 3); "
				 "expected each variable once");
	config_free(cfg);
	free(text);
}

/* 10,000 services: one error at the 1001st section header, none after. */
static void test_section_limit(void **state)
{
	size_t cap = 1024 * 1024, n = 0;
	char *text = malloc(cap);
	struct config *cfg;
	char buf[512];
	(void)state;

	assert_non_null(text);
	for (int i = 0; i < 10000; i++)
		n += (size_t)snprintf(text + n, cap - n, "[service:s%d]\ncommand = x\nstage = 2\n",
				      i);
	cfg = config_parse("t.ini", text, n, &(struct err){0});
	assert_non_null(cfg);
	assert_int_equal(cfg->ndiags, 1);
	diag_line(cfg, &cfg->diags[0], buf, sizeof(buf));
	assert_string_equal(buf, "3001: too many sections: this is section 1001, expected at most "
				 "1000 per file ([hfinit], [service:NAME] and [seccomp:NAME] "
				 "together); it and everything below it are ignored");
	assert_int_equal(cfg->nservices, 1000);
	config_free(cfg);
	free(text);
}

static void test_syntax_details(void **state)
{
	struct config *cfg;

	(void)state;
	/* BOM, CRLF, '#' comments, indentation, inline ';' comments, a ':' in a value */
	cfg = parse_ok("\xEF\xBB\xBF# comment\r\n"
		       "[service:a] ; the web front\r\n"
		       "   command = node -e \"require('http')\"\r\n"
		       "\tready = tcp:localhost:80 ; comment\r\n");
	config_free(cfg);
	/* "2s;x" is one value: a ';' starts a comment only after a blank */
	cfg = parse("[service:a]\ncommand = x\nready_timeout = 2s;x\n");
	assert_int_equal(cfg->ndiags, 1);
	assert_int_equal(cfg->diags[0].line, 3);
	assert_string_equal(cfg->diags[0].key, "ready_timeout");
	assert_string_equal(cfg->diags[0].section, "service:a");
	config_free(cfg);

	cfg = parse_ok(
	    "[service:a]\ncommand = node -e \"require('http')\"\nready = tcp:localhost:80\n");
	assert_string_equal(cfg->services[0].command[2], "require('http')");
	assert_string_equal(cfg->services[0].ready.host, "localhost");
	assert_int_equal(cfg->services[0].ready.port, 80);
	config_free(cfg);

	/* a line of exactly CONFIG_MAX_LINE bytes is fine (inih would cut it at 200) */
	{
		size_t n = CONFIG_MAX_LINE;
		char *t = malloc(n + 64);
		int k = snprintf(t, n + 64, "[service:a]\ncommand = x\nenv = A=");
		memset(t + k, 'v', n - strlen("env = A="));
		strcpy(t + k + n - strlen("env = A="), "\n");
		cfg = parse_ok(t);
		assert_int_equal(strlen(cfg->services[0].env[0]), n - strlen("env = "));
		config_free(cfg);
		free(t);
	}

	/* section names longer than inih's 49 bytes keep their keys */
	cfg = parse_ok("[service:a-very-long-service-name-that-inih-would-truncate-x]\n"
		       "command = x\n");
	assert_string_equal(cfg->services[0].name,
			    "a-very-long-service-name-that-inih-would-truncate-x");
	config_free(cfg);

	/* no control characters reach a terminal through a message */
	cfg = parse("[service:a]\ncommand = x\nstage = \x1b[31mred\n");
	assert_int_equal(cfg->ndiags, 1);
	assert_string_equal(cfg->diags[0].msg,
			    "\"?[31mred\" is not a whole number; expected 1..1000000");
	config_free(cfg);

	/* errors come back in line order, also when found in a later pass */
	cfg = parse("[service:a]\nstage = x\n[service:b]\ncommand = y\nfoo\n");
	assert_int_equal(cfg->ndiags, 3);
	assert_int_equal(cfg->diags[0].line, 1); /* no command (found last) */
	assert_int_equal(cfg->diags[1].line, 2);
	assert_int_equal(cfg->diags[2].line, 5);
	config_free(cfg);
}

static void test_probes(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = parse_ok("[service:a]\ncommand = x\nready = notify\n"
		       "[service:b]\ncommand = x\nready = fd:3\n"
		       "[service:c]\ncommand = x\nready = file:/tmp/ready\n"
		       "[service:d]\ncommand = x\nready = exec:curl -fs 'http://x/'\n"
		       "[service:e]\ncommand = x\nready = http://127.0.0.1:7860\n"
		       "[service:f]\ncommand = x\nready = tcp:[::1]:7860\n"
		       "[service:g]\ncommand = x\nready = started\n");
	assert_int_equal(cfg->services[0].ready.kind, PROBE_NOTIFY);
	assert_int_equal(cfg->services[1].ready.kind, PROBE_FD);
	assert_int_equal(cfg->services[1].ready.fd, 3);
	assert_int_equal(cfg->services[2].ready.kind, PROBE_FILE);
	assert_string_equal(cfg->services[2].ready.text, "/tmp/ready");
	assert_int_equal(cfg->services[3].ready.kind, PROBE_EXEC);
	assert_string_equal(cfg->services[3].ready.argv[0], "curl");
	assert_string_equal(cfg->services[3].ready.argv[2], "http://x/");
	assert_int_equal(cfg->services[4].ready.kind, PROBE_HTTP);
	assert_int_equal(cfg->services[4].ready.port, 7860);
	assert_string_equal(cfg->services[4].ready.text, "/");
	assert_int_equal(cfg->services[5].ready.kind, PROBE_TCP);
	assert_string_equal(cfg->services[5].ready.host, "::1");
	assert_string_equal(cfg->services[5].ready.spec, "tcp:[::1]:7860");
	assert_int_equal(cfg->services[6].ready.kind, PROBE_STARTED);
	config_free(cfg);
}

static void test_seccomp_chain(void **state)
{
	struct config *cfg;

	(void)state;
	/* a chain that ends at worker; execve allowed through the parent */
	cfg = parse_ok("[seccomp:base]\ndefault = kill\nallow = execve read\n"
		       "[seccomp:child]\nextends = base\nallow = write\n"
		       "[seccomp:grand]\nextends = child\n"
		       "[seccomp:w]\nextends = worker\ndeny = socket\n"
		       "[service:a]\ncommand = x\nseccomp = grand\n"
		       "[service:b]\ncommand = x\nseccomp = worker\n");
	assert_int_equal(cfg->nprofiles, 4);
	assert_string_equal(config_profile(cfg, "grand")->extends, "child");
	assert_null(config_profile(cfg, "nope"));
	config_free(cfg);

	/* the unknown profile is reported once, the duplicated one too */
	cfg = parse("[seccomp:p]\n[seccomp:p]\n[service:a]\ncommand = x\nseccomp = q\n");
	assert_int_equal(cfg->ndiags, 2);
	assert_int_equal(cfg->diags[0].line, 2);
	assert_int_equal(cfg->diags[1].line, 5);
	assert_non_null(strstr(cfg->diags[1].msg, "did you mean p?"));
	config_free(cfg);
}

static void test_many_errors_capped(void **state)
{
	size_t n = 500;
	char *t = malloc(n * 8 + 64), *p = t;
	struct config *cfg;

	(void)state;
	p += sprintf(p, "[service:a]\ncommand = x\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "oops\n");
	cfg = parse(t);
	assert_int_equal(cfg->ndiags, CONFIG_MAX_DIAGS);
	assert_int_equal(cfg->diags[0].line, 3);
	assert_int_equal(cfg->diags[CONFIG_MAX_DIAGS - 2].line, 3 + CONFIG_MAX_DIAGS - 2);
	assert_string_equal(cfg->diags[CONFIG_MAX_DIAGS - 1].msg,
			    "401 more errors not shown; expected fewer errors");
	config_free(cfg);
	free(t);
}

static void test_locate(void **state)
{
	struct config_location loc;

	(void)state;
	assert_int_equal(unsetenv("HFINIT_CONFIG"), 0);
	config_locate(NULL, &loc);
	assert_string_equal(loc.path, "/etc/hfinit/hfinit.ini");
	assert_int_equal(loc.source, CONFIG_SRC_DEFAULT);
	assert_int_equal(setenv("HFINIT_CONFIG", "", 1), 0);
	config_locate(NULL, &loc);
	assert_int_equal(loc.source, CONFIG_SRC_DEFAULT);
	assert_int_equal(setenv("HFINIT_CONFIG", "/x/env.ini", 1), 0);
	config_locate(NULL, &loc);
	assert_string_equal(loc.path, "/x/env.ini");
	assert_int_equal(loc.source, CONFIG_SRC_ENV);
	config_locate("/x/opt.ini", &loc);
	assert_string_equal(loc.path, "/x/opt.ini");
	assert_int_equal(loc.source, CONFIG_SRC_OPTION);
	assert_int_equal(unsetenv("HFINIT_CONFIG"), 0);
	assert_string_equal(config_source_name(CONFIG_SRC_ENV), "$HFINIT_CONFIG");
}

static void test_load_errors(void **state)
{
	struct config_location loc = {"/nonexistent/hfinit.ini", CONFIG_SRC_DEFAULT};
	struct err e = {0};
	char dir[] = "/tmp/hfinit-test-config-XXXXXX";
	char path[128];
	FILE *f;

	(void)state;
	assert_null(config_load(&loc, &e));
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(e.msg, "cannot read config /nonexistent/hfinit.ini (the default path; "
				   "use -c FILE or set $HFINIT_CONFIG to choose another): No such "
				   "file or directory");
	loc.source = CONFIG_SRC_ENV;
	assert_null(config_load(&loc, &e));
	assert_string_equal(e.msg, "cannot read config /nonexistent/hfinit.ini (from "
				   "$HFINIT_CONFIG): No such file or directory");
	loc.source = CONFIG_SRC_OPTION;
	assert_null(config_load(&loc, &e));
	assert_string_equal(e.msg, "cannot read config /nonexistent/hfinit.ini (given with -c): "
				   "No such file or directory");

	assert_non_null(mkdtemp(dir));
	loc.path = dir;
	assert_null(config_load(&loc, &e));
	assert_int_equal(e.code, EISDIR);
	assert_non_null(strstr(e.msg, "it is a directory"));

	/* too large */
	snprintf(path, sizeof(path), "%s/big.ini", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < CONFIG_MAX_FILE / 16 + 1; i++)
		fputs("; padding......\n", f);
	assert_int_equal(fclose(f), 0);
	loc.path = path;
	assert_null(config_load(&loc, &e));
	assert_int_equal(e.code, EFBIG);
	assert_int_equal(unlink(path), 0);

	/* config_parse on a big buffer reports it as a diagnostic instead */
	{
		size_t n = CONFIG_MAX_FILE + 1;
		char *t = malloc(n);
		struct config *cfg;
		memset(t, '\n', n);
		cfg = config_parse("big.ini", t, n, &e);
		assert_non_null(cfg);
		assert_int_equal(cfg->ndiags, 1);
		assert_string_equal(cfg->diags[0].text, "big.ini: the file is too large (1048577 "
							"bytes); expected at most 1048576");
		config_free(cfg);
		free(t);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void test_diags_print(void **state)
{
	struct config *cfg = parse("[service:a]\nstage = 0\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(config_diags_print(cfg, f), 2);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "t.ini:1: [service:a]: no command or script; expected command = "
				 "PROGRAM ARGS... or script = PATH.py (run with the resolved "
				 "Python)\n"
				 "t.ini:2: [service:a] stage: 0 is out of range; expected "
				 "1..1000000\n"
				 "t.ini: 2 errors\n");
	free(buf);
	config_free(cfg);
}

int main(void)
{
	const char *s = getenv("HFINIT_SRCDIR");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_configs),	  cmocka_unit_test(test_shipped_configs),
	    cmocka_unit_test(test_space_default), cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_key),	  cmocka_unit_test(test_syntax_details),
	    cmocka_unit_test(test_env_dups),	  cmocka_unit_test(test_env_40000),
	    cmocka_unit_test(test_section_limit), cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_seccomp_chain), cmocka_unit_test(test_many_errors_capped),
	    cmocka_unit_test(test_locate),	  cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_diags_print),
	};

	snprintf(srcdir, sizeof(srcdir), "%s", s && *s ? s : ".");
	config_set_syscall_check(syscall_name_check); /* as main does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
