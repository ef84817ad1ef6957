/* Unit tests: the JSON writer (structure, commas, escaping, UTF-8 repair). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static char *finish(struct json *j)
{
	char *out = NULL;

	assert_int_equal(json_finish(j, &out, NULL), 0);
	return out;
}

static void test_structure(void **state)
{
	struct json j;
	char *s;

	(void)state;
	json_init(&j, 0);
	json_obj_begin(&j);
	json_kstr(&j, "a", "x");
	json_kint(&j, "n", -42);
	json_kbool(&j, "t", 1);
	json_key(&j, "arr");
	json_arr_begin(&j);
	json_int(&j, 1);
	json_null(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_kstr(&j, "nul", NULL);
	json_obj_end(&j);
	s = finish(&j);
	assert_string_equal(
	    s, "{\"a\":\"x\",\"n\":-42,\"t\":true,\"arr\":[1,null,{},[]],\"nul\":null}");
	free(s);
}

static void test_pretty(void **state)
{
	struct json j;
	char *s;

	(void)state;
	json_init(&j, 1);
	json_obj_begin(&j);
	json_kint(&j, "a", 1);
	json_key(&j, "b");
	json_arr_begin(&j);
	json_str(&j, "x");
	json_arr_end(&j);
	json_obj_end(&j);
	s = finish(&j);
	assert_string_equal(s, "{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ]\n}");
	free(s);
}

/* fold = 1: an object whose items are deeper than 1 is one line, with what
 * is inside it; an array at that depth is not folded, its objects are. */
static void test_fold(void **state)
{
	struct json j;
	char *s;

	(void)state;
	json_init(&j, 1);
	j.fold = 1;
	json_obj_begin(&j);
	json_kint(&j, "a", 1);
	json_key(&j, "o");
	json_obj_begin(&j);
	json_kint(&j, "x", 1);
	json_key(&j, "in");
	json_obj_begin(&j);
	json_key(&j, "e");
	json_obj_begin(&j);
	json_obj_end(&j);
	json_key(&j, "l");
	json_arr_begin(&j);
	json_int(&j, 2);
	json_int(&j, 3);
	json_arr_end(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	json_key(&j, "arr");
	json_arr_begin(&j);
	json_obj_begin(&j);
	json_kint(&j, "y", 2);
	json_kstr(&j, "z", "w");
	json_obj_end(&j);
	json_int(&j, 4);
	json_arr_end(&j);
	json_obj_end(&j);
	s = finish(&j);
	assert_string_equal(
	    s, "{\n  \"a\": 1,\n  \"o\": {\"x\": 1, \"in\": {\"e\": {}, \"l\": [2, 3]}},"
	       "\n  \"arr\": [\n    {\"y\": 2, \"z\": \"w\"},\n    4\n  ]\n}");
	free(s);
}

static void test_escaping(void **state)
{
	struct json j;
	char *s;

	(void)state;
	json_init(&j, 0);
	json_str(&j, "q\"b\\n\n\r\t\b\f\x01\x1f\x7f/é€😀");
	s = finish(&j);
	assert_string_equal(s, "\"q\\\"b\\\\n\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f/é€😀\"");
	free(s);
}

static void test_invalid_utf8(void **state)
{
	/* lone continuation, truncated sequence, overlong '/', surrogate, > U+10FFFF */
	const char in[] = "a\x80"
			  "b\xe2\x82"
			  "c\xc0\xaf"
			  "d\xed\xa0\x80"
			  "e\xf4\x90\x80\x80"
			  "f";
	struct json j;
	char *s;

	(void)state;
	json_init(&j, 0);
	json_strn(&j, in, sizeof(in) - 1);
	s = finish(&j);
	assert_string_equal(s,
			    "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\\ufffd"
			    "\\ufffd\\ufffd\\ufffdf\"");
	free(s);
}

static void test_embedded_nul(void **state)
{
	struct json j;
	char *s;

	(void)state;
	json_init(&j, 0);
	json_strn(&j, "a\0b", 3);
	s = finish(&j);
	assert_string_equal(s, "\"a\\u0000b\"");
	free(s);
}

static void test_unbalanced(void **state)
{
	struct json j;
	char *s = NULL;

	(void)state;
	json_init(&j, 0);
	json_obj_begin(&j);
	json_key(&j, "a");
	assert_int_equal(json_finish(&j, &s, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(s);

	json_init(&j, 0);
	json_arr_end(&j);
	assert_int_equal(json_finish(&j, &s, NULL), -1);

	json_init(&j, 0);
	json_arr_begin(&j);
	json_key(&j, "k"); /* a key inside an array */
	json_arr_end(&j);
	assert_int_equal(json_finish(&j, &s, NULL), -1);
}

static void test_large(void **state)
{
	struct json j;
	char *s;
	size_t len;

	(void)state;
	json_init(&j, 0);
	json_arr_begin(&j);
	for (int i = 0; i < 10000; i++)
		json_str(&j, "0123456789");
	json_arr_end(&j);
	assert_int_equal(json_finish(&j, &s, &len), 0);
	assert_int_equal(len, 2 + 10000 * 13 - 1);
	free(s);
}

/* The fixed-buffer escaper (hfinit's own log lines) writes what json_escape
 * writes, and when it must cut, it cuts before an escape or a UTF-8 sequence. */
static void test_escape_to(void **state)
{
	static const char in[] = "a\"\xc3\xa9\xff\x01\xe2\x82\xac\\z";
	static const char want[] = "a\\\"\xc3\xa9\\ufffd\\u0001\xe2\x82\xac\\\\z";
	char out[64];
	(void)state;

	assert_int_equal(json_escape_to(out, sizeof(out), in, sizeof(in) - 1), sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	/* every capacity: a prefix of the whole, ending on a piece boundary */
	static const size_t ends[] = {0, 1, 3, 5, 11, 17, 20, 22, 23};
	for (size_t cap = 0; cap < sizeof(want); cap++) {
		size_t n = json_escape_to(out, cap, in, sizeof(in) - 1), best = 0;
		for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++)
			if (ends[k] <= cap)
				best = ends[k];
		assert_int_equal(n, best);
		assert_memory_equal(out, want, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure),	 cmocka_unit_test(test_pretty),
	    cmocka_unit_test(test_fold),	 cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_embedded_nul),
	    cmocka_unit_test(test_unbalanced),	 cmocka_unit_test(test_large),
	    cmocka_unit_test(test_escape_to),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
