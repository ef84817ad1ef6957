/* Unit tests: user and group lookup (plan/user.c). Runs as root. */
#include "faketree.h"

#include "plan/user.h"

static void test_user_lookup(void **state)
{
	struct resolve_user u;
	struct err e;

	(void)state;
	assert_int_equal(resolve_user_lookup("root", NULL, &u, &e), 0);
	assert_int_equal(u.as.uid, 0);
	assert_string_equal(u.home, "/root");
	assert_int_equal(resolve_user_lookup("54321", "54322", &u, &e), 0);
	assert_int_equal(u.as.uid, 54321);
	assert_int_equal(u.as.gid, 54322);
	assert_int_equal(resolve_user_lookup("no-such-user-h5", NULL, &u, &e), -1);
	assert_string_equal(e.msg, "user no-such-user-h5 does not exist (not in /etc/passwd)");
	assert_int_equal(resolve_user_lookup("root", "no-such-group-h5", &u, &e), -1);
	assert_string_equal(e.msg, "group no-such-group-h5 does not exist (not in /etc/group)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_user_lookup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
