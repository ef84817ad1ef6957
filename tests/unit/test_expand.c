/* Unit tests: ${VAR} expansion of config values (conf/expand.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/expand.h"

/* A fixed environment: NAME=VALUE words. */
static const char *const vars[] = {
    "A=alpha", "B=beta", "EMPTY=", "T=30s", "HF_TOKEN=hf_secret", "_x1=under", "DOLLAR=$X", NULL};

static const char *get(const char *name, void *arg)
{
	size_t n = strlen(name);

	*(int *)arg += 1;
	for (const char *const *v = vars; *v; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

static struct expand_info info;
static struct err e;
static int reads;

static const char *ok(const char *in)
{
	static char out[256];

	err_clear(&e);
	if (expand_value(in, out, sizeof(out), get, &reads, &info, &e) < 0)
		fail_msg("%s: %s", in, e.msg);
	return out;
}

static const char *bad(const char *in, size_t cap)
{
	char out[256];

	err_clear(&e);
	assert_int_equal(expand_value(in, out, cap, get, &reads, &info, &e), -1);
	return e.msg;
}

static void test_forms(void **state)
{
	(void)state;
	assert_string_equal(ok("plain text"), "plain text");
	assert_int_equal(info.nvars, 0);
	assert_string_equal(ok("${A}"), "alpha");
	assert_string_equal(info.vars, "${A}");
	assert_string_equal(ok("x${A}y${B}z${A}"), "xalphaybetazalpha");
	assert_int_equal(info.nvars, 3);
	assert_string_equal(info.vars, "${A}, ${B}");
	assert_false(info.secret);
	assert_string_equal(ok("${_x1}"), "under");
	assert_string_equal(ok("${EMPTY}"), "");
	assert_int_equal(info.nvars, 1);
	/* :- when unset or empty, as in sh */
	assert_string_equal(ok("${NOPE:-30s}"), "30s");
	assert_string_equal(ok("${EMPTY:-d}"), "d");
	assert_string_equal(ok("${T:-10s}"), "30s");
	assert_string_equal(ok("${NOPE:-}"), "");
	assert_string_equal(ok("${NOPE:-a b:c=d}"), "a b:c=d");
	/* a variable's value is not expanded again */
	assert_string_equal(ok("${DOLLAR}"), "$X");
	/* :? when set */
	assert_string_equal(ok("${A:?needs A}"), "alpha");
	/* secrets are flagged */
	assert_string_equal(ok("k=${HF_TOKEN}"), "k=hf_secret");
	assert_true(info.secret);
}

static void test_dollars(void **state)
{
	(void)state;
	assert_string_equal(ok("$$"), "$");
	assert_string_equal(ok("$${A}"), "${A}");
	assert_string_equal(ok("$$${A}"), "$alpha");
	assert_int_equal(info.nvars, 1);
	assert_string_equal(ok("$$$${A}"), "$${A}");
	assert_int_equal(info.nvars, 0);
	/* any other $ stays as written */
	assert_string_equal(ok("regex:^ready$"), "regex:^ready$");
	assert_string_equal(ok("sh -c 'echo $HOME $1 $(id)'"), "sh -c 'echo $HOME $1 $(id)'");
	assert_string_equal(ok("$"), "$");
	assert_string_equal(ok("a}b"), "a}b");
	assert_int_equal(info.nvars, 0);
}

static void test_nesting(void **state)
{
	(void)state;
	assert_string_equal(ok("${NOPE:-${A}}"), "alpha");
	assert_string_equal(ok("${NOPE:-x${NOPE2:-${B}}y}"), "xbetay");
	assert_string_equal(info.vars, "${NOPE}, ${NOPE2}, ${B}");
	/* an unused default is not evaluated: its variables are not read */
	reads = 0;
	assert_string_equal(ok("${A:-${B}${NOPE:?never}}"), "alpha");
	assert_int_equal(reads, 1);
	assert_string_equal(info.vars, "${A}");
	assert_string_equal(ok("${N1:-${N2:-${N3:-${N4:-deep}}}}"), "deep");
	assert_non_null(
	    strstr(bad("${N1:-${N2:-${N3:-${N4:-${N5:-x}}}}}", 256), "nests more than 4"));
	/* the syntax of an unused default is still checked */
	assert_non_null(strstr(bad("${A:-${}}", 256), "is not a variable reference"));
}

static void test_errors(void **state)
{
	(void)state;
	assert_string_equal(bad("${NOPE}", 256),
			    "${NOPE} is not set; expected it in hfinit's environment, or a "
			    "default: ${NOPE:-VALUE}");
	assert_string_equal(bad("${NOPE:?set NOPE to the port}", 256),
			    "${NOPE}: set NOPE to the port");
	assert_string_equal(bad("${EMPTY:?}", 256),
			    "${EMPTY} is not set or empty; expected a value");
	assert_non_null(strstr(bad("${}", 256), "\"${}\" is not a variable reference; expected"));
	assert_non_null(strstr(bad("${1A}", 256), "is not a variable reference"));
	assert_non_null(strstr(bad("${A-x}", 256), "is not a variable reference"));
	assert_non_null(strstr(bad("${A:=x}", 256), "is not a variable reference"));
	assert_non_null(strstr(bad("${A B}", 256), "is not a variable reference"));
	assert_non_null(strstr(bad("${A", 256), "is not a variable reference"));
	assert_string_equal(bad("${NOPE:-abc", 256), "unterminated ${...}; expected a closing }");
	assert_string_equal(bad("${NOPE:?abc", 256), "unterminated ${...}; expected a closing }");
	/* a name of 72 letters is refused, not cut */
	char longname[100] = "${";
	memset(longname + 2, 'A', 72);
	strcpy(longname + 74, "}");
	assert_non_null(strstr(bad(longname, 256), "is not a variable reference"));
}

static void test_bounds(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(expand_value("${A}", out, 6, get, &reads, &info, &e), 0);
	assert_string_equal(out, "alpha");
	assert_string_equal(bad("${A}", 5),
			    "the value expands to more than 4 bytes; expected at most that");
	assert_string_equal(bad("abcdef", 4),
			    "the value expands to more than 3 bytes; expected at most that");
	assert_int_equal(expand_value("", out, 1, get, &reads, &info, &e), 0);
	assert_string_equal(out, "");
	assert_int_equal(expand_value("", out, 0, get, &reads, &info, &e), -1);
	/* the list of names is cut, the count is not */
	assert_string_equal(ok("${NOPE:-}${NOPE:-}${NOPE_1:-}${NOPE_2:-}${NOPE_3:-}${NOPE_4:-}"
			       "${NOPE_5:-}${NOPE_6:-}${NOPE_7:-}${NOPE_8:-}${NOPE_9:-}"
			       "${NOPE_10:-}${NOPE_11:-}${NOPE_12:-}"),
			    "");
	assert_int_equal(info.nvars, 14);
	assert_true(strlen(info.vars) < sizeof(info.vars));
}

/* Through the parser: hfinit's environment, file, line, key and variable in
 * every message, the values listed for `hfinit check`, secrets hidden. */
static struct config *parse(const char *text)
{
	struct config *cfg = config_parse("t.ini", text, strlen(text), &e);

	assert_non_null(cfg);
	return cfg;
}

static void test_config_values(void **state)
{
	struct config *cfg;

	(void)state;
	setenv("XT_TIMEOUT", "45s", 1);
	setenv("XT_BAD", "3O s", 1);
	setenv("XT_API_KEY", "sk-not-a-duration", 1);
	setenv("XT_NL", "a\nb", 1);
	unsetenv("XT_UNSET");
	cfg = parse("[service:a]\ncommand = run ${XT_ARG:-x} $$HOME $HOME\n"
		    "ready_timeout = ${XT_TIMEOUT}\nready = regex:^ready$\n"
		    "retry_delay = $${XT_TIMEOUT}\n");
	/* $$ in retry_delay gives the literal "${XT_TIMEOUT}": not a duration */
	assert_int_equal(cfg->ndiags, 1);
	assert_non_null(
	    strstr(cfg->diags[0].text, "t.ini:5: [service:a] retry_delay: \"${XT_TIMEOUT}\""));
	assert_string_equal(cfg->services[0].command[1], "x");
	assert_string_equal(cfg->services[0].command[2], "$HOME");
	assert_string_equal(cfg->services[0].command[3], "$HOME");
	assert_int_equal(cfg->services[0].ready_timeout_ms, 45000);
	assert_int_equal(cfg->nsubsts, 2);
	assert_int_equal(cfg->substs[1].line, 3);
	assert_string_equal(cfg->substs[1].section, "service:a");
	assert_string_equal(cfg->substs[1].key, "ready_timeout");
	assert_string_equal(cfg->substs[1].value, "45s");
	assert_string_equal(cfg->substs[1].vars, "${XT_TIMEOUT}");
	config_free(cfg);

	cfg = parse("[hfinit]\nstop_timeout = ${XT_UNSET}\n[service:a]\ncommand = x\n"
		    "ready_timeout = ${XT_BAD}\nretry_delay = ${XT_API_KEY}\n"
		    "workdir = /${XT_NL}\nretries = ${XT_UNSET:?set it to 3}\n");
	assert_int_equal(cfg->ndiags, 5);
	assert_string_equal(
	    cfg->diags[0].text,
	    "t.ini:2: [hfinit] stop_timeout: ${XT_UNSET} is not set; expected it in "
	    "hfinit's environment, or a default: ${XT_UNSET:-VALUE}");
	assert_non_null(strstr(cfg->diags[1].text, "t.ini:5: [service:a] ready_timeout: \"3O s\" "
						   "(from ${XT_BAD}): "));
	assert_non_null(strstr(cfg->diags[2].text,
			       "t.ini:6: [service:a] retry_delay: the value from "
			       "${XT_API_KEY} (a secret, not shown) is not valid; expected"));
	assert_null(strstr(cfg->diags[2].text, "sk-not"));
	assert_string_equal(cfg->diags[3].text,
			    "t.ini:7: [service:a] workdir: the value from ${XT_NL} holds a control "
			    "character; expected one line of text");
	assert_string_equal(cfg->diags[4].text,
			    "t.ini:8: [service:a] retries: ${XT_UNSET}: set it to 3");
	/* the secret's value is listed as *** */
	assert_int_equal(cfg->nsubsts, 2);
	assert_string_equal(cfg->substs[1].value, "***");
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),   cmocka_unit_test(test_dollars),
	    cmocka_unit_test(test_nesting), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_bounds),  cmocka_unit_test(test_config_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
