/* Unit tests: the status dir choice and the open rules (plan/statusdir.c) in a
 * fake tree. Runs as root. (From test_resolve.c; test_statusdir.c holds the
 * candidate table and the readers' search, with a fixture of its own.) */
#include "faketree.h"

#include "plan/statusdir.h"

/* --- status dir -------------------------------------------------------------- */

static void test_statusdir(void **state)
{
	struct statusdir sd;
	struct err e;

	(void)state;
	mk("status", NULL, 0755);
	setenv("HFINIT_STATUS_DIR", at("status"), 1);
	assert_int_equal(statusdir_choose(&sd, NULL, 0, &e), 0);
	assert_string_equal(statusdir_path(&sd), at("status"));
	assert_string_equal(sd.tried[0].source, "HFINIT_STATUS_DIR");

	mk("afile", "x", 0644);
	setenv("HFINIT_STATUS_DIR", at("afile"), 1);
	assert_int_equal(statusdir_choose(&sd, NULL, 0, &e), -1);
	assert_int_equal(sd.ntried, 1); /* explicit: no fallback */
	assert_string_equal(sd.tried[0].why, "exists and is not a directory");

	setenv("HFINIT_STATUS_DIR", at("new/sub"), 1);
	assert_int_equal(statusdir_choose(&sd, NULL, 0, &e), -1);
	assert_true(strstr(sd.tried[0].why, "missing, and so is its parent") != NULL);
	assert_int_equal(statusdir_choose(&sd, NULL, 0, &e), -1);

	setenv("HFINIT_STATUS_DIR", at("status/made"), 1);
	assert_int_equal(statusdir_choose(&sd, NULL, 0, &e), 0);
	assert_false(sd.tried[0].exists);
	assert_int_equal(statusdir_choose(&sd, NULL, 1, &e), 0);
	assert_true(sd.tried[0].exists);
	assert_true(sd.dirfd >= 0); /* open, for the writer */
	assert_int_equal(close(sd.dirfd), 0);

	unsetenv("HFINIT_STATUS_DIR");
	assert_int_equal(statusdir_choose(&sd, at("status"), 0, &e), 0);
	assert_string_equal(sd.tried[0].source, "config");
}

/* The rules for an automatic status dir (and the fallback HOME): no link
 * followed, no dir of a third uid or writable by others adopted. */
static void test_statusdir_open_rules(void **state)
{
	char why[256];
	struct stat st;
	int fd;

	(void)state;
	mk("auto", NULL, 0755);
	assert_int_equal(symlink(at("auto"), at("auto-link")), 0);
	assert_int_equal(statusdir_open(at("auto-link"), 0, why, sizeof(why)), -1);
	assert_string_equal(why, "a symlink or not a directory");
	fd = statusdir_open(at("auto-link"), 1, why, sizeof(why)); /* explicit: followed */
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);

	mk("theirs", NULL, 0755);
	assert_int_equal(chown(at("theirs"), 4321, 4321), 0);
	assert_int_equal(statusdir_open(at("theirs"), 0, why, sizeof(why)), -1);
	assert_string_equal(why, "owned by uid 4321, neither root nor uid 0");
	mk("open", NULL, 0755);
	assert_int_equal(chmod(at("open"), 0777), 0);
	assert_int_equal(statusdir_open(at("open"), 0, why, sizeof(why)), -1);
	assert_string_equal(why, "writable by group or others (mode 0777)");

	/* made: 0755 whatever the umask; nothing left from the write test */
	umask(077);
	fd = statusdir_open(at("auto/made"), 0, why, sizeof(why));
	umask(022);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_nlink, 2); /* empty */
	assert_int_equal(close(fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_statusdir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statusdir_open_rules, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
