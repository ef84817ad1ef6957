/* Unit tests: word splitting, joining, env lists, near-miss suggestions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/strv.h"
#include "base/words.h"

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
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_nearest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
