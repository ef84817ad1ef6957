/* Unit tests: the JSON reader's tree (base/jsonread.c): types, keys, decoded
 * strings, exact and inexact numbers, the lookups, and where it fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/jsonread.h"

static int parse(const char *doc, struct jr *v)
{
	size_t at = 0;

	return jr_parse(doc, strlen(doc), v, &at);
}

static void test_tree(void **state)
{
	const char *doc =
	    "{\"name\": \"w\\u00e9b\", \"n\": 42, \"neg\": -7, \"big\": 9007199254740993,"
	    " \"f\": 1.5, \"e\": 1e3, \"ok\": true, \"no\": false, \"nil\": null,"
	    " \"list\": [1, \"two\", {}], \"obj\": {\"k\": \"v\"}}";
	const struct jr *list, *obj;
	struct jr v;
	long long x = -1;
	(void)state;

	assert_int_equal(parse(doc, &v), 0);
	assert_int_equal(v.type, JR_OBJ);
	assert_int_equal(v.n, 11);
	assert_string_equal(v.keys[0], "name");
	assert_string_equal(jr_str(&v, "name"), "w\xc3\xa9"
						"b");
	assert_int_equal(jr_num(&v, "n", &x), 1);
	assert_int_equal(x, 42);
	assert_int_equal(jr_num(&v, "neg", &x), 1);
	assert_int_equal(x, -7);
	/* beyond +-9e15, fractions and exponents parse but are not exact */
	assert_int_equal(jr_num(&v, "big", &x), 0);
	assert_int_equal(jr_num(&v, "f", &x), 0);
	assert_int_equal(jr_num(&v, "e", &x), 0);
	assert_int_equal(jr_get(&v, "ok")->type, JR_BOOL);
	assert_int_equal(jr_get(&v, "ok")->b, 1);
	assert_int_equal(jr_get(&v, "no")->b, 0);
	assert_int_equal(jr_get(&v, "nil")->type, JR_NULL);
	/* lookups of the wrong type or a missing key say nothing */
	assert_null(jr_str(&v, "n"));
	assert_int_equal(jr_num(&v, "name", &x), 0);
	assert_null(jr_get(&v, "missing"));
	list = jr_get(&v, "list");
	assert_int_equal(list->type, JR_ARR);
	assert_int_equal(list->n, 3);
	assert_null(list->keys);
	assert_null(jr_get(list, "x")); /* not an object */
	assert_string_equal(list->items[1].str, "two");
	assert_int_equal(list->items[2].type, JR_OBJ);
	assert_int_equal(list->items[2].n, 0);
	obj = jr_get(&v, "obj");
	assert_string_equal(jr_str(obj, "k"), "v");
	assert_null(jr_get(NULL, "k"));
	jr_free(&v);
	assert_int_equal(v.n, 0); /* freed and cleared: a second free is harmless */
	jr_free(&v);
}

static void test_strings(void **state)
{
	struct jr v;
	(void)state;

	assert_int_equal(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", &v), 0);
	assert_string_equal(v.str, "a\"b\\c/d\b\f\n\r\t");
	jr_free(&v);
	/* a surrogate pair is one code point; a lone surrogate is U+FFFD */
	assert_int_equal(parse("\"\\ud83d\\ude00|\\ud800|\\u0041\"", &v), 0);
	assert_string_equal(v.str, "\xf0\x9f\x98\x80|\xef\xbf\xbd|A");
	jr_free(&v);
	/* raw UTF-8 passes through */
	assert_int_equal(parse("\"caf\xc3\xa9\"", &v), 0);
	assert_string_equal(v.str, "caf\xc3\xa9");
	jr_free(&v);
}

static void test_errors(void **state)
{
	struct jr v;
	size_t at = 0;
	const char *doc = "{\"a\": [1, 2, }";
	(void)state;

	assert_int_equal(jr_parse(doc, strlen(doc), &v, &at), -1);
	assert_int_equal(at, 13);
	assert_int_equal(v.type, JR_NULL); /* nothing left to free */
	assert_int_equal(v.n, 0);
	/* length-bounded: bytes after len are never read */
	assert_int_equal(jr_parse("[1]garbage", 3, &v, &at), 0);
	assert_int_equal(v.items[0].num, 1);
	jr_free(&v);
	assert_int_equal(jr_parse("\"ab\"", 3, &v, &at), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
