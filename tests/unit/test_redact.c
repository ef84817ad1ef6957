/* Unit tests: redaction of secret values and secret-shaped strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/redact.h"

#define TOK "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH" /* hf_ + 34 */

/* s redacted, as a static string ("(none)" when nothing was redacted). */
static const char *red(const char *s)
{
	static char out[1024];
	size_t n = redact_to(s, strlen(s), out, sizeof(out));

	if (n == (size_t)-1)
		return "(none)";
	assert_int_equal(n, strlen(out));
	return out;
}

extern char **environ;

static int setup(void **state)
{
	(void)state;
	unsetenv("HF_TOKEN");
	redact_reset();
	return 0;
}

static void test_names(void **state)
{
	(void)state;
	assert_true(redact_secret_name("HF_TOKEN", 8));
	assert_true(redact_secret_name("openai_api_key", 14));
	assert_true(redact_secret_name("MySecret", 8));
	assert_true(redact_secret_name("PGPASSWORD", 10));
	assert_true(redact_secret_name("db_pass", 7));
	assert_false(redact_secret_name("DATABASE_URL", 12));
	assert_false(redact_secret_name("HF_TOKEN", 7)); /* only len bytes count */
}

static void test_hub_tokens(void **state)
{
	(void)state;
	assert_string_equal(red("token " TOK " used"), "token *** used");
	assert_string_equal(red(TOK), "***");
	assert_string_equal(red("x=" TOK "\n"), "x=***\n");
	/* 29 alphanumerics are not a token; hf_ alone neither */
	assert_string_equal(red("hf_abcdefghijklmnopqrstuvwxyzABC"), "(none)");
	assert_string_equal(red("hf_ hf_x"), "(none)");
	assert_string_equal(red("https://hf.co/" TOK "?"), "https://hf.co/***?");
}

static void test_bearer(void **state)
{
	(void)state;
	assert_string_equal(red("Authorization: Bearer abc.def-ghi_+/=="),
			    "Authorization: Bearer ***");
	assert_string_equal(red("authorization: bearer\tXYZ, next"),
			    "authorization: bearer\t***, next");
	assert_string_equal(red("'Bearer eyJhbGciOi' sent"), "'Bearer ***' sent");
	assert_string_equal(red("Bearer"), "(none)");
	assert_string_equal(red("Bearer "), "(none)");
	assert_string_equal(red("Bearers x"), "(none)");
}

static void test_url_passwords(void **state)
{
	(void)state;
	assert_string_equal(red("postgres://app:dbpass123@db/x"), "postgres://app:***@db/x");
	assert_string_equal(red("at redis://:pw@cache:6379 and"), "at redis://:***@cache:6379 and");
	/* a password with '@' in it: up to the last '@' of the authority */
	assert_string_equal(red("s3://key:p@ss@host/b"), "s3://key:***@host/b");
	/* a short password grows to *** */
	assert_string_equal(red("a://u:p@h"), "a://u:***@h");
	assert_string_equal(red("http://user@host/"), "(none)");
	assert_string_equal(red("http://host:8080/"), "(none)");
	assert_string_equal(red("http://u:@host/"), "(none)");
	assert_string_equal(red("see http://h/a:b@c"), "(none)"); /* '@' past the path */
	assert_string_equal(red("https://user:" TOK "@huggingface.co"),
			    "https://user:***@huggingface.co");
	assert_string_equal(red("https://" TOK "@huggingface.co"), "https://***@huggingface.co");
	assert_string_equal(red("x://"), "(none)");
}

static void test_values(void **state)
{
	(void)state;
	assert_int_equal(redact_add("dbpass123", 9), 0);
	assert_int_equal(redact_add("short", 5), 0); /* below REDACT_MIN: ignored */
	assert_string_equal(red("pw=dbpass123"), "pw=***");
	assert_string_equal(red("dbpass123dbpass123 dbpass123"), "*** ***");
	assert_string_equal(red("short"), "(none)");
	assert_string_equal(red("dbpass12"), "(none)");
	/* values that are substrings of each other: the longest wins */
	assert_int_equal(redact_add("secret-value", 12), 0);
	assert_int_equal(redact_add("secret-value-2", 14), 0);
	assert_string_equal(red("[secret-value-2]"), "[***]");
	assert_string_equal(red("[secret-value-]"), "[***-]");
	/* overlapping values: the union is redacted, nothing of either shows */
	assert_int_equal(redact_add("abcdefgh", 8), 0);
	assert_int_equal(redact_add("efghijkl", 8), 0);
	assert_string_equal(red("<abcdefghijkl>"), "<***>");
	/* a value next to a pattern */
	assert_string_equal(red("dbpass123" TOK), "***");
	/* the output is cut to fit */
	{
		char out[6];
		assert_int_equal(redact_to("ab dbpass123 cd", 15, out, sizeof(out)), 5);
		assert_string_equal(out, "ab **");
	}
}

static void test_env(void **state)
{
	char *envp[] = {"HF_TOKEN=hf_value_1",
			"DB_PASSWORD=p4ssw0rd!",
			"PATH=/usr/bin",
			"TOKENIZERS_PARALLELISM=false",
			"NOEQ",
			NULL};
	char buf[64] = "/usr/bin p4ssw0rd! hf_value_1 false";

	(void)state;
	assert_int_equal(redact_add_env(envp), 0);
	redact_str(buf, sizeof(buf));
	assert_string_equal(buf, "/usr/bin *** *** false");
	assert_false(redact_needed("/usr/bin false", 14));
}

static void test_own_environment(void **state)
{
	char buf[64] = "got my-own-secret-1 here";

	(void)state;
	setenv("MY_API_KEY", "my-own-secret-1", 1);
	redact_reset(); /* collected again on the next use */
	redact_str(buf, sizeof(buf));
	unsetenv("MY_API_KEY");
	assert_string_equal(buf, "got *** here");
}

static void test_long_text(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1), *out = malloc(n + 1);

	(void)state;
	assert_non_null(s);
	assert_non_null(out);
	memset(s, 'x', n);
	s[n] = '\0';
	memcpy(s + n - strlen(TOK), TOK, strlen(TOK)); /* at the very end */
	assert_int_equal(redact_to(s, n, out, n + 1), n - strlen(TOK) + 3);
	assert_string_equal(out + n - strlen(TOK), "***");
	free(s);
	free(out);
}

/* The shapes are found at every offset from the 16-byte blocks the scan
 * steps by, and after a false start in the same block. */
static void test_every_offset(void **state)
{
	static const char *const shapes[] = {TOK, "Bearer abc.def-123", "https://u:pw12@h"};
	static const char *const want[] = {"***", "Bearer ***", "https://u:***@h"};
	char in[128], exp[128];
	(void)state;

	for (size_t k = 0; k < 3; k++)
		for (size_t at = 0; at < 40; at++) {
			memset(in, 'x', at);
			memcpy(in, "b:_", at < 3 ? at : 3); /* false starts before it */
			snprintf(in + at, sizeof(in) - at, "%s tail", shapes[k]);
			memcpy(exp, in, at);
			snprintf(exp + at, sizeof(exp) - at, "%s tail", want[k]);
			assert_string_equal(red(in), exp);
		}
}

/* Reads made of the bits, cut anywhere: redact_next never lets a line with
 * something to redact be skipped. */
static void check_spares_only_clean_lines(const char *const *bits, size_t nbits)
{
	char chunk[4096], red[4096];
	unsigned seed = 12345;

	for (int round = 0; round < 300; round++) {
		size_t n = 0;
		while (n < sizeof(chunk) - 64) {
			seed = seed * 1103515245 + 12345;
			const char *b = bits[(seed >> 16) % nbits];
			memcpy(chunk + n, b, strlen(b));
			n += strlen(b);
		}
		size_t mark = redact_next(chunk, 0, n), off = 0;
		while (off < n) {
			const char *nl = memchr(chunk + off, '\n', n - off);
			size_t len = nl ? (size_t)(nl - chunk) - off : n - off;
			if (mark < off)
				mark = redact_next(chunk, off, n);
			if (off + len <= mark) /* spared: it must have nothing to redact */
				assert_int_equal(redact_to(chunk + off, len, red, sizeof(red)),
						 (size_t)-1);
			else
				mark = redact_next(chunk, off + len, n);
			off += len + 1;
		}
	}
}

/* Lines made of shapes, a value and near misses. */
static void test_next_spares_only_clean_lines(void **state)
{
	static const char *const bits[] = {"plain words ",
					   TOK,
					   "Bearer abc123 ",
					   "https://u:pw12@h ",
					   "hf_short ",
					   "f_ ",
					   ":/ ",
					   "be ",
					   "dbpass123",
					   "dbpass12",
					   "b",
					   ":",
					   "_",
					   "batch 64/128 ",
					   "eta 00:12:34 ",
					   "ab\n",
					   "\n",
					   "http://x/ "};
	(void)state;

	assert_int_equal(redact_add("dbpass123", 9), 0);
	check_spares_only_clean_lines(bits, sizeof(bits) / sizeof(bits[0]));
}

/* More values than the vector scan looks for itself (the first four; the
 * rest with memchr), each with near misses: its first two bytes, all but its
 * last byte, and itself cut by a newline. */
static void test_next_spares_only_clean_lines_many_values(void **state)
{
	static const char *const values[] = {"alpha-secret-1", "bravo-secret-2", "charlie-pw",
					     "delta-pass-44",  "echo-secret-5",	 "foxtrot-key-6"};
	static const char *const bits[] = {"al ",
					   "alpha-secret- ",
					   "alpha-secret-1 ",
					   "br",
					   "bravo-secret-2",
					   "charlie-p",
					   "charlie-pw",
					   "de",
					   "delta-pass-4\n4",
					   "delta-pass-44 ",
					   "echo-secret-5",
					   "ec",
					   "foxtrot-key-",
					   "foxtrot-key-6",
					   "words ",
					   "\n",
					   "a\n"};
	char *none[] = {NULL}, **saved = environ;
	(void)state;

	environ = none; /* these values first, whatever the test's environment holds */
	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
		assert_int_equal(redact_add(values[v], strlen(values[v])), 0);
	environ = saved;
	check_spares_only_clean_lines(bits, sizeof(bits) / sizeof(bits[0]));
	/* and each is found where it is, after a run of near misses */
	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		char text[256];
		int k = snprintf(text, sizeof(text), "%.2s %.2s x %.*s %s tail", values[v],
				 values[v], (int)strlen(values[v]) - 1, values[v], values[v]);
		size_t at = (size_t)k - strlen(values[v]) - 5;
		assert_int_equal(redact_next(text, 0, (size_t)k), at);
	}
}

/* JSON strings are redacted only when the document asks for it. */
static void test_json_flag(void **state)
{
	struct json j;
	char *out;
	size_t len;

	(void)state;
	for (int red = 0; red < 2; red++) {
		json_init(&j, 0);
		j.redact = red;
		json_arr_begin(&j);
		json_str(&j, "t=" TOK "\"");
		json_str(&j, "plain");
		json_arr_end(&j);
		assert_int_equal(json_finish(&j, &out, &len), 0);
		assert_string_equal(out, red ? "[\"t=***\\\"\",\"plain\"]"
					     : "[\"t=" TOK "\\\"\",\"plain\"]");
		free(out);
	}
}

static char logged[4096];

static void capture(const char *line, size_t len, void *data)
{
	(void)data;
	snprintf(logged, sizeof(logged), "%.*s", (int)len, line);
}

/* hfinit's own lines: whatever they quote. */
static void test_log_lines(void **state)
{
	(void)state;
	assert_int_equal(redact_add("dbpass123", 9), 0);
	log_set_writer(capture, NULL);
	log_error("[svc] exited 1: login failed for %s at redis://u:dbpass123@h", TOK);
	log_set_writer(NULL, NULL);
	assert_string_equal(
	    logged, "hfinit: error: [svc] exited 1: login failed for *** at redis://u:***@h\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_names, setup),
	    cmocka_unit_test_setup(test_hub_tokens, setup),
	    cmocka_unit_test_setup(test_bearer, setup),
	    cmocka_unit_test_setup(test_url_passwords, setup),
	    cmocka_unit_test_setup(test_values, setup),
	    cmocka_unit_test_setup(test_env, setup),
	    cmocka_unit_test_setup(test_own_environment, setup),
	    cmocka_unit_test_setup(test_long_text, setup),
	    cmocka_unit_test_setup(test_every_offset, setup),
	    cmocka_unit_test_setup(test_next_spares_only_clean_lines, setup),
	    cmocka_unit_test_setup(test_next_spares_only_clean_lines_many_values, setup),
	    cmocka_unit_test_setup(test_json_flag, setup),
	    cmocka_unit_test_setup(test_log_lines, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
