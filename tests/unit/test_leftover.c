/* Unit tests: finding what a service's earlier run left by the
 * HFINIT_SERVICE marker in /proc/PID/environ, among hfinit's untracked
 * children and their descendants (a fake /proc in faketree.h's tree), or in
 * all of /proc. */
#include "faketree.h"

#include <sys/wait.h>

#include "run/leftover.h"

static void test_env_has(void **state)
{
	static const char env[] = "A=1\0HFINIT_SERVICE=web\0B=2";
	(void)state;

	assert_true(leftover_env_has(env, sizeof(env), "web"));
	assert_false(leftover_env_has(env, sizeof(env), "we"));
	assert_false(leftover_env_has(env, sizeof(env), "web2"));
	assert_false(leftover_env_has(env, sizeof(env), "A"));
	/* cut short inside the entry: not a match */
	assert_false(leftover_env_has(env, 10, "web"));
	assert_false(leftover_env_has("XHFINIT_SERVICE=web", 20, "web"));
	assert_true(leftover_env_has("HFINIT_SERVICE=web", 19, "web"));
}

/* A child running sleep with marker in its environment; returns once it has
 * exec'd (the CLOEXEC pipe's end closes then). */
static pid_t sleeper(const char *marker)
{
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"sleep", "30", NULL};
		char *envp[] = {"PATH=/bin:/usr/bin", (char *)marker, NULL};
		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	return pid;
}

enum how { FULL_SCAN, WALK, WALK_TRACKED };

/* a and c marked, b not: the full scan (tracked NULL) and the walk of the
 * real /proc (this process's children) find a and c; with c tracked, the
 * walk skips it although it is marked. */
static void signal_marked(enum how how)
{
	pid_t a = sleeper("HFINIT_SERVICE=unit-left"), b = sleeper("HFINIT_SERVICE=other");
	pid_t c = sleeper("HFINIT_SERVICE=unit-left");
	pid_t got[4], tracked[1] = {c};
	int st, n = how == WALK_TRACKED ? 1 : 2;

	if (how != FULL_SCAN && access("/proc/self/task", F_OK) == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
		if (access(path, F_OK) == 0) /* CONFIG_PROC_CHILDREN: the walk is used */
			assert_int_equal(leftover_walk("/proc", getpid(), NULL, 0, got, 4), 3);
	}

	assert_int_equal(leftover_signal("unit-left", SIGKILL, how == FULL_SCAN ? NULL : tracked,
					 how == WALK_TRACKED, got, 4),
			 n);
	assert_true(got[0] == a || (n == 2 && got[1] == a));
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	if (how == WALK_TRACKED) {
		assert_int_equal(waitpid(c, &st, WNOHANG), 0); /* untouched */
		assert_int_equal(kill(c, SIGKILL), 0);
	}
	assert_int_equal(waitpid(c, &st, 0), c);
	assert_int_equal(leftover_signal("unit-left", SIGKILL, NULL, 0, got, 4), 0);
	assert_int_equal(waitpid(b, &st, WNOHANG), 0); /* untouched */
	assert_int_equal(kill(b, SIGKILL), 0);
	assert_int_equal(waitpid(b, &st, 0), b);
}

static void test_signal_marked_descendants(void **state)
{
	(void)state;
	signal_marked(FULL_SCAN);
	signal_marked(WALK);
	signal_marked(WALK_TRACKED);
}

static void test_parse_pids(void **state)
{
	pid_t out[4];
	size_t used;
	(void)state;

	assert_int_equal(leftover_parse_pids("12 34 5", 7, false, &used, out, 4), 2);
	assert_int_equal(used, 6); /* "5" may go on in the next read */
	assert_int_equal(out[0], 12);
	assert_int_equal(out[1], 34);
	assert_int_equal(leftover_parse_pids("12 34 5", 7, true, &used, out, 4), 3);
	assert_int_equal(out[2], 5);
	assert_int_equal(used, 7);
	assert_int_equal(leftover_parse_pids("1 2 3 4 5 6\n", 12, true, &used, out, 4), 6);
	assert_int_equal(out[3], 4); /* counted past max, not stored */
	assert_int_equal(leftover_parse_pids("", 0, true, &used, out, 4), 0);
	assert_int_equal(leftover_parse_pids("\n", 1, true, &used, out, 4), 0);
}

static int cmp(const void *a, const void *b)
{
	return *(const pid_t *)a - *(const pid_t *)b;
}

/* hfinit is 100 with two tasks; 300 is tracked (its child 999 is not
 * walked); 200's descendants go two generations down; 400 is gone. */
static void fake_tree(void)
{
	mk("proc/100/task/100/children", "200 300 400 ", 0644);
	mk("proc/100/task/101/children", "500", 0644);
	mk("proc/200/task/200/children", "210 ", 0644);
	mk("proc/210/task/210/children", "211 ", 0644);
	mk("proc/210/task/213/children", "212 ", 0644); /* a thread forked it */
	mk("proc/211/task/211/children", "", 0644);
	mk("proc/300/task/300/children", "999 ", 0644);
	mk("proc/500/task/500/children", "", 0644);
}

static void test_walk(void **state)
{
	static const pid_t tracked[] = {50, 300, 7000};
	static const pid_t want[] = {200, 210, 211, 212, 400, 500};
	pid_t got[16];
	int n;
	(void)state;

	fake_tree();
	n = leftover_walk(at("proc"), 100, tracked, 3, got, 16);
	assert_int_equal(n, 6);
	qsort(got, (size_t)n, sizeof(got[0]), cmp);
	assert_memory_equal(got, want, sizeof(want));
	/* past the count bound: the full scan */
	assert_int_equal(leftover_walk(at("proc"), 100, tracked, 3, got, 5), -1);
	/* nothing tracked: 300 and its child too */
	assert_int_equal(leftover_walk(at("proc"), 100, NULL, 0, got, 16), 8);
}

static void test_walk_fallbacks(void **state)
{
	pid_t got[64];
	char rel[64], kid[16];
	(void)state;

	/* no children files (no CONFIG_PROC_CHILDREN): -1 */
	mk("proc/100/task/100", NULL, 0755);
	assert_int_equal(leftover_walk(at("proc"), 100, NULL, 0, got, 64), -1);
	/* no task directory at all */
	assert_int_equal(leftover_walk(at("proc"), 101, NULL, 0, got, 64), -1);
	/* no children: 0 */
	mk("proc/102/task/102/children", "", 0644);
	assert_int_equal(leftover_walk(at("proc"), 102, NULL, 0, got, 64), 0);
	/* a chain deeper than LEFTOVER_WALK_DEPTH: -1; one at the bound: fine */
	for (int i = 0; i <= LEFTOVER_WALK_DEPTH; i++) {
		snprintf(rel, sizeof(rel), "proc/%d/task/%d/children", 1000 + i, 1000 + i);
		snprintf(kid, sizeof(kid), "%d", 1001 + i);
		mk(rel, kid, 0644);
	}
	assert_int_equal(leftover_walk(at("proc"), 1000, NULL, 0, got, 64), -1);
	assert_int_equal(leftover_walk(at("proc"), 1001, NULL, 0, got, 64), LEFTOVER_WALK_DEPTH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_has),
	    cmocka_unit_test(test_signal_marked_descendants),
	    cmocka_unit_test(test_parse_pids),
	    cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_walk_fallbacks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
