/* Unit tests: base/err (struct err: err_set and err_sys clear the category and
 * hint, err_hint sets them, err_wrap keeps the code, NULL is allowed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/err.h"

static void test_set_clears_hint(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	assert_int_equal(err_hint(&e, "port-taken", "stop what holds port %d", 7860), -1);
	assert_string_equal(e.category, "port-taken");
	assert_string_equal(e.hint, "stop what holds port 7860");
	assert_int_equal(err_set(&e, EINVAL, "bad %s", "value"), -1);
	assert_int_equal(e.code, EINVAL);
	assert_string_equal(e.msg, "bad value");
	assert_null(e.category);
	assert_string_equal(e.hint, "");
}

static void test_sys_appends_strerror(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	err_hint(&e, "x", "y");
	errno = ENOENT;
	assert_int_equal(err_sys(&e, "open %s", "/etc/hfinit/hfinit.ini"), -1);
	assert_int_equal(errno, ENOENT); /* preserved */
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(e.msg, "open /etc/hfinit/hfinit.ini: No such file or directory");
	assert_null(e.category);
	assert_string_equal(e.hint, "");
}

static void test_hint_keeps_message(void **state)
{
	struct err e;

	(void)state;
	err_set(&e, 0, "ModuleNotFoundError: No module named 'torch'");
	assert_int_equal(err_hint(&e, "missing-dependency", "install %s", "torch"), -1);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "ModuleNotFoundError: No module named 'torch'");
	assert_string_equal(e.category, "missing-dependency");
	assert_string_equal(e.hint, "install torch");
	err_hint(&e, NULL, "%s", ""); /* both can be cleared again */
	assert_null(e.category);
	assert_string_equal(e.hint, "");
}

static void test_wrap_keeps_code(void **state)
{
	struct err e;
	char big[2000];

	(void)state;
	errno = EACCES;
	err_sys(&e, "open x");
	err_hint(&e, "permission", "chmod it");
	assert_int_equal(err_wrap(&e, "service %s", "web"), -1);
	assert_int_equal(e.code, EACCES);
	assert_string_equal(e.msg, "service web: open x: Permission denied");
	assert_string_equal(e.category, "permission"); /* context only: hint stays */
	assert_string_equal(e.hint, "chmod it");

	/* a long context and message are cut, the context first; always terminated */
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, 1, "%s", big);
	err_wrap(&e, "%s", big);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_int_equal(strncmp(e.msg, "ccc", 3), 0);
	assert_non_null(strstr(e.msg, ": c"));
	assert_int_equal(e.code, 1);
}

static void test_long_hint_truncated(void **state)
{
	struct err e;
	char big[600];

	(void)state;
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_clear(&e);
	err_hint(&e, "c", "%s", big);
	assert_int_equal(strlen(e.hint), sizeof(e.hint) - 1);
}

static void test_null_and_clear(void **state)
{
	struct err e;

	(void)state;
	assert_int_equal(err_set(NULL, 1, "x"), -1);
	errno = EIO;
	assert_int_equal(err_sys(NULL, "x"), -1);
	assert_int_equal(err_wrap(NULL, "x"), -1);
	assert_int_equal(err_hint(NULL, "c", "x"), -1);
	err_clear(NULL);
	err_set(&e, EIO, "m");
	err_hint(&e, "c", "h");
	err_clear(&e);
	assert_int_equal(e.code, 0);
	assert_string_equal(e.msg, "");
	assert_null(e.category);
	assert_string_equal(e.hint, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_clears_hint),	cmocka_unit_test(test_sys_appends_strerror),
	    cmocka_unit_test(test_hint_keeps_message),	cmocka_unit_test(test_wrap_keeps_code),
	    cmocka_unit_test(test_long_hint_truncated), cmocka_unit_test(test_null_and_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
