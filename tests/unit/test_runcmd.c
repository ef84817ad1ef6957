/* Unit tests: runcmd (capture, bound, deadline, exec errors) and access_as,
 * in a fake tree. Runs as root; some cases switch to uid 1000. */
#include "faketree.h"

#include "plan/user.h"
#include "run/runcmd.h"

/* --- runcmd ----------------------------------------------------------------- */

static void test_runcmd_capture_and_exit(void **state)
{
	char *argv[] = {"sh", "-c", "echo out; echo err1 >&2; echo err2 >&2; exit 3", NULL};
	struct runcmd_spec spec = {
	    .path = "/bin/sh", .argv = argv, .timeout_ms = 5000, .capture_max = 1024};
	struct runcmd_result r;
	char line[64];

	(void)state;
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_int_equal(r.failed_step, RC_STEP_NONE);
	assert_true(r.exited);
	assert_int_equal(r.code, 3);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "err1\nerr2\n");
	first_line(r.err, r.err_len, line, sizeof(line));
	assert_string_equal(line, "err1");
	runcmd_result_free(&r);
}

static void test_runcmd_bound(void **state)
{
	char *argv[] = {"sh", "-c",
			"i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done", NULL};
	struct runcmd_spec spec = {
	    .path = "/bin/sh", .argv = argv, .timeout_ms = 10000, .capture_max = 100};
	struct runcmd_result r;

	(void)state;
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.out_len, 100); /* the rest was read and dropped: no hang */
	runcmd_result_free(&r);
}

static void test_runcmd_timeout_kills_group(void **state)
{
	char pidfile[512], buf[32];
	char *argv[] = {"sh", "-c", NULL, NULL};
	char script[600];
	struct runcmd_spec spec = {
	    .path = "/bin/sh", .argv = argv, .timeout_ms = 300, .capture_max = 100};
	struct runcmd_result r;
	pid_t grandchild;
	FILE *f;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/gc.pid", tmp);
	snprintf(script, sizeof(script), "sleep 60 & echo $! > %s; wait", pidfile);
	argv[2] = script;
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_true(r.timed_out);
	assert_true(r.signaled);
	assert_int_equal(r.sig, SIGKILL);
	assert_true(r.elapsed_ms >= 300 && r.elapsed_ms < 3000);
	runcmd_result_free(&r);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	grandchild = (pid_t)atoi(buf);
	/* The grandchild was killed with the group (it may linger briefly as a
	 * zombie of init; wait until it is gone or a zombie). */
	for (int i = 0; i < 200; i++) {
		char st[64], path[64];
		FILE *s;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)grandchild);
		s = fopen(path, "r");
		if (!s)
			return;
		if (fgets(st, sizeof(st), s) && strstr(st, ") Z")) {
			fclose(s);
			return;
		}
		fclose(s);
		usleep(10000);
	}
	fail_msg("grandchild %d survived the timeout", (int)grandchild);
}

static void test_runcmd_exec_errors(void **state)
{
	char *argv[] = {"x", NULL};
	struct runcmd_spec spec = {.argv = argv, .timeout_ms = 5000, .capture_max = 100};
	struct runcmd_result r;

	(void)state;
	spec.path = at("nonexistent");
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_int_equal(r.failed_step, RC_STEP_EXEC);
	assert_int_equal(r.failed_errno, ENOENT);
	runcmd_result_free(&r);

	mk("noexec", "#!/bin/sh\n", 0644);
	spec.path = at("noexec");
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_int_equal(r.failed_step, RC_STEP_EXEC);
	assert_int_equal(r.failed_errno, EACCES);
	runcmd_result_free(&r);

	mk("badinterp", "#!/nonexistent/python\n", 0755);
	spec.path = at("badinterp");
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_int_equal(r.failed_step, RC_STEP_EXEC);
	assert_int_equal(r.failed_errno, ENOENT);
	runcmd_result_free(&r);
}

static void test_runcmd_as_user(void **state)
{
	char *argv[] = {"id", "-u", NULL};
	struct runcmd_spec spec = {
	    .path = "/usr/bin/id", .argv = argv, .timeout_ms = 5000, .capture_max = 100};
	struct resolve_user u;
	struct runcmd_result r;
	struct err e;

	(void)state;
	assert_int_equal(resolve_user_lookup("1000", NULL, &u, &e), 0);
	spec.as = u.as;
	assert_int_equal(runcmd(&spec, &r, NULL), 0);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out, "1000\n");
	runcmd_result_free(&r);

	mk("private", NULL, 0700);
	mk("private/f", "x", 0644);
	assert_int_equal(access_as(&u.as, at("private/f"), R_OK, &e), EACCES);
	assert_int_equal(access_as(NULL, at("private/f"), R_OK, &e), 0);
	assert_int_equal(access_as(&u.as, at("missing"), R_OK, &e), ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_runcmd_capture_and_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_timeout_kills_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_exec_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_as_user, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
