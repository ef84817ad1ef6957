/* Unit tests: the x86_64 syscall-name table the binary links ahead of
 * libseccomp.a (scripts/gen-seccomp-names) answers exactly as libseccomp's
 * own table of every architecture: every name of its syscalls.csv, an
 * unknown one, every number from the pseudo-syscall range to 1100, and the
 * index walk. Here the generated file is compiled with its functions renamed,
 * beside the host's libseccomp (the same Debian version as build/deps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define syscall_resolve_name gen_resolve_name
#define syscall_resolve_num  gen_resolve_num
#define syscall_iterate	     gen_iterate
#include "seccomp_names.c"

static void test_every_name(void **state)
{
	const char *p = names;
	(void)state;
	for (size_t i = 0; i < NSYS; i++, p += strlen(p) + 1) {
		assert_int_equal(gen_resolve_name(p, OFFSET_X86_64),
				 seccomp_syscall_resolve_name(p));
		assert_string_equal(gen_iterate((unsigned)i, OFFSET_X86_64)->name, p);
	}
	assert_true(NSYS > 400);
	assert_int_equal(gen_resolve_name("nosuch", OFFSET_X86_64), __NR_SCMP_ERROR);
	assert_int_equal(seccomp_syscall_resolve_name("nosuch"), __NR_SCMP_ERROR);
	assert_int_equal(gen_resolve_name("read", OFFSET_X86_64 + 4), __NR_SCMP_ERROR); /* x32 */
	assert_null(gen_iterate((unsigned)NSYS, OFFSET_X86_64)->name);
}

static void test_every_number(void **state)
{
	(void)state;
	for (int n = -12000; n < 1100; n++) {
		char *want = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, n);
		const char *got = gen_resolve_num(n, OFFSET_X86_64);
		if (!want)
			assert_null(got);
		else
			assert_string_equal(got, want);
		free(want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_name),
	    cmocka_unit_test(test_every_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
