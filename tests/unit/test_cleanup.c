/* base/cleanup.h: what a cleanup attribute releases when its variable goes
 * out of scope (leaks would fail the run: ASan's leak check is on). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/cleanup.h"

static int early_return(int *fd_seen, bool fail)
{
	cleanup_free char *buf = malloc(64);
	cleanup_fd int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cleanup_strv char **v = NULL;
	size_t n = 0;

	assert_non_null(buf);
	assert_true(fd >= 0);
	*fd_seen = fd;
	assert_int_equal(strv_push(&v, &n, strdup("a")), 0);
	if (fail)
		return -1; /* every one of them released here */
	strcpy(buf, "ok");
	return 0;
}

static void test_released_on_every_return(void **state)
{
	int fd = -1;

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(early_return(&fd, i == 1), i == 1 ? -1 : 0);
		errno = 0;
		assert_int_equal(fcntl(fd, F_GETFD), -1);
		assert_int_equal(errno, EBADF);
	}
}

static void test_unset_values_are_left_alone(void **state)
{
	(void)state;
	{
		cleanup_free char *p = NULL;
		cleanup_fd int fd = -1;
		cleanup_strv char **v = NULL;
		(void)p;
		(void)fd;
		(void)v;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_released_on_every_return),
	    cmocka_unit_test(test_unset_values_are_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
