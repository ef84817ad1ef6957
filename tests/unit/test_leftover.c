/* Unit tests: finding what a service's earlier run left by the
 * HFINIT_SERVICE marker in /proc/PID/environ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static void test_signal_marked_descendants(void **state)
{
	pid_t a = sleeper("HFINIT_SERVICE=unit-left"), b = sleeper("HFINIT_SERVICE=other");
	pid_t got[4];
	int st;
	(void)state;

	assert_int_equal(leftover_signal("unit-left", SIGKILL, got, 4), 1);
	assert_int_equal(got[0], a);
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(leftover_signal("unit-left", SIGKILL, got, 4), 0);
	assert_int_equal(waitpid(b, &st, WNOHANG), 0); /* untouched */
	assert_int_equal(kill(b, SIGKILL), 0);
	assert_int_equal(waitpid(b, &st, 0), b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_has),
	    cmocka_unit_test(test_signal_marked_descendants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
