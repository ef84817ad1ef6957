/* Unit tests: the status-dir candidate table, the writer's choice and the
 * readers' search given an environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/statusdir.h"

static char tmp[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/hfinit-test-statusdir-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	unsetenv("HFINIT_STATUS_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	return 0;
}

static int teardown(void **state)
{
	char p[PATH_MAX];
	(void)state;
	unsetenv("HFINIT_STATUS_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	snprintf(p, sizeof(p), "%s/hfinit/status.json", tmp);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/hfinit", tmp);
	(void)rmdir(p);
	return rmdir(tmp);
}

static void test_auto_table(void **state)
{
	struct statusdir_cand c[STATUSDIR_MAX_AUTO];
	(void)state;

	assert_int_equal(statusdir_auto(c), 2);
	assert_string_equal(c[0].path, "/run/hfinit");
	assert_string_equal(c[0].source, "default");
	assert_string_equal(c[1].path, "/tmp/hfinit");
	setenv("XDG_RUNTIME_DIR", "", 1); /* empty: as if unset */
	assert_int_equal(statusdir_auto(c), 2);
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	assert_int_equal(statusdir_auto(c), 3);
	assert_string_equal(c[0].path, "/run/hfinit");
	assert_string_equal(c[1].path, "/run/user/1000/hfinit");
	assert_string_equal(c[1].source, "XDG_RUNTIME_DIR");
	assert_string_equal(c[2].path, "/tmp/hfinit");
}

/* The writer walks the same table: what it tried is a prefix of it, and it
 * stops at the first usable one. */
static void test_choose_walks_the_table(void **state)
{
	struct statusdir_cand c[STATUSDIR_MAX_AUTO];
	struct statusdir sd;
	struct err e;
	int n;
	(void)state;

	setenv("XDG_RUNTIME_DIR", tmp, 1);
	n = statusdir_auto(c);
	if (statusdir_choose(&sd, "auto", 0, &e) == 0) {
		assert_int_equal(sd.chosen, sd.ntried - 1);
		assert_true(sd.tried[sd.chosen].usable);
	}
	assert_false(sd.explicit_choice);
	assert_true(sd.ntried >= 1 && sd.ntried <= n);
	for (int i = 0; i < sd.ntried; i++) {
		assert_string_equal(sd.tried[i].path, c[i].path);
		assert_string_equal(sd.tried[i].source, c[i].source);
	}
	/* the operator's choice: no table, no fallback */
	setenv("HFINIT_STATUS_DIR", "relative/dir", 1);
	assert_int_equal(statusdir_choose(&sd, NULL, 0, &e), -1);
	assert_int_equal(sd.ntried, 1);
	assert_string_equal(sd.tried[0].why, "not an absolute path");
	assert_true(sd.explicit_choice);
}

/* The readers: -d first, then $HFINIT_STATUS_DIR, then the first candidate
 * of the table that holds a status.json. */
static void test_find(void **state)
{
	char dir[PATH_MAX], looked[STATUSDIR_LOOKED_MAX], p[PATH_MAX];
	FILE *f;
	int run_has;
	(void)state;

	setenv("HFINIT_STATUS_DIR", "/from/env", 1);
	assert_int_equal(
	    statusdir_find("/from/opt", "/from/conf", dir, sizeof(dir), looked, sizeof(looked)), 0);
	assert_string_equal(dir, "/from/opt");
	assert_int_equal(statusdir_find(NULL, NULL, dir, sizeof(dir), looked, sizeof(looked)), 0);
	assert_string_equal(dir, "/from/env");
	/* the variable beats the config, as for the writer */
	assert_int_equal(
	    statusdir_find(NULL, "/from/conf", dir, sizeof(dir), looked, sizeof(looked)), 0);
	assert_string_equal(dir, "/from/env");
	unsetenv("HFINIT_STATUS_DIR");
	assert_int_equal(
	    statusdir_find(NULL, "/from/conf", dir, sizeof(dir), looked, sizeof(looked)), 0);
	assert_string_equal(dir, "/from/conf");
	assert_string_equal(looked, "/from/conf");
	setenv("XDG_RUNTIME_DIR", tmp, 1);
	run_has = access("/run/hfinit/status.json", F_OK) == 0; /* a real hfinit's here */
	if (!run_has && access("/tmp/hfinit/status.json", F_OK) != 0) {
		assert_int_equal(
		    statusdir_find(NULL, NULL, dir, sizeof(dir), looked, sizeof(looked)), -1);
		snprintf(p, sizeof(p), "/run/hfinit, %s/hfinit, /tmp/hfinit", tmp);
		assert_string_equal(looked, p);
	}
	snprintf(p, sizeof(p), "%s/hfinit", tmp);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/hfinit/status.json", tmp);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(statusdir_find(NULL, NULL, dir, sizeof(dir), looked, sizeof(looked)), 0);
	snprintf(p, sizeof(p), "%s/hfinit", tmp);
	assert_string_equal(dir, run_has ? "/run/hfinit" : p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_auto_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_choose_walks_the_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
