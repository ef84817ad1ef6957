/* Unit tests: seccomp profiles. Each compiled program is loaded for real in a
 * forked child, which makes calls and reports the first result that differs
 * from the expected one; the parent asserts on that report. Also: profile
 * combination along extends, unknown profiles, the set built for a config,
 * the worker table against docs/sandbox.md, and the kernel check. Run from
 * the repo root (make unit does), or set HFINIT_SRCDIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/config.h"
#include "run/landlock.h"
#include "plan/sandbox.h"
#include "plan/syscalls.h"

/* One call and what it must give: ok (>= 0) or that errno. */
struct expect {
	const char *what;
	long nr;
	long a0;
	int err; /* 0: must succeed */
};

#define OK 0

/* A raw clone in the child under test; its own child leaves at once. */
static long do_clone(long flags)
{
	long rc = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);
	if (rc == 0)
		_exit(0);
	if (rc > 0)
		(void)waitpid((pid_t)rc, NULL, 0); /* the grandchild exited at once */
	return rc;
}

#if defined(__x86_64__)
static long int80(long nr, long a0)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a0), "c"(0L), "d"(0L) : "memory");
	return ret;
}
#endif

#define NR_CLONE_FLAGS (-100) /* pseudo: do_clone(a0) */
#define NR_INT80       (-200) /* pseudo: int80(a0 >> 16, a0 & 0xffff) */
#define NR_IOCTL       (-300) /* pseudo: ioctl(-1, a0) */

/* Load prog and run the calls in a child. Returns "" when every call gave
 * what was expected, else a description of the first mismatch; *sig is the
 * signal that killed the child (0 if none). */
static const char *run_under(const struct sock_fprog *prog, const struct expect *ex, size_t n,
			     int *sig)
{
	static char msg[256];
	int pfd[2], status;
	pid_t pid;

	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char out[256];
		int len = 0;
		(void)close(pfd[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0) < 0)
			len = snprintf(out, sizeof(out), "loading the filter: errno %d", errno);
		for (size_t i = 0; len == 0 && i < n; i++) {
			long rc;
			int err = 0;
			errno = 0;
			if (ex[i].nr == NR_CLONE_FLAGS)
				rc = do_clone(ex[i].a0);
			else if (ex[i].nr == NR_IOCTL)
				rc = syscall(SYS_ioctl, -1L, ex[i].a0, 0L);
#if defined(__x86_64__)
			else if (ex[i].nr == NR_INT80) {
				rc = int80(ex[i].a0 >> 16, ex[i].a0 & 0xffff);
				if (rc < 0 && rc > -4096) {
					err = (int)-rc;
					rc = -1;
				}
			}
#endif
			else
				rc = syscall(ex[i].nr, ex[i].a0, 0L, 0L, 0L, 0L, 0L);
			if (rc < 0 && !err)
				err = errno;
			if (ex[i].err == OK ? rc < 0 : (rc >= 0 || err != ex[i].err))
				len = snprintf(out, sizeof(out), "%s: got %s%d, expected %s%d",
					       ex[i].what, rc < 0 ? "errno " : "rc ",
					       rc < 0 ? err : (int)rc,
					       ex[i].err ? "errno " : "success ", ex[i].err);
		}
		if (len > 0 && write(pfd[1], out, (size_t)len) != len)
			_exit(3);
		_exit(len > 0);
	}
	(void)close(pfd[1]);
	struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
	assert_true(poll(&pf, 1, 10000) >= 0);
	ssize_t got = read(pfd[0], msg, sizeof(msg) - 1);
	msg[got > 0 ? got : 0] = '\0';
	(void)close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (!*sig && WEXITSTATUS(status) != (msg[0] != '\0'))
		fail_msg("the child under the filter exited with %d (%s)", WEXITSTATUS(status),
			 msg);
	return msg;
}

static void expect_all(const struct sandbox_profile *p, const struct expect *ex, size_t n)
{
	int sig;
	const char *m = run_under(&p->prog, ex, n, &sig);
	if (m[0])
		fail_msg("profile %s: %s", p->name, m);
	assert_int_equal(sig, 0);
}

#define EXPECT(p, ...)                                                                             \
	do {                                                                                       \
		const struct expect ex_[] = {__VA_ARGS__};                                         \
		expect_all(p, ex_, sizeof(ex_) / sizeof(ex_[0]));                                  \
	} while (0)

static struct config *parse_ok(const char *text)
{
	struct err e = {0};
	struct config *cfg = config_parse("t.ini", text, strlen(text), &e);

	assert_non_null(cfg);
	if (cfg->ndiags)
		config_diags_print(cfg, stderr);
	assert_int_equal(cfg->ndiags, 0);
	return cfg;
}

static void compile(const struct config *cfg, const char *name, struct sandbox_profile *p)
{
	struct err e = {0};
	if (sandbox_compile_one(cfg, name, p, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(p->name, name);
	assert_non_null(p->prog.filter);
	assert_true(p->prog.len > 0);
}

static void release(struct sandbox_profile *p)
{
	free(p->name);
	free(p->prog.filter);
}

static void test_worker(void **state)
{
	struct sandbox_profile p;
	(void)state;

	compile(NULL, "worker", &p);
	/* every table entry this arch has is one rule */
	assert_true(p.rules >= 60);
	EXPECT(&p, {"getpid", SYS_getpid, 0, OK}, {"mount", SYS_mount, 0, EPERM},
	       {"umount2", SYS_umount2, 0, EPERM}, {"unshare(0)", SYS_unshare, 0, EPERM},
	       {"setns", SYS_setns, -1, EPERM}, {"ptrace", SYS_ptrace, 0x7fffffff, EPERM},
	       {"bpf", SYS_bpf, -1, EPERM}, {"keyctl", SYS_keyctl, -1, EPERM},
	       {"userfaultfd", SYS_userfaultfd, 0x7fffffff, EPERM},
	       /* /dev/userfaultfd's ioctl, also with garbage in the upper half */
	       {"ioctl USERFAULTFD_IOC_NEW", NR_IOCTL, 0xAA00, EPERM},
	       {"ioctl USERFAULTFD_IOC_NEW | 1 << 32", NR_IOCTL, 0x10000AA00L, EPERM},
	       {"ioctl FIONREAD", NR_IOCTL, FIONREAD, EBADF},
	       {"ioctl 0xAA01", NR_IOCTL, 0xAA01, EBADF},
	       {"settimeofday", SYS_settimeofday, 1, EPERM}, {"clone3", SYS_clone3, 0, ENOSYS},
	       {"fork by clone", NR_CLONE_FLAGS, 0, OK},
	       {"clone CLONE_NEWUSER", NR_CLONE_FLAGS, CLONE_NEWUSER, EPERM},
	       {"clone CLONE_NEWNET", NR_CLONE_FLAGS, CLONE_NEWNET, EPERM},
	       {"clone CLONE_NEWNS", NR_CLONE_FLAGS, CLONE_NEWNS, EPERM},
	       {"clone CLONE_NEWCGROUP", NR_CLONE_FLAGS, CLONE_NEWCGROUP, EPERM},
	       {"personality(0)", SYS_personality, 0, OK},
	       {"personality(query)", SYS_personality, 0xffffffffL, OK},
	       {"personality(ADDR_NO_RANDOMIZE)", SYS_personality, 0x0040000, EPERM},
	       {"personality(PER_LINUX32)", SYS_personality, 8, EPERM},
	       {"personality(0x80000000)", SYS_personality, 0x80000000L, EPERM},
	       {"personality(0xfffffffe)", SYS_personality, 0xfffffffeL, EPERM},
	       {"x32 getpid", SYS_getpid | 0x40000000L, 0, EPERM},
#if defined(__x86_64__)
	       {"int 0x80 getpid", NR_INT80, 20L << 16, EPERM},
	       {"int 0x80 unshare", NR_INT80, 310L << 16, EPERM},
#endif
	       {"getppid", SYS_getppid, 0, OK});
	release(&p);
}

static const char chain_ini[] = "[seccomp:a]\n"
				"extends = worker\n"
				"deny = getppid\n"
				"allow = mount\n"
				"deny_action = errno:EACCES\n"
				"[seccomp:b]\n"
				"extends = a\n"
				"allow = getppid\n"
				"deny = getuid clone\n"
				"[seccomp:c]\n"
				"extends = b\n"
				"deny_action = errno:EPERM\n"
				"[seccomp:strict]\n"
				"default = errno:ENOSYS\n"
				"allow = execve exit exit_group write getpid\n"
				"allow = sigaltstack\n" /* ASan's no-return hook before _exit */
				"[seccomp:killer]\n"
				"extends = worker\n"
				"deny_action = kill\n"
				"[seccomp:audit]\n"
				"extends = worker\n"
				"deny_action = log\n"
				"[service:x]\n"
				"command = /bin/true\n"
				"seccomp = b\n"
				"[service:y]\n"
				"command = /bin/true\n"
				"seccomp = worker\n"
				"[service:z]\n"
				"command = /bin/true\n"
				"seccomp = b\n"
				"[service:w]\n"
				"command = /bin/true\n";

static void test_extends_chain(void **state)
{
	struct config *cfg = parse_ok(chain_ini);
	struct sandbox_profile p;
	(void)state;

	/* a: its deny list and worker's get its deny_action; its allow wins over
	 * worker's mount. */
	compile(cfg, "a", &p);
	EXPECT(&p, {"getppid", SYS_getppid, 0, EACCES}, {"mount (allowed)", SYS_mount, 0, EFAULT},
	       {"unshare", SYS_unshare, 0, EACCES}, {"getpid", SYS_getpid, 0, OK},
	       {"clone3", SYS_clone3, 0, ENOSYS}, {"fork", NR_CLONE_FLAGS, 0, OK});
	release(&p);

	/* b: inherits a's deny_action; allows what a denied; a plain clone in
	 * its deny list denies every clone, not only namespace ones. */
	compile(cfg, "b", &p);
	EXPECT(&p, {"getppid (allowed)", SYS_getppid, 0, OK}, {"getuid", SYS_getuid, 0, EACCES},
	       {"unshare", SYS_unshare, 0, EACCES}, {"mount (allowed by a)", SYS_mount, 0, EFAULT},
	       {"fork", NR_CLONE_FLAGS, 0, EACCES});
	release(&p);

	/* c: errno:EPERM is the default deny_action, so it does not override
	 * the inherited one (documented). */
	compile(cfg, "c", &p);
	EXPECT(&p, {"getuid", SYS_getuid, 0, EACCES});
	release(&p);

	/* An allow-list: the default applies to everything else. */
	compile(cfg, "strict", &p);
	assert_int_equal(p.rules, 6);
	EXPECT(&p, {"getpid", SYS_getpid, 0, OK}, {"getppid", SYS_getppid, 0, ENOSYS},
	       {"mount", SYS_mount, 0, ENOSYS});
	release(&p);

	/* log: denied calls run (and the kernel logs them). */
	compile(cfg, "audit", &p);
	EXPECT(&p, {"mount (logged)", SYS_mount, 0, EFAULT}, {"getpid", SYS_getpid, 0, OK});
	release(&p);
	config_free(cfg);
}

static void test_kill(void **state)
{
	struct config *cfg = parse_ok(chain_ini);
	struct sandbox_profile p;
	const struct expect ok[] = {{"getpid", SYS_getpid, 0, OK}, {"fork", NR_CLONE_FLAGS, 0, OK}};
	const struct expect die[] = {{"getpid", SYS_getpid, 0, OK},
				     {"unshare", SYS_unshare, 0, EPERM}};
	int sig;
	(void)state;

	compile(cfg, "killer", &p);
	assert_string_equal(run_under(&p.prog, ok, 2, &sig), "");
	assert_int_equal(sig, 0);
	assert_string_equal(run_under(&p.prog, die, 2, &sig), "");
	assert_int_equal(sig, SIGSYS);
#if defined(__x86_64__)
	/* other ABIs: killed too under a kill profile */
	const struct expect i386[] = {{"int 0x80 getpid", NR_INT80, 20L << 16, EPERM}};
	assert_string_equal(run_under(&p.prog, i386, 1, &sig), "");
	assert_int_equal(sig, SIGSYS);
#endif
	release(&p);
	config_free(cfg);
}

static void test_set(void **state)
{
	struct config *cfg = parse_ok(chain_ini);
	struct sandbox_set set;
	struct err e = {0};
	(void)state;

	assert_int_equal(sandbox_compile(cfg, &set, &e), 0);
	/* only the profiles services name, each once, in service order */
	assert_int_equal(set.n, 2);
	assert_string_equal(set.profiles[0].name, "b");
	assert_string_equal(set.profiles[1].name, "worker");
	assert_ptr_equal(sandbox_find(&set, "worker"), &set.profiles[1]);
	assert_null(sandbox_find(&set, "a"));
	assert_null(sandbox_find(&set, NULL));
	/* b: worker - mount (allowed by a) + getuid; getppid denied by a, allowed by b */
	assert_int_equal(set.profiles[0].rules, set.profiles[1].rules);
	sandbox_free(&set);
	assert_int_equal(set.n, 0);
	config_free(cfg);

	/* no service with a profile: an empty set */
	cfg = parse_ok("[service:w]\ncommand = /bin/true\n");
	assert_int_equal(sandbox_compile(cfg, &set, &e), 0);
	assert_int_equal(set.n, 0);
	sandbox_free(&set);
	config_free(cfg);
}

static void test_unknown(void **state)
{
	struct sandbox_profile p;
	struct err e = {0};
	struct config *cfg = parse_ok(chain_ini);
	(void)state;

	assert_int_equal(sandbox_compile_one(cfg, "nope", &p, &e), -1);
	assert_non_null(strstr(e.msg, "unknown seccomp profile \"nope\""));
	assert_null(p.name);
	assert_null(p.prog.filter);
	assert_int_equal(sandbox_compile_one(NULL, "a", &p, &e), -1);

	/* The set: the error names the service, and nothing is left compiled. */
	struct sandbox_set set;
	free(cfg->services[2].seccomp); /* z; x and y come first and compile */
	cfg->services[2].seccomp = strdup("gone");
	assert_non_null(cfg->services[2].seccomp);
	assert_int_equal(sandbox_compile(cfg, &set, &e), -1);
	assert_string_equal(e.msg, "service z: unknown seccomp profile \"gone\"; expected worker "
				   "or a [seccomp:NAME] of the config");
	assert_int_equal(set.n, 0);
	assert_null(set.profiles);
	config_free(cfg);

	/* unknown syscall names never get this far: the parser refuses them */
	const char *bad = "[seccomp:x]\ndeny = mountt\n";
	cfg = config_parse("t.ini", bad, strlen(bad), &e);
	assert_non_null(cfg);
	assert_int_equal(cfg->ndiags, 1);
	assert_non_null(strstr(cfg->diags[0].text, "unknown syscall \"mountt\""));
	config_free(cfg);
}

/* Every worker entry is a syscall name libseccomp knows, appears once, and is
 * documented with its reason in docs/sandbox.md. */
static void test_table_documented(void **state)
{
	const char *dir = getenv("HFINIT_SRCDIR");
	char path[4096], *doc;
	const char *name;
	FILE *f;
	long len;
	(void)state;

	snprintf(path, sizeof(path), "%s/docs/sandbox.md", dir ? dir : ".");
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	doc = calloc(1, (size_t)len + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	for (size_t i = 0; (name = sandbox_worker_entry(i)); i++) {
		char row[128];
		const char *at, *end, *why;
		if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
			fail_msg("worker entry %s: not a syscall libseccomp knows", name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(sandbox_worker_entry(j), name) == 0)
				fail_msg("worker entry %s twice", name);
		snprintf(row, sizeof(row), "| `%s` |", name);
		if (!(at = strstr(doc, row)))
			fail_msg("docs/sandbox.md has no row \"%s\"", row);
		/* | `name` | denied | why |: the reason is the third cell */
		end = strchr(at, '\n');
		why = strchr(at + strlen(row), '|');
		if (!end || !why || why > end || end - why < 12)
			fail_msg("docs/sandbox.md: row \"%s\" gives no reason", row);
	}
	assert_null(sandbox_worker_entry(100000));
	free(doc);
}

/* Every profile of the shipped configs compiles. */
static void test_shipped_configs(void **state)
{
	static const char *const files[] = {"config/custom-seccomp.ini", "config/space-pools.ini"};
	const char *dir = getenv("HFINIT_SRCDIR");
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096];
		struct config_location loc = {.path = path, .source = CONFIG_SRC_OPTION};
		struct sandbox_set set;
		struct err e = {0};
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", files[i]);
		struct config *cfg = config_load(&loc, &e);
		if (!cfg)
			fail_msg("%s", e.msg);
		assert_int_equal(cfg->ndiags, 0);
		if (sandbox_compile(cfg, &set, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_true(set.n >= 1);
		for (size_t j = 0; j < set.n; j++)
			assert_true(set.profiles[j].prog.len > 0 && set.profiles[j].rules > 0);
		sandbox_free(&set);
		config_free(cfg);
	}
}

static void test_kernel_check(void **state)
{
	struct err e = {0};
	(void)state;

	if (sandbox_kernel_check(&e) < 0)
		fail_msg("%s", e.msg);
}

/* A domain of landlock_enter() at a given ABI, in a child: renames across
 * directories still work (no file access is restricted), the parent's
 * /proc/PID/mem cannot be opened, and a signal to the parent is refused
 * exactly when the ABI has the signal scope. Returns a bit set: 1 rename ok,
 * 2 mem refused with EACCES, 4 kill refused with EPERM; or 100 + errno of
 * landlock_enter, 99 for a set-up failure. */
static int in_domain(int abi, bool abstract_scope, const char *dir)
{
	pid_t parent = getpid(), pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		char a[512], b[512], mem[64];
		int res = 0, fd, err;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(99);
		err = landlock_enter(abi, abstract_scope);
		if (err)
			_exit(100 + err);
		snprintf(a, sizeof(a), "%s/d1/f", dir);
		snprintf(b, sizeof(b), "%s/d2/f", dir);
		res |= rename(a, b) == 0 && rename(b, a) == 0 ? 1 : 0;
		snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)parent);
		fd = open(mem, O_RDWR | O_CLOEXEC);
		res |= fd < 0 && errno == EACCES ? 2 : 0;
		res |= kill(parent, 0) < 0 && errno == EPERM ? 4 : 0;
		_exit(res);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_landlock(void **state)
{
	char dir[] = "/tmp/hfinit-ll-XXXXXX", p[64];
	int abi = landlock_abi(NULL);
	(void)state;

	if (abi == 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/d1", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/d2", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/d1/f", dir);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	/* ABI 2-5: REFER handled and granted beneath "/"; no signal scope */
	assert_int_equal(in_domain(2, true, dir), 1 | 2);
	if (abi >= 6) {
		assert_int_equal(in_domain(abi, true, dir), 1 | 2 | 4);
		assert_int_equal(in_domain(abi, false, dir), 1 | 2 | 4);
	}
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/d1", dir);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/d2", dir);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_worker),
	    cmocka_unit_test(test_extends_chain),
	    cmocka_unit_test(test_kill),
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_table_documented),
	    cmocka_unit_test(test_shipped_configs),
	    cmocka_unit_test(test_kernel_check),
	    cmocka_unit_test(test_landlock),
	};
	config_set_syscall_check(syscall_name_check); /* as main does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
