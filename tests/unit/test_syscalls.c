/* Unit tests: plan/syscalls.c, the syscall-name check with did-you-mean that
 * the config parser calls for deny = and allow =. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "plan/syscalls.h"

static void test_names(void **state)
{
	struct err e = {0};
	char big[100];

	(void)state;
	assert_int_equal(syscall_name_check("execve", &e), 0);
	assert_int_equal(syscall_name_check("umount2", &e), 0);
	assert_int_equal(syscall_name_check("umont2", &e), -1);
	assert_string_equal(e.msg, "unknown syscall \"umont2\" (did you mean umount2?); expected "
				   "syscall names of this architecture");
	assert_int_equal(syscall_name_check("ptrcae", &e), -1);
	assert_string_equal(e.msg, "unknown syscall \"ptrcae\" (did you mean ptrace?); expected "
				   "syscall names of this architecture");
	assert_int_equal(syscall_name_check("zzzzzzzzzz", &e), -1);
	assert_string_equal(e.msg, "unknown syscall \"zzzzzzzzzz\"; expected syscall names of "
				   "this architecture");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(syscall_name_check(big, &e), -1); /* too long to compare: no hint */
	assert_null(strstr(e.msg, "did you mean"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
