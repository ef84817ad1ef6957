/* Unit tests: runcmd, access_as, env sanity and redaction, status dir choice,
 * Python and script resolution in fake trees (real processes: the fake
 * "pythons" are shell scripts). Runs as root; some cases switch to uid 1000. */
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plan/envsane.h"
#include "plan/resolve.h"
#include "run/runcmd.h"
#include "plan/statusdir.h"

static char tmp[256];

static void mk(const char *rel, const char *content, mode_t mode)
{
	char p[512], dir[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	for (char *s = p + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(s - p), p);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", dir, strerror(errno));
	}
	if (!content) {
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			fail_msg("mkdir %s", p);
		assert_int_equal(chmod(p, mode), 0);
		return;
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static void ln(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(symlink(target, p), 0);
}

static const char *at(const char *rel)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, rel);
	return buf[i];
}

static char *fakepy(const char *version)
{
	static char s[256];

	snprintf(s, sizeof(s), "#!/bin/sh\necho \"$0\"\necho %s\n", version);
	return s;
}

static int setup(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/h5-unit-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0);
	unsetenv("PYTHON_PATH");
	unsetenv("VIRTUAL_ENV");
	unsetenv("UV_PROJECT_ENVIRONMENT");
	unsetenv("CONDA_PREFIX");
	setenv("HOME", at("home"), 1);
	snprintf(cmd, sizeof(cmd), "%s:/usr/bin:/bin", at("bin"));
	setenv("PATH", cmd, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

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

static void test_user_lookup(void **state)
{
	struct resolve_user u;
	struct err e;

	(void)state;
	assert_int_equal(resolve_user_lookup("root", NULL, &u, &e), 0);
	assert_int_equal(u.as.uid, 0);
	assert_string_equal(u.home, "/root");
	assert_int_equal(resolve_user_lookup("54321", "54322", &u, &e), 0);
	assert_int_equal(u.as.uid, 54321);
	assert_int_equal(u.as.gid, 54322);
	assert_int_equal(resolve_user_lookup("no-such-user-h5", NULL, &u, &e), -1);
	assert_string_equal(e.msg, "user no-such-user-h5 does not exist (not in /etc/passwd)");
	assert_int_equal(resolve_user_lookup("root", "no-such-group-h5", &u, &e), -1);
	assert_string_equal(e.msg, "group no-such-group-h5 does not exist (not in /etc/group)");
}

/* --- env sanity -------------------------------------------------------------- */

static void test_secrets(void **state)
{
	char buf[128];

	(void)state;
	assert_true(env_is_secret("HF_TOKEN"));
	assert_true(env_is_secret("openai_api_key"));
	assert_true(env_is_secret("MySecretThing"));
	assert_true(env_is_secret("DB_PASSWORD"));
	assert_true(env_is_secret("KEYRING"));
	assert_false(env_is_secret("HOME"));
	assert_true(env_is_secret("PGPASSWD"));
	assert_false(env_is_secret("DATABASE_URL"));
	assert_string_equal(env_shown("HF_TOKEN", "hf_abc"), "***");
	assert_string_equal(env_shown("PATH", "/bin"), "/bin");
	env_redact_assignment("HF_TOKEN=hf_abc=def", buf, sizeof(buf));
	assert_string_equal(buf, "HF_TOKEN=***");
	env_redact_assignment("LANG=C.UTF-8", buf, sizeof(buf));
	assert_string_equal(buf, "LANG=C.UTF-8");
	/* not secret by name, but a URL password is still not shown */
	env_redact_assignment("DATABASE_URL=postgres://app:dbpass123@db/x", buf, sizeof(buf));
	assert_string_equal(buf, "DATABASE_URL=postgres://app:***@db/x");
}

static void test_home(void **state)
{
	struct envsane p;
	struct resolve_user u;
	struct err e;

	(void)state;
	mk("home", NULL, 0755);
	assert_int_equal(envsane_plan(&p, at("home"), NULL, "/root", NULL, &e), 0);
	assert_false(p.home_replaced);
	assert_string_equal(p.home, at("home"));
	assert_true(p.hf_home_default);
	assert_string_equal(p.hf_home, at("home/.cache/huggingface"));

	assert_int_equal(envsane_plan(&p, NULL, NULL, at("home"), NULL, &e), 0);
	assert_true(p.home_replaced);
	assert_string_equal(p.home_reason, "HOME is unset");
	assert_string_equal(p.home, at("home"));

	assert_int_equal(envsane_plan(&p, "/nonexistent", "/data/hf", at("home"), NULL, &e), 0);
	assert_string_equal(p.home_reason, "HOME=/nonexistent is a placeholder");
	assert_string_equal(p.hf_home, "/data/hf");
	assert_false(p.hf_home_default);

	/* uid 1000 cannot write a root-owned 0755 home: passwd home absent -> /tmp/home-1000 */
	assert_int_equal(resolve_user_lookup("1000", "1000", &u, &e), 0);
	assert_int_equal(envsane_plan(&p, at("home"), at("home/hf"), NULL, &u.as, &e), 0);
	assert_true(p.home_replaced);
	assert_string_equal(p.home, "/tmp/home-1000");
	assert_true(strstr(p.hf_home_warning, "is not writable") != NULL);
}

static void test_home_apply(void **state)
{
	struct envsane p;
	struct resolve_user u;
	struct stat st;
	struct err e;

	(void)state;
	memset(&p, 0, sizeof(p));
	snprintf(p.home, sizeof(p.home), "%s", at("newhome"));
	p.home_create = 1;
	assert_int_equal(envsane_apply(&p, 1000, 1000, &e), 0);
	assert_int_equal(stat(at("newhome"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(envsane_apply(&p, 1000, 1000, &e), 0); /* exists: fine */
	/* a file (or a symlink, or a dir of a third uid) at HOME is not used:
	 * a fresh HOME.XXXXXX next to it is */
	mk("afile", "x", 0644);
	snprintf(p.home, sizeof(p.home), "%s", at("afile"));
	p.hf_home_default = 1;
	assert_int_equal(envsane_apply(&p, 1000, 1000, &e), 0);
	assert_int_equal(strncmp(p.home, at("afile."), strlen(at("afile."))), 0);
	assert_int_equal(strlen(p.home), strlen(at("afile.")) + 6);
	assert_int_equal(lstat(p.home, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 1000);
	assert_true(strstr(p.hf_home, "/.cache/huggingface") == p.hf_home + strlen(p.home));
	assert_int_equal(lstat(at("afile"), &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_uid == 0); /* untouched */

	/* writable-or-creatable, as uid 1000 */
	assert_int_equal(resolve_user_lookup("1000", "1000", &u, &e), 0);
	assert_int_equal(dir_writable_or_creatable(at("newhome/a/b"), &u.as, &e), 1);
	assert_int_equal(dir_writable_or_creatable(at("x/y"), &u.as, &e), 0); /* tmp is root's */
	assert_int_equal(dir_writable_or_creatable(at("x/y"), NULL, &e), 1);
	assert_int_equal(dir_writable_or_creatable(at("afile/sub"), NULL, &e), 0);
}

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
	    cmocka_unit_test_setup_teardown(test_runcmd_capture_and_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_timeout_kills_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_exec_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_runcmd_as_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_home, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_home_apply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statusdir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statusdir_open_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_order_and_verdicts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_path_order_and_dedup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_path_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_as_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scripts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_app_dirs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
