/* Unit tests: base/strv (length, push, extend, free, shell-quoted join). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/strv.h"

static void test_len_push_free(void **state)
{
	char **v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(strv_len(NULL), 0);
	assert_int_equal(strv_push(&v, &n, strdup("a")), 0);
	assert_int_equal(strv_push(&v, &n, strdup("b")), 0);
	assert_int_equal(n, 2);
	assert_int_equal(strv_len(v), 2);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	strv_free(v);
	strv_free(NULL);
}

static void test_extend(void **state)
{
	char *src[] = {"x", "y z", NULL};
	char *none[] = {NULL};
	char **v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(strv_extend(&v, none), 0); /* an empty vector, not NULL */
	assert_non_null(v);
	assert_int_equal(strv_len(v), 0);
	assert_int_equal(strv_extend(&v, src), 0);
	assert_int_equal(strv_extend(&v, NULL), 0);
	n = strv_len(v);
	assert_int_equal(n, 2);
	assert_ptr_not_equal(v[0], src[0]); /* copies */
	assert_int_equal(strv_push(&v, &n, strdup("w")), 0);
	assert_int_equal(strv_extend(&v, src), 0);
	assert_int_equal(strv_len(v), 5);
	assert_string_equal(v[1], "y z");
	assert_string_equal(v[2], "w");
	assert_string_equal(v[4], "y z");
	strv_free(v);
}

static void test_join_quotes(void **state)
{
	static const struct {
		char *v[4];
		const char *want;
	} cases[] = {
	    {{NULL}, ""},
	    {{"node", "dist/index.js", NULL}, "node dist/index.js"},
	    {{"a b", NULL}, "'a b'"},
	    {{"", NULL}, "''"},
	    {{"it's", NULL}, "'it'\\''s'"},
	    {{"--k=v,w", "@x%", "+1", NULL}, "--k=v,w @x% +1"},
	    {{"$HOME", "a;b", "*", NULL}, "'$HOME' 'a;b' '*'"},
	    {{"''", NULL}, "''\\'''\\'''"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = strv_join(cases[i].v);
		assert_non_null(s);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
	char *s = strv_join(NULL);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_len_push_free),
	    cmocka_unit_test(test_extend),
	    cmocka_unit_test(test_join_quotes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
