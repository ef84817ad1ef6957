/* Unit tests: spawn() with real processes (fork/exec of /bin/sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/runcmd.h"
#include "run/spawn.h"

#include <sys/syscall.h>

/* Run sh -c script through spawn(), capture stdout, return the wait status. */
static int run_sh(struct spawn_req *r, const char *script, char *out, size_t cap)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	static char *envp[] = {"FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
	struct err e = {0};
	int p[2], hint, status;
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	r->file = "/bin/sh";
	r->argv = argv;
	if (!r->envp)
		r->envp = envp;
	r->stdout_fd = p[1];
	assert_int_equal(spawn(r, &pid, &hint, &e), 0);
	close(p[1]);
	while (got + 1 < cap && (n = read(p[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_env_workdir_output(void **state)
{
	struct spawn_req r;
	char out[256];
	(void)state;
	spawn_req_init(&r);
	r.workdir = "/tmp";
	int st = run_sh(&r, "echo \"$FOO\"; pwd; exit 7", out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	assert_string_equal(out, "bar baz\n/tmp\n");
}

static void test_new_session_and_fds(void **state)
{
	struct spawn_req r;
	char out[512];
	int leak = open("/dev/null", O_RDONLY); /* not CLOEXEC: must still be closed */
	(void)state;
	assert_true(leak > 2);
	spawn_req_init(&r);
	int st = run_sh(&r,
			"set -- $(ps -o pid= -o pgid= -o sid= -p $$); "
			"[ \"$1\" = \"$2\" ] && [ \"$1\" = \"$3\" ] && echo own-session; "
			"ls /proc/self/fd | sort -n | tr '\\n' ' '",
			out, sizeof(out));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* 0 1 2, plus the fd ls itself opens to read the directory */
	assert_non_null(strstr(out, "own-session\n"));
	assert_non_null(strstr(out, "0 1 2 3 "));
	assert_null(strstr(out, " 4 "));
	close(leak);
}

static void test_mask_and_dispositions_reset(void **state)
{
	struct spawn_req r;
	sigset_t block, old;
	char out[256];
	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGUSR2, SIG_IGN);
	spawn_req_init(&r);
	int st = run_sh(&r, "grep -E '^Sig(Blk|Ign)' /proc/self/status", out, sizeof(out));
	signal(SIGUSR2, SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(WEXITSTATUS(st), 0);
	if (!strstr(out, "SigBlk:\t0000000000000000\n") ||
	    !strstr(out, "SigIgn:\t0000000000000000\n"))
		fail_msg("child's signal state not clean:\n%s", out);
}

static void test_limits_umask_oom(void **state)
{
	struct spawn_req r;
	char out[256];
	(void)state;
	spawn_req_init(&r);
	r.umask = 027;
	r.oom_score_adj = 700;
	r.rlimits[0].resource = RLIMIT_NOFILE;
	r.rlimits[0].lim.rlim_cur = 123;
	r.rlimits[0].lim.rlim_max = 456;
	r.nrlimits = 1;
	int st = run_sh(&r, "umask; cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn", out,
			sizeof(out));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(out, "0027\n700\n123\n456\n");
}

/* A hard limit the start cannot set: the error names the key, its value and
 * the limit in the way (as root: fs.nr_open for nofile). */
/* A hard limit the start cannot set: the error names the key, its value and
 * the limit in the way (as root: fs.nr_open for nofile). */
static void test_rlimit_error_names_the_key(void **state)
{
	struct spawn_req r;
	struct err e = {0};
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};
	char want[256];
	unsigned long long nr_open = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "r");
	int hint;
	pid_t pid;
	(void)state;

	if (f) {
		assert_int_equal(fscanf(f, "%llu", &nr_open), 1);
		fclose(f);
	}
	if (geteuid() != 0 || nr_open == 0)
		skip();
	spawn_req_init(&r);
	r.file = "/bin/true";
	r.argv = argv;
	r.envp = envp;
	r.rlimits[0].resource = RLIMIT_CORE;
	r.rlimits[0].name = "core";
	r.rlimits[0].lim.rlim_cur = r.rlimits[0].lim.rlim_max = 0;
	r.rlimits[1].resource = RLIMIT_NOFILE;
	r.rlimits[1].name = "nofile";
	r.rlimits[1].lim.rlim_cur = r.rlimits[1].lim.rlim_max = 99999999;
	r.nrlimits = 2;
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	snprintf(want, sizeof(want),
		 "rlimit_nofile = 99999999: Operation not permitted (fs.nr_open is %llu; a hard "
		 "nofile above it cannot be set, even as root: lower the value)",
		 nr_open);
	assert_string_equal(e.msg, want);
	r.rlimits[1].lim.rlim_cur = 1024;
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	snprintf(want, sizeof(want),
		 "rlimit_nofile = 1024:99999999: Operation not permitted (fs.nr_open is %llu; a "
		 "hard nofile above it cannot be set, even as root: lower the value)",
		 nr_open);
	assert_string_equal(e.msg, want);
}

static void test_exec_failures(void **state)
{
	struct spawn_req r;
	struct err e = {0};
	char *argv[] = {"x", NULL};
	char *envp[] = {NULL};
	char path[] = "/tmp/hfinit-noexec-XXXXXX";
	int hint;
	pid_t pid;
	(void)state;

	spawn_req_init(&r);
	r.argv = argv;
	r.envp = envp;
	r.file = "/nonexistent/prog";
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	assert_int_equal(hint, 127);
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(e.msg, "exec /nonexistent/prog: No such file or directory");

	r.file = "no-such-program-hfinit";
	r.path = "/usr/bin:/bin";
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	assert_int_equal(hint, 127);

	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	r.file = path;
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	assert_int_equal(hint, 126);
	assert_int_equal(e.code, EACCES);
	unlink(path);

	r.file = "/bin/true";
	r.workdir = "/nonexistent-dir";
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	assert_int_equal(hint, SPAWN_HINT_SETUP);
	assert_string_equal(e.msg, "workdir = /nonexistent-dir: No such file or directory (create "
				   "it in the image or fix the key)");
}

/* A dry run does every step before exec and runs nothing; a step that cannot
 * succeed is reported with its key, as permanent. */
static void test_dry_run(void **state)
{
	struct spawn_req r;
	struct err e = {0};
	char *argv[] = {"x", NULL};
	char *envp[] = {NULL};
	int hint;
	pid_t pid = -1;
	(void)state;

	spawn_req_init(&r);
	r.argv = argv;
	r.envp = envp;
	r.file = "/nonexistent/prog"; /* never executed */
	r.dry_run = true;
	assert_int_equal(spawn(&r, &pid, &hint, &e), 0);
	assert_int_equal(pid, 0);

	r.rlimits[0].resource = RLIMIT_NOFILE;
	r.rlimits[0].name = "nofile";
	r.rlimits[0].lim.rlim_cur = 64;
	r.rlimits[0].lim.rlim_max = 32;
	r.nrlimits = 1;
	assert_int_equal(spawn(&r, &pid, &hint, &e), -1);
	assert_int_equal(hint, SPAWN_HINT_SETUP);
	assert_int_equal(e.code, EINVAL);
	assert_string_equal(e.msg,
			    "rlimit_nofile = 64:32: Invalid argument (the soft limit is above "
			    "the hard one)");
}

static void test_path_search(void **state)
{
	struct spawn_req r;
	struct err e = {0};
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};
	int hint, status;
	pid_t pid;
	(void)state;
	spawn_req_init(&r);
	r.file = "true";
	r.argv = argv;
	r.envp = envp;
	r.path = "/nonexistent:/bin";
	assert_int_equal(spawn(&r, &pid, &hint, &e), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
}

/* The kernel's struct sigaction, to reach the signals libc reserves. */
struct ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static int raw_sigaction(int sig, const struct ksigaction *act, struct ksigaction *old)
{
	return (int)syscall(SYS_rt_sigaction, sig, act, old, sizeof(act->mask));
}

/* runcmd's child comes from spawn(): default dispositions for every signal,
 * 32-34 (reserved by libc, out of reach of its sigaction()) included, and an
 * empty mask, whatever hfinit has. */
static void test_runcmd_child_signal_state(void **state)
{
	char *argv[] = {"sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status", NULL};
	struct runcmd_spec spec = {
	    .path = "/bin/sh", .argv = argv, .timeout_ms = 5000, .capture_max = 1024};
	static const int sigs[] = {SIGUSR2, 32, 33, 34};
	struct ksigaction ign = {.handler = SIG_IGN}, old[4];
	struct runcmd_result r;
	sigset_t block, omask;
	int rc;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &omask), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(raw_sigaction(sigs[i], &ign, &old[i]), 0);
	rc = runcmd(&spec, &r, NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(raw_sigaction(sigs[i], &old[i], NULL), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &omask, NULL), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(r.code, 0);
	if (!strstr(r.out, "SigBlk:\t0000000000000000\n") ||
	    !strstr(r.out, "SigIgn:\t0000000000000000\n"))
		fail_msg("runcmd child's signal state not clean:\n%s", r.out);
	runcmd_result_free(&r);
}

/* A child as uid 1234 has the same ids whether it is a service (spawn with
 * set_ids) or a runcmd command: both go through drop_privileges. */
static void test_same_ids_from_service_and_runcmd(void **state)
{
	static const char script[] = "grep -E '^(Uid|Gid|Groups):' /proc/self/status";
	static const gid_t groups[] = {1234, 4321};
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct runcmd_spec spec = {.path = "/bin/sh",
				   .argv = argv,
				   .cwd = "/",
				   .timeout_ms = 5000,
				   .capture_max = 1024,
				   .as = {1, 1234, 1234, groups, 2}};
	struct runcmd_result res;
	struct spawn_req r;
	char out[512];
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	spawn_req_init(&r);
	r.workdir = "/";
	r.set_ids = true;
	r.uid = 1234;
	r.gid = 1234;
	r.groups = groups;
	r.ngroups = 2;
	st = run_sh(&r, script, out, sizeof(out));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(out, "Uid:\t1234\t1234\t1234\t1234\n"
				 "Gid:\t1234\t1234\t1234\t1234\n"
				 "Groups:\t1234 4321 \n");
	assert_int_equal(runcmd(&spec, &res, NULL), 0);
	assert_int_equal(res.code, 0);
	assert_string_equal(res.out, out);
	runcmd_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_workdir_output),
	    cmocka_unit_test(test_new_session_and_fds),
	    cmocka_unit_test(test_mask_and_dispositions_reset),
	    cmocka_unit_test(test_limits_umask_oom),
	    cmocka_unit_test(test_exec_failures),
	    cmocka_unit_test(test_rlimit_error_names_the_key),
	    cmocka_unit_test(test_path_search),
	    cmocka_unit_test(test_dry_run),
	    cmocka_unit_test(test_runcmd_child_signal_state),
	    cmocka_unit_test(test_same_ids_from_service_and_runcmd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
