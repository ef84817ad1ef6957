/* Unit tests: conf/conf_rules.c, the checks that need the whole file (run by
 * config_parse after the keys are set): each rule's message and line, the
 * cases that must pass, inheritance along extends, the order and cap of the
 * diagnostics. The golden files of tests/configs/bad cover one case each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "plan/syscalls.h"

static struct config *parse(const char *text)
{
	struct err e = {0};
	struct config *cfg = config_parse("t.ini", text, strlen(text), &e);

	assert_non_null(cfg);
	return cfg;
}

/* text parses with exactly the given diagnostics (full texts, in order). */
static void diags(const char *text, ...)
{
	struct config *cfg = parse(text);
	const char *want;
	size_t i = 0;
	va_list ap;

	va_start(ap, text);
	while ((want = va_arg(ap, const char *))) {
		if (i >= cfg->ndiags)
			fail_msg("missing diagnostic %zu: %s", i, want);
		assert_string_equal(cfg->diags[i].text, want);
		i++;
	}
	va_end(ap);
	if (i != cfg->ndiags)
		fail_msg("unexpected diagnostic: %s", cfg->diags[i].text);
	config_free(cfg);
}

#define OK(text) diags(text, NULL)

static void test_service_rules(void **state)
{
	(void)state;
	OK("[service:a]\ncommand = x\n");
	OK("[service:a]\nscript = app.py\nargs = --x\n");
	diags("[service:a]\nready = started\n",
	      "t.ini:1: [service:a]: no command or script; expected command = PROGRAM ARGS... or "
	      "script = PATH.py (run with the resolved Python)",
	      NULL);
	diags("[service:a]\nscript = a.py\ncommand = x\n",
	      "t.ini:3: [service:a] command: both command (line 3) and script (line 2) are set; "
	      "expected exactly one",
	      NULL);
	diags("[service:a]\ncommand = x\nargs = y\n",
	      "t.ini:3: [service:a] args: args only goes with script; expected the arguments in "
	      "command = ...",
	      NULL);
	/* the cap check names the key that was set, and the defaults count too */
	diags("[service:a]\ncommand = x\nrestart_max_delay = 500ms\n",
	      "t.ini:3: [service:a] restart_max_delay: restart_max_delay (500ms) is below "
	      "restart_delay (1s); expected the cap to be at least the first delay",
	      NULL);
	diags("[service:a]\ncommand = x\nrestart_delay = 2m\n",
	      "t.ini:3: [service:a] restart_delay: restart_max_delay (1m) is below restart_delay "
	      "(2m); expected the cap to be at least the first delay",
	      NULL);
	diags("[service:a]\ncommand = x\nhealth_failures = 2\n",
	      "t.ini:3: [service:a] health_failures: has no effect without a health probe; "
	      "expected health = ... in this section, or remove the key",
	      NULL);
	OK("[service:a]\ncommand = x\nhealth = tcp:80\nhealth_interval = 1s\n");
	/* Dev Mode: the watch keys go with watch =, a glob matches one name */
	OK("[service:a]\ncommand = x\nwatch = src\nwatch_ignore =\nwatch_debounce = 0s\n");
	diags("[service:a]\ncommand = x\nwatch_debounce = 1s\n",
	      "t.ini:3: [service:a] watch_debounce: has no effect without watch = ...; expected "
	      "watch = PATH... in this section, or remove the key",
	      NULL);
	diags("[service:a]\ncommand = x\nwatch = .\nwatch_ignore = node_modules a/*.log\n",
	      "t.ini:4: [service:a] watch_ignore: \"a/*.log\" has a /; expected globs that match "
	      "one name, such as node_modules or *.log",
	      NULL);
	diags("[service:a]\ncommand = x\nwatch =\n",
	      "t.ini:3: [service:a] watch: no value; expected files or directories separated by "
	      "spaces",
	      NULL);
}

/* type = oneshot refuses the keys of a longrun; watchdog = needs notify. */
static void test_kind_rules(void **state)
{
	(void)state;
	OK("[service:a]\ncommand = x\ntype = oneshot\nready_timeout = 1m\nretries = 2\n");
	OK("[service:a]\ncommand = x\nready = notify\nwatchdog = 5s\nsuccess_exit_codes = 0 3\n");
	diags("[service:a]\ncommand = x\ntype = oneshot\nrestart = no\nready = started\n",
	      "t.ini:4: [service:a] restart: does not apply to type = oneshot (line 3: it is done "
	      "when it exits with a success code); expected no restart = here, or type = longrun",
	      "t.ini:5: [service:a] ready: does not apply to type = oneshot (line 3: it is done "
	      "when it exits with a success code); expected no ready = here, or type = longrun",
	      NULL);
	diags("[service:a]\ncommand = x\nhealth = tcp:1\nwatchdog = 1s\ntype = oneshot\n",
	      "t.ini:3: [service:a] health: does not apply to type = oneshot (line 5: it is done "
	      "when it exits with a success code); expected no health = here, or type = longrun",
	      "t.ini:4: [service:a] watchdog: does not apply to type = oneshot (line 5: it is "
	      "done when it exits with a success code); expected no watchdog = here, or type = "
	      "longrun",
	      NULL);
	diags("[service:a]\ncommand = x\nwatchdog = 1s\n",
	      "t.ini:3: [service:a] watchdog: needs ready = notify (WATCHDOG=1 comes on the notify "
	      "socket); expected ready = notify in this section, or no watchdog",
	      NULL);
}

static void test_profiles_named(void **state)
{
	(void)state;
	OK("[service:a]\ncommand = x\nseccomp = worker\n");
	OK("[service:a]\ncommand = x\nseccomp = box\n[seccomp:box]\ndeny = mount\n");
	diags("[service:a]\ncommand = x\nseccomp = bxo\n[seccomp:box]\ndeny = mount\n",
	      "t.ini:3: [service:a] seccomp: unknown profile \"bxo\" (did you mean box?); "
	      "expected worker or a [seccomp:NAME] defined in this file",
	      NULL);
	diags("[service:a]\ncommand = x\nseccomp = sandboxed\n",
	      "t.ini:3: [service:a] seccomp: unknown profile \"sandboxed\"; expected worker or a "
	      "[seccomp:NAME] defined in this file",
	      NULL);
	diags("[service:a]\ncommand = x\n[seccomp:p]\nextends = q\n",
	      "t.ini:4: [seccomp:p] extends: unknown profile \"q\"; expected worker or a "
	      "[seccomp:NAME] defined in this file",
	      NULL);
	diags("[service:a]\ncommand = x\n[seccomp:p]\nextends = q\n[seccomp:q]\nextends = p\n",
	      "t.ini:4: [seccomp:p] extends: \"q\" leads back to p (a cycle); expected a chain "
	      "that ends at worker or at a profile without extends",
	      "t.ini:6: [seccomp:q] extends: \"p\" leads back to q (a cycle); expected a chain "
	      "that ends at worker or at a profile without extends",
	      NULL);
	OK("[service:a]\ncommand = x\n[seccomp:p]\nextends = q\n[seccomp:q]\nextends = worker\n");
	diags("[service:a]\ncommand = x\n[seccomp:p]\ndeny = mount ptrace\nallow = ptrace\n",
	      "t.ini:5: [seccomp:p] allow: ptrace is in both deny and allow; expected it in one "
	      "list",
	      NULL);
}

static void test_execve(void **state)
{
	(void)state;
	diags("[service:a]\ncommand = x\n[seccomp:p]\ndeny = execve\n",
	      "t.ini:4: [seccomp:p] deny: execve is denied, but hfinit starts the service with "
	      "execve after loading the filter; expected execve not in deny",
	      NULL);
	diags("[service:a]\ncommand = x\n[seccomp:p]\ndefault = kill\n",
	      "t.ini:4: [seccomp:p] default: killing by default also stops the execve that starts "
	      "the service; expected allow = execve (plus what the program needs)",
	      NULL);
	diags("[service:a]\ncommand = x\n[seccomp:p]\ndefault = errno\n",
	      "t.ini:4: [seccomp:p] default: failing calls by default also stops the execve that "
	      "starts the service; expected allow = execve (plus what the program needs)",
	      NULL);
	OK("[service:a]\ncommand = x\n[seccomp:p]\ndefault = kill\nallow = execve\n");
	OK("[service:a]\ncommand = x\n[seccomp:p]\ndefault = log\n");
	/* inherited: reported once, at the parent; the parent's allow covers the child */
	diags("[service:a]\ncommand = x\n[seccomp:base]\ndeny = execve\n[seccomp:p]\n"
	      "extends = base\n",
	      "t.ini:4: [seccomp:base] deny: execve is denied, but hfinit starts the service with "
	      "execve after loading the filter; expected execve not in deny",
	      NULL);
	OK("[service:a]\ncommand = x\n[seccomp:base]\ndefault = kill\nallow = execve\n"
	   "[seccomp:p]\nextends = base\n");
	diags("[service:a]\ncommand = x\n[seccomp:base]\ndefault = kill\n[seccomp:p]\n"
	      "extends = base\nallow = execve\n",
	      "t.ini:4: [seccomp:base] default: killing by default also stops the execve that "
	      "starts the service; expected allow = execve (plus what the program needs)",
	      NULL);
}

static void test_finish(void **state)
{
	struct config *cfg;
	char text[8192];
	size_t len = 0;

	(void)state;
	/* stop_timeout: [hfinit]'s, unless the service sets its own */
	cfg = parse("[service:a]\ncommand = x\n[service:b]\ncommand = y\nstop_timeout = 3s\n"
		    "[hfinit]\nstop_timeout = 20s\n");
	assert_int_equal(cfg->ndiags, 0);
	assert_int_equal(cfg->services[0].stop_timeout_ms, 20000);
	assert_int_equal(cfg->services[1].stop_timeout_ms, 3000);
	config_free(cfg);

	diags("[hfinit]\n",
	      "t.ini: no services; expected at least one [service:NAME] section "
	      "with a command or script",
	      NULL);
	/* "no services" only when nothing else is wrong */
	diags("[hfinit]\nbogus = 1\n",
	      "t.ini:2: [hfinit] bogus: unknown key; expected a key of [hfinit] (see "
	      "docs/config.md)",
	      NULL);

	/* in line order, whatever the order found; 99 kept plus a count */
	len += (size_t)snprintf(text + len, sizeof(text) - len, "[service:a]\nready = started\n");
	for (int i = 0; i < 120; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "k%d = 1\n", i);
	cfg = parse(text);
	assert_int_equal(cfg->ndiags, CONFIG_MAX_DIAGS);
	assert_string_equal(cfg->diags[0].text,
			    "t.ini:1: [service:a]: no command or script; expected command = "
			    "PROGRAM ARGS... or script = PATH.py (run with the resolved Python)");
	assert_int_equal(cfg->diags[1].line, 3);
	assert_int_equal(cfg->diags[98].line, 100);
	assert_string_equal(cfg->diags[99].text,
			    "t.ini: 22 more errors not shown; expected fewer errors");
	for (size_t i = 0; i < cfg->ndiags; i++)
		assert_int_equal(cfg->diags[i].seq, i);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_service_rules),  cmocka_unit_test(test_kind_rules),
	    cmocka_unit_test(test_profiles_named), cmocka_unit_test(test_execve),
	    cmocka_unit_test(test_finish),
	};
	config_set_syscall_check(syscall_name_check); /* as main does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
