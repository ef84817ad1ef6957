/* Unit tests: the Python candidate walk (plan/python.c) in fake trees (real
 * processes: the fake "pythons" are shell scripts). Runs as root; some cases
 * switch to uid 1000. */
#include "faketree.h"

#include "plan/python.h"

/* --- python ------------------------------------------------------------------ */

static char *dirs[3];

static struct python_plan resolve(int check_all, const char *conf)
{
	struct python_opts o = {
	    .conf_python = conf, .timeout_ms = 500, .app_dirs = dirs, .check_all = check_all};
	struct python_plan p;
	struct err e;

	dirs[0] = (char *)at("app");
	dirs[1] = NULL;
	assert_int_equal(resolve_python(&o, &p, &e), 0);
	return p;
}

static const struct py_candidate *find(const struct python_plan *p, const char *path)
{
	for (size_t i = 0; i < p->ncands; i++)
		if (strcmp(p->cands[i].path, path) == 0)
			return &p->cands[i];
	fail_msg("no candidate %s", path);
	return NULL;
}

static void test_python_order_and_verdicts(void **state)
{
	struct python_plan p;
	const struct py_candidate *c;

	(void)state;
	mk("app/.venv/bin", NULL, 0755);
	ln("/nonexistent/python3.11", "app/.venv/bin/python3");
	mk("app/.venv/bin/python", fakepy("3.11.7"), 0644); /* no x bit */
	mk("app/venv/bin/python3", "#!/bin/sh\necho 'boom: broken' >&2\nexit 1\n", 0755);
	mk("app/venv/bin/python", "#!/bin/sh\nexec sleep 30\n", 0755);
	mk("home/.venv/bin/python3", fakepy("3.12.1"), 0755);
	mk("bin/python3", fakepy("3.10.0"), 0755);

	p = resolve(1, NULL);
	assert_string_equal(p.cands[0].source, "PYTHON_PATH");
	assert_int_equal(p.cands[0].verdict, PV_UNSET);
	assert_string_equal(p.cands[1].source, "config");
	assert_int_equal(p.cands[1].verdict, PV_UNSET);
	c = find(&p, at("app/.venv/bin/python3"));
	assert_int_equal(c->verdict, PV_DANGLING);
	assert_string_equal(c->detail, "-> /nonexistent/python3.11 (does not exist)");
	assert_int_equal(find(&p, at("app/.venv/bin/python"))->verdict, PV_NOT_EXEC);
	c = find(&p, at("app/venv/bin/python3"));
	assert_int_equal(c->verdict, PV_EXITED);
	assert_string_equal(c->detail, "1: boom: broken");
	c = find(&p, at("app/venv/bin/python"));
	assert_int_equal(c->verdict, PV_TIMEOUT);
	assert_string_equal(c->detail, "no answer after 500 ms");
	assert_true(p.chosen >= 0);
	c = &p.cands[p.chosen];
	assert_string_equal(c->path, at("home/.venv/bin/python3"));
	assert_string_equal(c->source, "venv");
	assert_string_equal(c->version, "3.12.1");
	assert_string_equal(c->executable, at("home/.venv/bin/python3"));
	/* check_all: later ones evaluated too */
	assert_int_equal(find(&p, at("bin/python3"))->verdict, PV_OK);
	assert_int_equal(find(&p, "/opt/venv")->verdict, PV_MISSING);
	python_plan_free(&p);

	/* Without check_all: stops at the winner. */
	p = resolve(0, NULL);
	assert_string_equal(p.cands[p.ncands - 1].path, at("home/.venv/bin/python3"));
	assert_int_equal((size_t)p.chosen, p.ncands - 1);
	python_plan_free(&p);
}

static void test_python_path_order_and_dedup(void **state)
{
	struct python_plan p;
	char path[600];
	size_t n = 0;

	(void)state;
	mk("bin/python3", fakepy("3.10.0"), 0755);
	mk("bin2/python3", fakepy("3.9.0"), 0755);
	snprintf(path, sizeof(path), "%s:%s", at("bin2"), at("bin"));
	setenv("PATH", path, 1);
	p = resolve(0, NULL);
	assert_true(p.chosen >= 0);
	assert_string_equal(p.cands[p.chosen].path, at("bin2/python3"));
	assert_string_equal(p.cands[p.chosen].source, "PATH");
	python_plan_free(&p);

	/* The venv's interpreter is also first on PATH: listed once. */
	snprintf(path, sizeof(path), "%s:%s", at("bin"), at("bin2"));
	setenv("PATH", path, 1);
	setenv("VIRTUAL_ENV", tmp, 1);
	p = resolve(1, NULL);
	assert_string_equal(p.cands[p.chosen].path, at("bin/python3"));
	assert_string_equal(p.cands[p.chosen].source, "VIRTUAL_ENV");
	for (size_t i = 0; i < p.ncands; i++)
		if (strcmp(p.cands[i].path, at("bin/python3")) == 0)
			n++;
	assert_int_equal(n, 1);
	python_plan_free(&p);
	unsetenv("VIRTUAL_ENV");
}

static void test_python_path_env(void **state)
{
	struct python_plan p;

	(void)state;
	mk("bin/python3", fakepy("3.10.0"), 0755);
	mk("venvdir/bin/python3", fakepy("3.11.0"), 0755);
	setenv("PYTHON_PATH", at("venvdir"), 1);
	p = resolve(1, NULL);
	assert_int_equal(p.chosen, -1);
	assert_int_equal(p.explicit_failed, 1);
	assert_int_equal(p.cands[0].verdict, PV_NOT_FILE);
	assert_true(strstr(p.error, "$PYTHON_PATH=") != NULL);
	assert_true(strstr(p.hint, "not a directory (did you mean ") != NULL);
	assert_true(strstr(p.hint, at("venvdir/bin/python3")) != NULL);
	assert_true(strstr(p.hint, "PYTHONPATH (no underscore)") != NULL);
	assert_true(strstr(p.hint, "Without it, ") != NULL);
	python_plan_free(&p);

	setenv("PYTHON_PATH", "/usr/lib/python3:/app/lib", 1);
	p = resolve(0, NULL);
	assert_int_equal(p.chosen, -1);
	assert_int_equal(p.ncands, 1); /* no fallback without check_all */
	assert_true(strstr(p.hint, "colon-separated list") != NULL);
	python_plan_free(&p);

	mk("broken", "#!/bin/sh\nexit 7\n", 0755);
	setenv("PYTHON_PATH", at("broken"), 1);
	p = resolve(0, NULL);
	assert_int_equal(p.chosen, -1);
	assert_int_equal(p.cands[0].verdict, PV_EXITED);
	assert_string_equal(p.hint, "fix or unset PYTHON_PATH.");
	python_plan_free(&p);

	setenv("PYTHON_PATH", at("bin/python3"), 1);
	p = resolve(0, NULL);
	assert_int_equal(p.chosen, 0);
	python_plan_free(&p);
	unsetenv("PYTHON_PATH");
}

static void test_python_config(void **state)
{
	struct python_plan p;

	(void)state;
	mk("bin/python3", fakepy("3.10.0"), 0755);
	p = resolve(0, at("nope/python3"));
	assert_int_equal(p.chosen, -1);
	assert_int_equal(p.cands[1].verdict, PV_MISSING);
	assert_true(strstr(p.error, "config python=") != NULL);
	python_plan_free(&p);
	p = resolve(0, "python3");
	assert_int_equal(p.chosen, 1);
	assert_string_equal(p.cands[1].path, at("bin/python3"));
	python_plan_free(&p);
}

static void test_python_as_user(void **state)
{
	struct python_opts o = {.timeout_ms = 2000, .app_dirs = dirs, .check_all = 0};
	struct resolve_user users[2];
	struct python_plan p;
	struct err e;

	(void)state;
	/* A venv in a directory only root can enter, like uv's /root/... */
	mk("rootonly", NULL, 0700);
	mk("rootonly/py/bin/python3", fakepy("3.11.9"), 0755);
	mk("app/.venv/bin", NULL, 0755);
	ln(at("rootonly/py/bin/python3"), "app/.venv/bin/python3");
	mk("bin/python3", fakepy("3.10.0"), 0755);
	dirs[0] = (char *)at("app");
	dirs[1] = NULL;
	assert_int_equal(resolve_user_lookup("1000", NULL, &users[0], &e), 0);
	resolve_user_self(&users[1]);
	o.users = users;
	o.nusers = 2;
	assert_int_equal(resolve_python(&o, &p, &e), 0);
	assert_int_equal(find(&p, at("app/.venv/bin/python3"))->verdict, PV_PERM);
	assert_true(strstr(find(&p, at("app/.venv/bin/python3"))->detail,
			   "rootonly (mode 0700, owner uid 0) cannot be entered (as user 1000") !=
		    NULL);
	assert_string_equal(p.cands[p.chosen].path, at("bin/python3"));
	python_plan_free(&p);
	/* As root alone the venv works. */
	o.nusers = 0;
	assert_int_equal(resolve_python(&o, &p, &e), 0);
	assert_string_equal(p.cands[p.chosen].path, at("app/.venv/bin/python3"));
	python_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_python_order_and_verdicts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_path_order_and_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_path_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_as_user, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
