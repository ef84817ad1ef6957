/* Unit tests: script lookup and app dirs (plan/script.c) in fake trees. Runs
 * as root; some cases switch to uid 1000. */
#include "faketree.h"

#include "base/strv.h"
#include "plan/python.h"
#include "plan/script.h"

/* --- scripts ------------------------------------------------------------------ */

static void test_scripts(void **state)
{
	char *ad[] = {(char *)at("a"), (char *)at("b"), NULL};
	struct script_plan sp;
	struct resolve_user u;
	struct err e;

	(void)state;
	ad[0] = strdup(at("a"));
	ad[1] = strdup(at("b"));
	mk("a/w.py", NULL, 0755); /* a directory */
	mk("a/dist", NULL, 0755);
	ln("/nonexistent", "a/dist/w.py");
	mk("b/src/w.py", "print(1)\n", 0600);
	assert_int_equal(resolve_script("./w.py", ad, NULL, &sp, &e), 0);
	assert_true(sp.found);
	assert_string_equal(sp.path, at("b/src/w.py"));
	assert_int_equal(sp.ntried, 6);
	assert_int_equal(sp.tried[0].verdict, SV_NOT_FILE);
	assert_int_equal(sp.tried[1].verdict, SV_DANGLING);
	assert_int_equal(sp.tried[2].verdict, SV_MISSING);
	assert_string_equal(sp.tried[2].path, at("a/src/w.py"));
	assert_int_equal(sp.tried[3].verdict, SV_MISSING);
	assert_int_equal(sp.tried[5].verdict, SV_OK);
	script_plan_free(&sp);

	/* 0600 root file: not readable for uid 1000 */
	assert_int_equal(resolve_user_lookup("1000", NULL, &u, &e), 0);
	assert_int_equal(resolve_script("w.py", ad, &u.as, &sp, &e), 0);
	assert_false(sp.found);
	assert_int_equal(sp.tried[5].verdict, SV_NOT_READABLE);
	assert_string_equal(sp.tried[5].detail,
			    "mode 0600, owner uid 0 (checked as the service user)");
	script_plan_free(&sp);

	assert_int_equal(resolve_script(at("b/src/w.py"), ad, NULL, &sp, &e), 0);
	assert_true(sp.found);
	assert_int_equal(sp.ntried, 1);
	script_plan_free(&sp);
	free(ad[0]);
	free(ad[1]);
}

static void test_app_dirs(void **state)
{
	char *conf[] = {"/srv/x/", ".", "rel/dir", "/srv/x", NULL};
	char cwd[512], want[600];
	char **v;
	struct err e;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(resolve_app_dirs(conf, &v, &e), 0);
	assert_string_equal(v[0], "/srv/x");
	assert_string_equal(v[1], cwd);
	snprintf(want, sizeof(want), "%s/rel/dir", cwd);
	assert_string_equal(v[2], want);
	assert_null(v[3]);
	strv_free(v);

	setenv("APP_DIR", "/srv/app", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(resolve_app_dirs(NULL, &v, &e), 0);
	assert_string_equal(v[0], "/srv/app");
	assert_string_equal(v[1], "/app");
	assert_string_equal(v[2], "/home/u/app");
	assert_string_equal(v[3], cwd);
	assert_null(v[4]);
	strv_free(v);
	unsetenv("APP_DIR");
	assert_int_equal(resolve_wants_unbuffered(NULL), 1);
	assert_int_equal(resolve_wants_unbuffered((char *[]){"A=1", "PYTHONUNBUFFERED=0", NULL}),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_scripts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_app_dirs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
