/* Unit tests: value parsers (durations, sizes, booleans, signals, umask,
 * errno names, word splitting, env lists, probes, near-miss suggestions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf/value.h"

static uint64_t dur(const char *s)
{
	uint64_t v = 12345;
	struct err e = {0};

	if (parse_duration_ms(s, &v, &e) < 0)
		fail_msg("duration %s: %s", s, e.msg);
	return v;
}

static const char *dur_err(const char *s)
{
	static struct err e;
	uint64_t v = 777;

	err_clear(&e);
	assert_int_equal(parse_duration_ms(s, &v, &e), -1);
	assert_int_equal(v, 777); /* untouched on error */
	return e.msg;
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(dur("500ms"), 500);
	assert_int_equal(dur("30s"), 30000);
	assert_int_equal(dur("2m"), 120000);
	assert_int_equal(dur("1h"), 3600000);
	assert_int_equal(dur("1m30s"), 90000);
	assert_int_equal(dur("1h1m1s1ms"), 3661001);
	assert_int_equal(dur("0"), 0);
	assert_int_equal(dur("0s"), 0);
	assert_int_equal(dur("1000h"), 1000ULL * 3600000);
	assert_string_equal(dur_err("30"),
			    "\"30\" lacks a unit; expected e.g. 30s or 500ms (units: ms, s, m, h)");
	assert_string_equal(dur_err("1m30"), "\"1m30\" lacks a unit; expected e.g. 30s or 500ms "
					     "(units: ms, s, m, h)");
	assert_string_equal(
	    dur_err("5sec"),
	    "\"5sec\": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)");
	assert_string_equal(
	    dur_err("5 s"),
	    "\"5 s\": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)");
	assert_string_equal(dur_err(""), "empty; expected a duration such as 500ms, 30s, 2m or 1h");
	assert_string_equal(dur_err("-1s"), "\"-1s\" is not a duration; expected a number with a "
					    "unit: 500ms, 30s, 2m, 1h (or a sum such as 1m30s)");
	assert_string_equal(
	    dur_err("1.5s"),
	    "\"1.5s\": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)");
	assert_string_equal(dur_err("1001h"), "\"1001h\" is too long; expected at most 1000h");
	assert_string_equal(dur_err("99999999999999999999999ms"),
			    "\"99999999999999999999999ms\" is not a duration; expected a number "
			    "with a unit: 500ms, 30s, 2m, 1h (or a sum such as 1m30s)");
	assert_string_equal(dur_err("18446744073709551615h"),
			    "\"18446744073709551615h\" is too long; expected at most 1000h");
	/* long values are cut in messages */
	{
		char big[200];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_non_null(strstr(dur_err(big), "xxx...\" is not a duration"));
	}
}

static void test_sizes(void **state)
{
	struct err e = {0};
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4096", &v, &e), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("512K", &v, &e), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(parse_size("64M", &v, &e), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(parse_size("1g", &v, &e), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(parse_size("2TiB", &v, &e), 0);
	assert_int_equal(v, 2ULL << 40);
	assert_int_equal(parse_size("3MB", &v, &e), 0);
	assert_int_equal(v, 3ULL << 20);
	assert_int_equal(parse_size("64X", &v, &e), -1);
	assert_string_equal(e.msg, "\"64X\": unknown size suffix; expected K, M, G or T (e.g. "
				   "512K, 64M, 1G)");
	assert_int_equal(parse_size("64Mb2", &v, &e), -1);
	assert_int_equal(parse_size("M", &v, &e), -1);
	assert_string_equal(e.msg, "\"M\" is not a size; expected a number of bytes with an "
				   "optional K, M, G or T suffix (e.g. 512K, 64M, 1G)");
	assert_int_equal(parse_size("16777216T", &v, &e), -1);
	assert_string_equal(e.msg, "\"16777216T\" is too large");
}

static void test_bools_ints(void **state)
{
	static const char *const yes[] = {"yes", "YES", "true", "On", "1"};
	static const char *const no[] = {"no", "False", "off", "0"};
	struct err e = {0};
	long long n;
	bool b;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b, &e), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < 4; i++) {
		b = true;
		assert_int_equal(parse_bool(no[i], &b, &e), 0);
		assert_false(b);
	}
	assert_int_equal(parse_bool("y", &b, &e), -1);
	assert_string_equal(e.msg,
			    "\"y\" is not a boolean; expected yes or no (true/false, on/off, 1/0)");

	assert_int_equal(parse_int("-1000", -1000, 1000, &n, &e), 0);
	assert_int_equal(n, -1000);
	assert_int_equal(parse_int("+7", 0, 10, &n, &e), 0);
	assert_int_equal(n, 7);
	assert_int_equal(parse_int("11", 0, 10, &n, &e), -1);
	assert_string_equal(e.msg, "11 is out of range; expected 0..10");
	assert_int_equal(parse_int("1e3", 0, 10000, &n, &e), -1);
	assert_string_equal(e.msg, "\"1e3\" is not a whole number; expected 0..10000");
	assert_int_equal(parse_int("99999999999999999999", 0, 10, &n, &e), -1);
	assert_int_equal(parse_int("", 0, 10, &n, &e), -1);
	assert_int_equal(parse_int("-", 0, 10, &n, &e), -1);
}

static void test_signals_umask_errno(void **state)
{
	struct err e = {0};
	mode_t m;
	int n;

	(void)state;
	assert_int_equal(parse_signal("TERM", &n, &e), 0);
	assert_int_equal(n, SIGTERM);
	assert_int_equal(parse_signal("SIGINT", &n, &e), 0);
	assert_int_equal(n, SIGINT);
	assert_int_equal(parse_signal("9", &n, &e), 0);
	assert_int_equal(n, SIGKILL);
	assert_int_equal(parse_signal("RTMIN+1", &n, &e), 0);
	assert_int_equal(n, SIGRTMIN + 1);
	assert_int_equal(parse_signal("0", &n, &e), -1);
	assert_int_equal(parse_signal("SIGFOO", &n, &e), -1);
	assert_string_equal(e.msg, "\"SIGFOO\" is not a signal; expected a name such as TERM, INT, "
				   "QUIT, HUP, USR1 (with or without SIG) or a number");

	assert_int_equal(parse_umask("022", &m, &e), 0);
	assert_int_equal(m, 022);
	assert_int_equal(parse_umask("0077", &m, &e), 0);
	assert_int_equal(m, 077);
	assert_int_equal(parse_umask("0", &m, &e), 0);
	assert_int_equal(m, 0);
	assert_int_equal(parse_umask("8", &m, &e), -1);
	assert_int_equal(parse_umask("00777", &m, &e), -1);
	assert_int_equal(parse_umask("", &m, &e), -1);

	assert_int_equal(parse_errno("EPERM", &n, &e), 0);
	assert_int_equal(n, EPERM);
	assert_int_equal(parse_errno("enosys", &n, &e), 0);
	assert_int_equal(n, ENOSYS);
	assert_int_equal(parse_errno("13", &n, &e), 0);
	assert_int_equal(n, 13);
	assert_int_equal(parse_errno("4096", &n, &e), -1);
	assert_int_equal(parse_errno("EFOO", &n, &e), -1);
	assert_string_equal(errno_name(EACCES), "EACCES");
	assert_null(errno_name(-1));
}

/* Split and compare with the expected words (NULL-terminated list). */
static void words(const char *s, ...)
{
	struct err e = {0};
	char **v;
	va_list ap;
	size_t i = 0;
	const char *w;

	if (split_words(s, true, &v, &e) < 0)
		fail_msg("split %s: %s", s, e.msg);
	va_start(ap, s);
	while ((w = va_arg(ap, const char *))) {
		assert_non_null(v[i]);
		assert_string_equal(v[i], w);
		i++;
	}
	va_end(ap);
	assert_null(v[i]);
	assert_int_equal(strv_len(v), i);
	strv_free(v);
}

static const char *split_err(const char *s)
{
	static struct err e;
	char **v = (char **)&e; /* must be reset to NULL on error */

	err_clear(&e);
	assert_int_equal(split_words(s, true, &v, &e), -1);
	assert_null(v);
	return e.msg;
}

static void test_split(void **state)
{
	(void)state;
	words("node dist/index.js", "node", "dist/index.js", NULL);
	words("  a \t b  ", "a", "b", NULL);
	words("", NULL);
	words("'a b' \"c d\" e\\ f", "a b", "c d", "e f", NULL);
	words("'it'\\''s'", "it's", NULL);
	words("\"say \\\"hi\\\" \\\\ \\$HOME \\n\"", "say \"hi\" \\ $HOME \\n", NULL);
	words("''", "", NULL);
	words("a'b'c\"d\"", "abcd", NULL);
	words("$HOME ~ *.py", "$HOME", "~", "*.py", NULL); /* no expansion */
	words("'|' \\&\\& \">\"", "|", "&&", ">", NULL);   /* quoted operators are literal */
	words("a|b", "a|b", NULL);			   /* only whole words are operators */
	assert_string_equal(split_err("echo 'x"),
			    "unterminated single quote in \"echo 'x\"; expected a closing '");
	assert_string_equal(split_err("echo \"x"),
			    "unterminated double quote in \"echo \"x\"; expected a closing \"");
	assert_string_equal(split_err("echo x\\"), "\"echo x\\\" ends with a lone backslash; "
						   "expected a character after it (write \\\\ for "
						   "a backslash)");
	assert_string_equal(split_err("a | b"),
			    "\"|\" is shell syntax, but no shell runs the "
			    "command; expected a plain command and arguments "
			    "(quote it to pass it literally, or use sh -c '...')");
	split_err("a > log");
	split_err("a 2>&1");
	split_err("a &");
	split_err("a || b");
}

static void test_join(void **state)
{
	char *argv[] = {"node", "a b", "it's", "", "x=1", NULL};
	char *s = strv_join(argv);
	char **back;
	struct err e = {0};

	(void)state;
	assert_string_equal(s, "node 'a b' 'it'\\''s' '' x=1");
	assert_int_equal(split_words(s, true, &back, &e), 0);
	for (int i = 0; argv[i]; i++)
		assert_string_equal(back[i], argv[i]);
	assert_null(back[5]);
	strv_free(back);
	free(s);

	back = NULL;
	assert_int_equal(strv_extend(&back, argv), 0);
	assert_int_equal(strv_extend(&back, argv + 3), 0);
	assert_int_equal(strv_len(back), 7);
	assert_string_equal(back[6], "x=1");
	strv_free(back);
}

static void test_env(void **state)
{
	struct err e = {0};
	char **v;

	(void)state;
	assert_int_equal(parse_env_list("A=1 B='two words' _C= D=x=y", &v, &e), 0);
	assert_string_equal(v[0], "A=1");
	assert_string_equal(v[1], "B=two words");
	assert_string_equal(v[2], "_C=");
	assert_string_equal(v[3], "D=x=y");
	assert_null(v[4]);
	strv_free(v);
	assert_int_equal(parse_env_list("1A=x", &v, &e), -1);
	assert_int_equal(parse_env_list("=x", &v, &e), -1);
	assert_int_equal(parse_env_list("A-B=x", &v, &e), -1);
	assert_int_equal(parse_env_list("PATH", &v, &e), -1);
	assert_string_equal(e.msg, "word 1 has no '=' (the text is not shown); expected "
				   "NAME=VALUE pairs such as HF_HOME=/data/hf LOG_LEVEL=info");
	/* no message shows a value: the name when valid, else the position */
	assert_int_equal(parse_env_list("A=1 HF_TOKEN='hf_secret", &v, &e), -1);
	assert_string_equal(e.msg, "HF_TOKEN: unterminated single quote (the value is not "
				   "shown); expected a closing '");
	assert_int_equal(parse_env_list("A=\"x\" \"B=hf_secret", &v, &e), -1);
	assert_string_equal(e.msg, "word 2: unterminated double quote (the value is not shown); "
				   "expected a closing \"");
	assert_int_equal(parse_env_list("K=x\\", &v, &e), -1);
	assert_string_equal(e.msg, "K: ends with a lone backslash (the value is not shown); "
				   "expected a character after it (write \\\\ for a backslash)");
	assert_int_equal(parse_env_list("A=1 PW=my secret", &v, &e), -1);
	assert_null(strstr(e.msg, "secret"));
	assert_int_equal(parse_env_list("A=1 PW-X=hf_secret", &v, &e), -1);
	assert_null(strstr(e.msg, "hf_secret"));
	/* split_words keeps quoting the text (commands are not secrets by default) */
	assert_int_equal(split_words("echo 'x", false, &v, &e), -1);
	assert_string_equal(e.msg,
			    "unterminated single quote in \"echo 'x\"; expected a closing '");
	assert_int_equal(parse_env_list("  ", &v, &e), -1);
	assert_true(env_name_ok("HF_HOME", 7));
	assert_false(env_name_ok("", 0));
}

static struct probe probe_ok(const char *s, bool health)
{
	struct probe p;
	struct err e = {0};

	if (parse_probe(s, health, &p, &e) < 0)
		fail_msg("probe %s: %s", s, e.msg);
	assert_string_equal(p.spec, s);
	return p;
}

static const char *probe_err(const char *s, bool health)
{
	static struct err e;
	struct probe p;

	err_clear(&e);
	assert_int_equal(parse_probe(s, health, &p, &e), -1);
	assert_int_equal(p.kind, PROBE_NONE);
	assert_null(p.spec);
	return e.msg;
}

static void test_probes(void **state)
{
	struct probe p;

	(void)state;
	p = probe_ok("tcp:7860", false);
	assert_int_equal(p.kind, PROBE_TCP);
	assert_string_equal(p.host, "127.0.0.1");
	assert_int_equal(p.port, 7860);
	probe_free(&p);
	assert_int_equal(p.kind, PROBE_NONE); /* reset */
	p = probe_ok("tcp:0.0.0.0:1", false);
	assert_string_equal(p.host, "0.0.0.0");
	assert_int_equal(p.port, 1);
	probe_free(&p);
	p = probe_ok("tcp:[fe80::1]:65535", true);
	assert_string_equal(p.host, "fe80::1");
	assert_int_equal(p.port, 65535);
	probe_free(&p);
	p = probe_ok("http://localhost/", false);
	assert_int_equal(p.kind, PROBE_HTTP);
	assert_int_equal(p.port, 80);
	assert_string_equal(p.text, "/");
	probe_free(&p);
	p = probe_ok("http://127.0.0.1:7860/api/health", true);
	assert_string_equal(p.host, "127.0.0.1");
	assert_int_equal(p.port, 7860);
	assert_string_equal(p.text, "/api/health");
	probe_free(&p);
	p = probe_ok("line: ready ", false);
	assert_int_equal(p.kind, PROBE_LINE);
	assert_string_equal(p.text, " ready "); /* taken as written */
	probe_free(&p);
	p = probe_ok("regex:^Uvicorn running on .*:[0-9]+", false);
	assert_true(p.has_re);
	assert_int_equal(regexec(&p.re, "Uvicorn running on http://0.0.0.0:8000", 0, NULL, 0), 0);
	probe_free(&p);
	p = probe_ok("fd:1023", false);
	assert_int_equal(p.fd, 1023);
	probe_free(&p);
	p = probe_ok("exec:test -S /tmp/sock", true);
	assert_int_equal(p.kind, PROBE_EXEC);
	assert_string_equal(p.argv[0], "test");
	assert_string_equal(p.argv[2], "/tmp/sock");
	assert_null(p.argv[3]);
	probe_free(&p);
	p = probe_ok("file:/run/ready", true);
	assert_string_equal(p.text, "/run/ready");
	probe_free(&p);

	assert_string_equal(probe_err("tcp:", false),
			    "\"tcp:\": bad port; expected a number 1..65535");
	assert_string_equal(probe_err("tcp:0", false),
			    "\"tcp:0\": bad port \"0\"; expected a number 1..65535");
	assert_string_equal(probe_err("tcp:::1:80", false),
			    "\"tcp:::1:80\": bad host; expected a name or address such as "
			    "127.0.0.1, localhost or [::1]");
	assert_string_equal(probe_err("tcp:a b:80", false),
			    "\"tcp:a b:80\": bad host; expected a name or address such as "
			    "127.0.0.1, localhost or [::1]");
	assert_string_equal(probe_err("http://", false),
			    "\"http://\": no host; expected http://127.0.0.1:PORT/PATH");
	assert_string_equal(probe_err("http://x:port/", false),
			    "\"http://x:port/\": bad port \"port\"; expected a number 1..65535");
	assert_string_equal(probe_err("http://x/a b", false),
			    "\"http://x/a b\": the path contains a space or control character; "
			    "expected a URL path such as /health (encode spaces as %20)");
	assert_string_equal(probe_err("http:7860", false),
			    "\"http:7860\" is not a URL; expected http://HOST:PORT/PATH");
	assert_string_equal(probe_err("fd:x", false),
			    "\"fd:x\": expected fd:N with N a number from 3 to 1023");
	assert_string_equal(probe_err("exec:", false),
			    "exec: needs a command; expected e.g. exec:curl -fs localhost:7860");
	assert_string_equal(probe_err("exec:a | b", true),
			    "\"|\" is shell syntax, but no shell runs the command; expected a "
			    "plain command and arguments (quote it to pass it literally, or use "
			    "sh -c '...')");
	assert_string_equal(probe_err("file:", false),
			    "file: needs a path; expected e.g. file:/tmp/app.ready");
	assert_string_equal(probe_err("regex:", false), "regex: needs a pattern; expected e.g. "
							"regex:listening on port [0-9]+");
	assert_string_equal(probe_err("notfy", false),
			    "\"notfy\" is not a probe (did you mean notify?); expected started, "
			    "line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "
			    "http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("lien:ready", false),
			    "\"lien:ready\" is not a probe (did you mean line:ready?); expected "
			    "started, line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "
			    "http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("socket:/x", false),
			    "\"socket:/x\" is not a probe; expected started, line:TEXT, regex:RE, "
			    "notify, fd:N, tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or "
			    "exec:CMD");
	assert_string_equal(probe_err("line:ready", true),
			    "\"line:ready\" cannot be a health check (it only fires once, at "
			    "start-up); expected tcp:[HOST:]PORT, http://HOST:PORT/PATH, "
			    "file:PATH or exec:CMD");
	probe_err("started", true);
	probe_err("fd:3", true);
	probe_err("regex:x", true);
	assert_string_equal(probe_kind_name(PROBE_HTTP), "http");
}

static void test_nearest(void **state)
{
	static const char *const keys[] = {"stage",   "command",     "script", "ready_timeout",
					   "retries", "retry_delay", "restart"};
	(void)state;
	assert_int_equal(edit_distance("kitten", "sitting", 10), 3);
	assert_int_equal(edit_distance("retires", "retries", 10), 1); /* transposition */
	assert_int_equal(edit_distance("", "abc", 10), 3);
	assert_int_equal(edit_distance("abcdef", "a", 2), 3); /* capped */
	assert_int_equal(edit_distance("STAGE", "stage", 2), 0);
	assert_string_equal(nearest("comand", keys, 7), "command");
	assert_string_equal(nearest("ready_timout", keys, 7), "ready_timeout");
	assert_string_equal(nearest("stag", keys, 7), "stage");
	assert_string_equal(nearest("retires", keys, 7), "retries");
	assert_null(nearest("memory", keys, 7));
	assert_null(nearest("x", keys, 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),  cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_bools_ints), cmocka_unit_test(test_signals_umask_errno),
	    cmocka_unit_test(test_split),      cmocka_unit_test(test_join),
	    cmocka_unit_test(test_env),	       cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_nearest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
