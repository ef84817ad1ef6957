/* PID-1 primitives that can be checked inside the test process itself:
 * the signal set-up and the child-side reset (called here, not in a child),
 * the forwarding rule, exit codes, reaping with no children. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/pid1.h"

static void test_block_and_restore(void **state)
{
	struct pid1_signals s;
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL}, cur;
	sigset_t before, now;
	struct err e;
	static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
	const int blocked[] = {SIGTERM, SIGINT,	 SIGHUP,  SIGQUIT,  SIGCHLD, SIGTSTP, SIGTTIN,
			       SIGTTOU, SIGPIPE, SIGUSR1, SIGWINCH, 40,	     64};

	(void)state;
	/* start state: USR2 blocked, USR1 ignored */
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &before), 0);
	sigemptyset(&now);
	sigaddset(&now, SIGUSR2);
	assert_int_equal(sigprocmask(SIG_SETMASK, &now, NULL), 0);
	assert_int_equal(sigaction(SIGUSR1, &ign, NULL), 0);

	err_clear(&e);
	assert_int_equal(pid1_block_signals(&s, &e), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &now), 0);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		assert_int_equal(sigismember(&now, faults[i]), 1);
		assert_int_equal(sigismember(&s.blocked, faults[i]), 1);
	}
	for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++) {
		assert_int_equal(sigismember(&now, blocked[i]), 1);
		assert_int_equal(sigismember(&s.blocked, blocked[i]), 1);
	}
	assert_int_equal(sigismember(&s.orig_mask, SIGUSR2), 1);
	assert_int_equal(sigismember(&s.orig_mask, SIGTERM), 0);

	/* what a child does before exec: original mask, SIG_DFL for the ignored */
	assert_int_equal(child_reset(&s.orig_mask), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &now), 0);
	assert_int_equal(sigismember(&now, SIGUSR2), 1);
	assert_int_equal(sigismember(&now, SIGTERM), 0);
	assert_int_equal(sigismember(&now, SIGCHLD), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &cur), 0);
	assert_true(cur.sa_handler == SIG_DFL);

	assert_int_equal(sigaction(SIGUSR1, &dfl, NULL), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &before, NULL), 0);
}

static void test_forwardable(void **state)
{
	static const int yes[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM,
				  SIGTERM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG,	SIGWINCH,
				  SIGIO,   SIGPWR,  34,	     64,      SIGSEGV, SIGBUS,	SIGILL,
				  SIGFPE,  SIGABRT, SIGTRAP, SIGSYS};
	static const int no[] = {0, -1, SIGCHLD, SIGKILL, SIGSTOP, 32, 33, NSIG, NSIG + 1};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!pid1_forwardable(yes[i]))
			fail_msg("signal %d not forwardable", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (pid1_forwardable(no[i]))
			fail_msg("signal %d forwardable", no[i]);
}

/* In a child: block as hfinit does, then either kill(2) ourselves with sig
 * (must stay pending, the child exits 0) or make a real fault (must kill). */
static int fault_child(int sig, bool real)
{
	struct pid1_signals s;
	struct err e;
	sigset_t pend;
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (pid1_block_signals(&s, &e) < 0)
			_exit(90);
		if (!real) {
			if (kill(getpid(), sig) < 0 || sigpending(&pend) < 0)
				_exit(91);
			_exit(sigismember(&pend, sig) == 1 ? 0 : 92);
		}
		if (sig == SIGSEGV) {
			volatile char *p =
			    mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(93);
			(void)p[0]; /* PROT_NONE: the kernel raises SIGSEGV */
		} else {
			__builtin_trap(); /* ud2 on x86: SIGILL from the kernel */
		}
		_exit(94);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_fault_signals(void **state)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
	int st;

	(void)state;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		st = fault_child(faults[i], false);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("kill(SIG %d) to a blocking process: status 0x%x", faults[i], st);
	}
	st = fault_child(SIGSEGV, true);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	st = fault_child(SIGILL, true);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGILL);
}

static void test_exit_code(void **state)
{
	(void)state;
	assert_int_equal(pid1_exit_code(0), 0);
	assert_int_equal(pid1_exit_code(3 << 8), 3);
	assert_int_equal(pid1_exit_code(255 << 8), 255);
	assert_int_equal(pid1_exit_code(SIGTERM), 128 + SIGTERM);
	assert_int_equal(pid1_exit_code(SIGSEGV | 0x80), 128 + SIGSEGV);
}

static int reaped;

static void count_reaped(pid_t pid, int status, void *data)
{
	(void)pid;
	(void)status;
	(void)data;
	reaped++;
}

static void test_no_children(void **state)
{
	(void)state;
	reaped = 0;
	assert_int_equal(pid1_reap(count_reaped, NULL), 1); /* ECHILD */
	assert_int_equal(reaped, 0);
	/* the /proc scan finds no process whose parent is this test */
	assert_int_equal(pid1_signal_children(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_and_restore), cmocka_unit_test(test_forwardable),
	    cmocka_unit_test(test_fault_signals),     cmocka_unit_test(test_exit_code),
	    cmocka_unit_test(test_no_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
