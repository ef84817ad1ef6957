/* Unit tests: the value setters of conf/conf_set.c, one per value type, called
 * through conf_set_value with a real key of each type: the values each
 * accepts, where it stores them, and the exact text of each error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf/conf_ctx.h"
#include "plan/syscalls.h"

struct fix {
	struct config *cfg;
	struct section sec;
	struct ctx c;
	struct err e;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg = calloc(1, sizeof(*f->cfg));
	assert_non_null(f->cfg);
	conf_defaults(f->cfg);
	f->cfg->services = calloc(1, sizeof(*f->cfg->services));
	f->cfg->profiles = calloc(1, sizeof(*f->cfg->profiles));
	assert_non_null(f->cfg->services);
	assert_non_null(f->cfg->profiles);
	conf_service_defaults(&f->cfg->services[0]);
	conf_profile_defaults(&f->cfg->profiles[0]);
	f->cfg->nservices = f->cfg->nprofiles = 1;
	f->c.cfg = f->cfg;
	f->c.cur_sec = &f->sec;
	config_set_syscall_check(syscall_name_check); /* as main does */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	assert_false(f->c.oom);
	free(f->sec.env_lines);
	config_free(f->cfg);
	free(f);
	return 0;
}

static void *base_of(struct fix *f, enum sec_kind kind)
{
	return kind == SEC_HFINIT    ? (void *)f->cfg
	       : kind == SEC_SERVICE ? (void *)&f->cfg->services[0]
				     : (void *)&f->cfg->profiles[0];
}

static int set(struct fix *f, enum sec_kind kind, const char *key, const char *v, int line)
{
	size_t n;
	const struct keydef *keys = conf_keys_of(kind, &n);
	ssize_t i = conf_key_index(keys, n, key);

	assert_true(i >= 0);
	err_clear(&f->e);
	f->c.cur_line = line;
	return conf_set_value(&f->c, &keys[i], base_of(f, kind), v, &f->e);
}

/* Setting key = v works. */
static void ok(struct fix *f, enum sec_kind kind, const char *key, const char *v)
{
	if (set(f, kind, key, v, 1) < 0)
		fail_msg("%s = %s: %s", key, v, f->e.msg);
}

/* Setting key = v fails; the message. */
static const char *bad(struct fix *f, enum sec_kind kind, const char *key, const char *v)
{
	assert_int_equal(set(f, kind, key, v, 1), -1);
	assert_int_equal(f->e.code, 0);
	return f->e.msg;
}

#define SVC SEC_SERVICE
#define GLB SEC_HFINIT
#define PRF SEC_SECCOMP

static void test_common(void **state)
{
	struct fix *f = *state;
	char big[CONFIG_MAX_VALUE + 2];

	assert_string_equal(bad(f, SVC, "ready_timeout", ""),
			    "no value; expected a duration such as 500ms, 30s, 2m or 1h");
	assert_string_equal(bad(f, SVC, "command", ""),
			    "no value; expected a command line such as node server.js --port 7860");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_string_equal(bad(f, SVC, "workdir", big),
			    "value is too long (4097 bytes); expected at most 4096");
	/* lists may be longer than a plain value */
	big[10] = ' ';
	ok(f, SVC, "command", big);
	assert_string_equal(f->cfg->services[0].command[1], big + 11);
}

/* condition = appends; enabled and condition_timeout (issue 13). */
static void test_conditions(void **state)
{
	struct fix *f = *state;
	struct service_conf *s = &f->cfg->services[0];

	assert_true(s->enabled);
	assert_int_equal(s->condition_timeout_ms, 10000);
	ok(f, SVC, "enabled", "no");
	assert_false(s->enabled);
	ok(f, SVC, "condition_timeout", "200ms");
	assert_int_equal(s->condition_timeout_ms, 200);
	ok(f, SVC, "condition", "path:/dev/nvidia0");
	ok(f, SVC, "condition", "!env:HFINIT_NO_POOLS");
	ok(f, SVC, "condition", "exec:sh -c 'nvidia-smi -L'");
	assert_int_equal(s->nconds, 3);
	assert_int_equal(s->conds[0].kind, COND_PATH);
	assert_false(s->conds[0].negate);
	assert_string_equal(s->conds[0].arg, "/dev/nvidia0");
	assert_string_equal(s->conds[0].spec, "path:/dev/nvidia0");
	assert_int_equal(s->conds[1].kind, COND_ENV);
	assert_true(s->conds[1].negate);
	assert_string_equal(s->conds[1].arg, "HFINIT_NO_POOLS");
	assert_string_equal(s->conds[1].spec, "!env:HFINIT_NO_POOLS");
	assert_int_equal(s->conds[2].kind, COND_EXEC);
	assert_string_equal(s->conds[2].argv[0], "sh");
	assert_string_equal(s->conds[2].argv[2], "nvidia-smi -L");
	assert_null(s->conds[2].argv[3]);
	static const char *const bads[] = {
	    "file:/dev/nvidia0",
	    "!!path:/x",
	    "path:dev/nvidia0",
	    "path:",
	    "env:HF-TOKEN",
	    "env:",
	    "exec:",
	    "exec: ",
	    "Path:/x",
	    "! path:/x",
	};
	char want[256];
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(want, sizeof(want),
			 "\"%s\" is not a condition; expected path:/PATH, env:NAME or exec:CMD (! "
			 "in front negates)",
			 bads[i]);
		assert_string_equal(bad(f, SVC, "condition", bads[i]), want);
	}
	assert_non_null(strstr(bad(f, SVC, "condition", "exec:test -e /x && true"), "sh -c"));
	assert_string_equal(bad(f, SVC, "condition", ""),
			    "\"\" is not a condition; expected path:/PATH, env:NAME or exec:CMD (! "
			    "in front negates)");
	ok(f, SVC, "condition", "path:/");
	assert_string_equal(s->conds[3].arg, "/");
	assert_int_equal(s->nconds, 4); /* a bad one adds nothing */
	assert_string_equal(bad(f, SVC, "condition_timeout", "5ms"),
			    "5ms is out of range; expected 10ms to 1h");
}

static void test_duration_uint_bool(void **state)
{
	struct fix *f = *state;
	struct service_conf *s = &f->cfg->services[0];

	ok(f, SVC, "ready_timeout", "1m30s");
	assert_int_equal(s->ready_timeout_ms, 90000);
	assert_string_equal(bad(f, SVC, "ready_timeout", "5ms"),
			    "5ms is out of range; expected 10ms to 1000h");
	assert_string_equal(bad(f, GLB, "python_timeout", "20m"),
			    "20m is out of range; expected 100ms to 10m");
	assert_string_equal(bad(f, SVC, "ready_timeout", "30"),
			    "\"30\" lacks a unit; expected e.g. 30s or 500ms (units: ms, s, m, h)");
	ok(f, GLB, "stop_timeout", "0");
	assert_int_equal(f->cfg->stop_timeout_ms, 0);

	ok(f, SVC, "retries", "7");
	assert_int_equal(s->retries, 7);
	assert_string_equal(bad(f, SVC, "retries", "0"), "0 is out of range; expected 1..1000");
	assert_string_equal(bad(f, SVC, "stage", "two"),
			    "\"two\" is not a whole number; expected 1..1000000");

	ok(f, SVC, "required", "no");
	assert_false(s->required);
	ok(f, SVC, "redact", "ON");
	assert_true(s->redact);
	assert_string_equal(
	    bad(f, SVC, "required", "maybe"),
	    "\"maybe\" is not a boolean; expected yes or no (true/false, on/off, 1/0)");
}

static void test_strings(void **state)
{
	struct fix *f = *state;
	struct service_conf *s = &f->cfg->services[0];
	char pre[100];

	ok(f, SVC, "workdir", "/srv/my app");
	assert_string_equal(s->workdir, "/srv/my app");
	ok(f, SVC, "workdir", "/srv"); /* a second setting replaces the first */
	assert_string_equal(s->workdir, "/srv");

	ok(f, SVC, "script", "/app/my worker.py");
	assert_string_equal(s->script, "/app/my worker.py");
	assert_string_equal(bad(f, SVC, "script", "app.py --port 1"),
			    "\"app.py --port 1\" has arguments; expected only the script path "
			    "here and the arguments in args = --port 1");
	assert_string_equal(bad(f, SVC, "script", "app.py 1"),
			    "\"app.py 1\" has arguments; expected only the script path "
			    "here and the arguments in args = 1");

	ok(f, SVC, "user", "1000");
	ok(f, SVC, "group", "www-data");
	ok(f, SVC, "user", "machine$");
	assert_string_equal(s->user, "machine$");
	assert_string_equal(s->group, "www-data");
	assert_string_equal(bad(f, SVC, "user", "bad name"),
			    "\"bad name\" is not a valid name; expected a user or group name "
			    "(letters, digits, '_', '.', '-') or a number");
	bad(f, SVC, "group", "-x");

	ok(f, SVC, "log_prefix", "\"[w] \"");
	assert_string_equal(s->log_prefix, "[w] ");
	ok(f, SVC, "log_prefix", "");
	assert_string_equal(s->log_prefix, "");
	memset(pre, 'p', 96);
	pre[96] = '\0';
	assert_string_equal(bad(f, SVC, "log_prefix", pre),
			    "the prefix is 96 bytes; expected at most 95");

	ok(f, GLB, "python", "/usr/bin/python3");
	assert_string_equal(f->cfg->python, "/usr/bin/python3");
	ok(f, GLB, "python", "auto");
	assert_null(f->cfg->python);
	assert_string_equal(bad(f, GLB, "status_dir", "run/hfinit"),
			    "\"run/hfinit\" is relative; expected auto or an absolute path");
	assert_null(f->cfg->status_dir);

	ok(f, SVC, "seccomp", "worker");
	assert_string_equal(s->seccomp, "worker");
	assert_string_equal(bad(f, SVC, "seccomp", ".hidden"),
			    "\".hidden\" is not a profile name; expected worker or the NAME of a "
			    "[seccomp:NAME] section");
	ok(f, PRF, "extends", "base");
	assert_string_equal(f->cfg->profiles[0].extends, "base");
}

static void test_lists(void **state)
{
	struct fix *f = *state;
	struct service_conf *s = &f->cfg->services[0];

	ok(f, SVC, "command", "node 'dist/index.js' --port 7860");
	assert_int_equal(strv_len(s->command), 4);
	assert_string_equal(s->command[1], "dist/index.js");
	ok(f, SVC, "command", "python3 -u w.py"); /* replaces */
	assert_int_equal(strv_len(s->command), 3);
	assert_string_equal(bad(f, SVC, "command", "a | b"),
			    "\"|\" is shell syntax, but no shell runs the command; expected a "
			    "plain command and arguments (quote it to pass it literally, or use "
			    "sh -c '...')");
	assert_string_equal(bad(f, SVC, "command", "  "),
			    "no value; expected a command line such as node server.js --port 7860");
	ok(f, SVC, "args", "--x '|'"); /* args: operators refused too, quoted ones pass */
	assert_string_equal(s->args[1], "|");

	ok(f, GLB, "app_dirs", "/a /b|c"); /* directories: no operator check */
	assert_int_equal(strv_len(f->cfg->app_dirs), 2);
	assert_string_equal(f->cfg->app_dirs[1], "/b|c");

	ok(f, SVC, "env", "A=1 B='two words'");
	assert_int_equal(set(f, SVC, "env", "C=3", 9), 0); /* appended, with its line */
	assert_int_equal(strv_len(s->env), 3);
	assert_string_equal(s->env[1], "B=two words");
	assert_int_equal(f->sec.nenv, 3);
	assert_int_equal(f->sec.env_lines[0], 1);
	assert_int_equal(f->sec.env_lines[2], 9);
	assert_string_equal(bad(f, SVC, "env", "PATH"),
			    "word 1 has no '=' (the text is not shown); expected NAME=VALUE "
			    "pairs such as HF_HOME=/data/hf LOG_LEVEL=info");

	ok(f, SVC, "requires", "torch, transformers");
	ok(f, SVC, "requires", "numpy");
	assert_int_equal(strv_len(s->requires), 3);
	assert_string_equal(s->requires[2], "numpy");
	assert_string_equal(bad(f, SVC, "requires", "scikit-learn"),
			    "\"scikit-learn\" is not a Python module name; expected import names "
			    "such as torch transformers (not pip names like scikit-learn)");
	assert_string_equal(bad(f, SVC, "requires", ", ,"),
			    "no value; expected Python module names such as torch transformers");
	bad(f, SVC, "requires", "a..b");
	bad(f, SVC, "requires", "1x");

	ok(f, PRF, "deny", "mount,umount2");
	ok(f, PRF, "allow", "ptrace");
	ok(f, PRF, "deny", "kexec_load");
	assert_int_equal(strv_len(f->cfg->profiles[0].deny), 3);
	assert_string_equal(f->cfg->profiles[0].allow[0], "ptrace");
	assert_string_equal(bad(f, PRF, "deny", ","),
			    "no value; expected syscall names separated by spaces");
}

static void test_syscall_names(void **state)
{
	struct fix *f = *state;

	assert_string_equal(bad(f, PRF, "deny", "mount umont2"),
			    "unknown syscall \"umont2\" (did you mean umount2?); expected syscall "
			    "names of this architecture");
	assert_string_equal(
	    bad(f, PRF, "allow", "zzzzzzzzzz"),
	    "unknown syscall \"zzzzzzzzzz\"; expected syscall names of this architecture");
	assert_null(f->cfg->profiles[0].deny); /* nothing kept from a refused value */
}

/* The check is the plan layer's: without one, any name is taken as written. */
static void test_syscall_hook(void **state)
{
	struct fix *f = *state;

	config_set_syscall_check(NULL);
	ok(f, PRF, "deny", "umont2 notacall");
	assert_string_equal(f->cfg->profiles[0].deny[1], "notacall");
	config_set_syscall_check(syscall_name_check);
	bad(f, PRF, "deny", "umont2");
}

static void test_scalars(void **state)
{
	struct fix *f = *state;
	struct service_conf *s = &f->cfg->services[0];

	ok(f, SVC, "stop_signal", "SIGINT");
	assert_int_equal(s->stop_signal, SIGINT);
	assert_string_equal(
	    bad(f, SVC, "stop_signal", "FOO"),
	    "\"FOO\" is not a signal; expected a name such as TERM, INT, QUIT, HUP, "
	    "USR1 (with or without SIG) or a number");

	assert_false(s->has_umask);
	ok(f, SVC, "umask", "027");
	assert_true(s->has_umask);
	assert_int_equal(s->umask, 027);
	assert_string_equal(bad(f, SVC, "umask", "8"),
			    "\"8\" is not a umask; expected octal digits such as 022 or 0077");

	ok(f, SVC, "oom_score_adj", "-500");
	assert_true(s->has_oom_score_adj);
	assert_int_equal(s->oom_score_adj, -500);
	assert_string_equal(bad(f, SVC, "oom_score_adj", "2000"),
			    "2000 is out of range; expected -1000..1000");

	ok(f, SVC, "restart", "ALWAYS");
	assert_int_equal(s->restart, RESTART_ALWAYS);
	ok(f, SVC, "restart", "no");
	assert_int_equal(s->restart, RESTART_NO);
	assert_string_equal(
	    bad(f, SVC, "restart", "alway"),
	    "\"alway\" is not a restart policy (did you mean always?); expected no, "
	    "on-failure or always");
	assert_string_equal(
	    bad(f, SVC, "restart", "sometimes"),
	    "\"sometimes\" is not a restart policy; expected no, on-failure or always");

	ok(f, SVC, "type", "oneshot");
	assert_int_equal(s->type, TYPE_ONESHOT);
	assert_string_equal(
	    bad(f, SVC, "type", "oneshoot"),
	    "\"oneshoot\" is not a service type (did you mean oneshot?); expected longrun or "
	    "oneshot");
	assert_int_equal(s->success_codes[0], 1); /* the default: 0 */
	ok(f, SVC, "success_exit_codes", "0 3, 255");
	assert_int_equal(s->success_codes[0], 1 | 1 << 3);
	assert_int_equal(s->success_codes[31], 0x80);
	ok(f, SVC, "success_exit_codes", "3"); /* replaces: 0 is no longer clean */
	assert_int_equal(s->success_codes[0], 1 << 3);
	assert_string_equal(bad(f, SVC, "success_exit_codes", "0 256"),
			    "\"256\" is not an exit code; expected exit codes from 0 to 255 such "
			    "as 0 3");

	ok(f, GLB, "log_format", "JSON");
	assert_int_equal(f->cfg->log_format, LOG_FMT_JSON);
	assert_string_equal(bad(f, GLB, "log_format", "xml"),
			    "\"xml\" is not a log format; expected text or json");
}

static void test_probes(void **state)
{
	struct fix *f = *state;
	struct service_conf *s = &f->cfg->services[0];

	ok(f, SVC, "ready", "tcp:7860");
	assert_int_equal(s->ready.kind, PROBE_TCP);
	assert_int_equal(s->ready.port, 7860);
	ok(f, SVC, "ready", "notify"); /* replaces (and frees) the first */
	assert_int_equal(s->ready.kind, PROBE_NOTIFY);
	ok(f, SVC, "health", "http://127.0.0.1:7860/health");
	assert_int_equal(s->health.kind, PROBE_HTTP);
	assert_string_equal(
	    bad(f, SVC, "health", "notify"),
	    "\"notify\" cannot be a health check (it only fires once, at start-up); "
	    "expected tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_int_equal(s->health.kind, PROBE_HTTP); /* a refused value changes nothing */
}

static void test_actions(void **state)
{
	struct fix *f = *state;
	struct seccomp_conf *p = &f->cfg->profiles[0];

	assert_false(p->has_default);
	ok(f, PRF, "default", "errno:EACCES");
	assert_true(p->has_default);
	assert_int_equal(p->def.action, SECCOMP_ACT_ERRNO);
	assert_int_equal(p->def.errnum, 13);
	ok(f, PRF, "default", "allow");
	assert_int_equal(p->def.action, SECCOMP_ACT_ALLOW);
	assert_string_equal(
	    bad(f, PRF, "default", "deny"),
	    "\"deny\" is not an action; expected allow, errno, errno:ENAME, kill or "
	    "log");
	ok(f, PRF, "deny_action", "kill");
	assert_int_equal(p->deny_action.action, SECCOMP_ACT_KILL);
	ok(f, PRF, "deny_action", "errno");
	assert_int_equal(p->deny_action.action, SECCOMP_ACT_ERRNO);
	assert_int_equal(p->deny_action.errnum, 1);
	assert_string_equal(bad(f, PRF, "deny_action", "allow"),
			    "\"allow\" is not an action; expected errno, errno:ENAME, kill or log");
	assert_string_equal(bad(f, PRF, "deny_action", "errno:EWHAT"),
			    "\"EWHAT\" is not an errno; expected a name such as EPERM, EACCES, "
			    "ENOSYS or a number 1..4095");
}

static void test_rlimits(void **state)
{
	struct fix *f = *state;
	struct rlimit_conf *rl = f->cfg->services[0].rlimits;

	ok(f, SVC, "rlimit_nofile", "1024:4096");
	assert_true(rl[CRL_NOFILE].set);
	assert_int_equal(rl[CRL_NOFILE].resource, RLIMIT_NOFILE);
	assert_int_equal(rl[CRL_NOFILE].soft, 1024);
	assert_int_equal(rl[CRL_NOFILE].hard, 4096);
	ok(f, SVC, "rlimit_as", "64M");
	assert_int_equal(rl[CRL_AS].soft, 64 << 20);
	assert_int_equal(rl[CRL_AS].hard, 64 << 20);
	ok(f, SVC, "rlimit_cpu", "2m:unlimited");
	assert_int_equal(rl[CRL_CPU].soft, 120);
	assert_true(rl[CRL_CPU].hard == CONFIG_RLIM_INFINITY);
	ok(f, SVC, "rlimit_core", "0");
	assert_int_equal(rl[CRL_CORE].hard, 0);
	assert_string_equal(bad(f, SVC, "rlimit_nproc", "10:5"),
			    "the soft limit is above the hard limit; expected SOFT:HARD with SOFT "
			    "<= HARD");
	assert_string_equal(bad(f, SVC, "rlimit_nofile", "lots"),
			    "\"lots\" is not a limit; expected a number, unlimited, or SOFT:HARD");
	assert_string_equal(bad(f, SVC, "rlimit_stack", "8Q"),
			    "\"8Q\" is not a limit; expected a size such as 64M, a number of "
			    "bytes, unlimited, or SOFT:HARD");
	assert_false(rl[CRL_STACK].set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_common, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duration_uint_bool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syscall_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syscall_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rlimits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conditions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
