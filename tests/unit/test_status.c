/* Unit tests: status.json content and escaping, the atomic write (planted
 * symlinks and files never followed), the writer's files (state, ready, lock,
 * coalescing), the no-op writer, upward sd_notify, and the health / status /
 * notify modes against fabricated status dirs. Everything runs on real files
 * and sockets in a fresh temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "status/status.h"

static char tdir[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/hfinit-test-status-XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("HFINIT_STATUS_DIR");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("HFINIT_STATUS_DIR");
	return nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, 256, "%s/%s", tdir, name);
	return b;
}

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void put_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Run a mode with stdout captured; returns its exit code, *out the text. */
static int capture(int (*fn)(int, char **), char **out, int argc, ...)
{
	char *argv[16];
	va_list ap;
	int saved, fd, rc;

	assert_true(argc < 16);
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(1);
	fd = open(path("stdout"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 1), 1);
	close(fd);
	rc = fn(argc, argv);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	*out = slurp(path("stdout"));
	assert_non_null(*out);
	return rc;
}

/* --- a snapshot to render ------------------------------------------------- */

static struct py_candidate cands[2];
static struct python_plan plan;
static struct status_service svcs[2];
static struct status_stage stages[2];

static void fill(struct status_snapshot *s)
{
	memset(cands, 0, sizeof(cands));
	snprintf(cands[0].source, sizeof(cands[0].source), "venv");
	snprintf(cands[0].path, sizeof(cands[0].path), "/app/.venv/bin/python3");
	cands[0].verdict = PV_DANGLING;
	snprintf(cands[0].detail, sizeof(cands[0].detail), "-> /root/.local/bin/python3");
	snprintf(cands[1].source, sizeof(cands[1].source), "system");
	snprintf(cands[1].path, sizeof(cands[1].path), "/usr/bin/python3");
	cands[1].verdict = PV_OK;
	snprintf(cands[1].version, sizeof(cands[1].version), "3.11.2");
	snprintf(cands[1].executable, sizeof(cands[1].executable), "/usr/bin/python3.11");
	cands[1].elapsed_ms = 21;
	memset(&plan, 0, sizeof(plan));
	plan.cands = cands;
	plan.ncands = 2;
	plan.chosen = 1;

	memset(svcs, 0, sizeof(svcs));
	svcs[0] = (struct status_service){
	    .name = "web",
	    .state = "ready",
	    .stage = 1,
	    .required = true,
	    .pid = 7,
	    .attempt = 1,
	    .attempts = 3,
	    .started_at = {1795738643, 5000000},
	    .ready_at = {1795738643, 817000000},
	    .ready_ms = 812,
	    .exit_code = -1,
	    .command = "node dist/index.js",
	    .ready_spec = "tcp:7860",
	};
	svcs[1] = (struct status_service){
	    .name = "tts",
	    .state = "failed",
	    .stage = 2,
	    .required = false,
	    .pid = 0,
	    .attempt = 3,
	    .attempts = 3,
	    .restarts = 0,
	    .ready_ms = -1,
	    .has_exit = true,
	    .exit_code = -1,
	    .exit_signal = 9,
	    .last_error = "ModuleNotFoundError: No module named \"torch\"\n\tat <x>\x01\xff",
	    .error_category = "missing dependency",
	    .error_hint = "pip install torch",
	    .errors = 4,
	    .warnings = 1,
	    .script = "/app/server/worker_pool.py",
	    .sandbox = "worker",
	    .sandbox_rules = 57,
	    .notify_status = "loading model",
	};
	stages[0] = (struct status_stage){1, 815};
	stages[1] = (struct status_stage){2, -1};
	memset(s, 0, sizeof(*s));
	s->state = "degraded";
	s->stage = 2;
	s->started_at = (struct timespec){1795738643, 0};
	s->exit_code = -1;
	s->all_required_ready = true;
	s->python = &plan;
	s->services = svcs;
	s->nservices = 2;
	s->stages = stages;
	s->nstages = 2;
}

static void test_rfc3339(void **state)
{
	char buf[40];
	struct timespec ts = {1795738643, 123999999};
	(void)state;
	status_rfc3339(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T00:17:23.123Z");
	ts = (struct timespec){0, 0};
	status_rfc3339(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void test_render_content(void **state)
{
	struct status_snapshot s;
	char *doc, mypid[32];
	size_t len, off, at = 99;
	(void)state;
	fill(&s);
	assert_int_equal(status_render(&s, &doc, &len, &off), 0);
	assert_int_equal(strlen(doc), len);
	assert_int_equal(doc[len - 1], '\n');
	assert_int_equal(status_json_check(doc, len, &at), 0);
	assert_memory_equal(doc + off, "0000-00-00T00:00:00.000Z", 24);
	snprintf(mypid, sizeof(mypid), "\n  \"pid\": %d,\n", (int)getpid());
	const char *want[] = {
	    "{\n  \"schema\": 1,\n  \"hfinit\": \"" HFINIT_VERSION "\",\n",
	    mypid,
	    "\n  \"state\": \"degraded\",\n  \"stage\": 2,\n",
	    "\"started_at\": \"2026-11-27T00:17:23.000Z\"",
	    "\"exit_code\": null,",
	    "\"all_required_ready\": true,",
	    "\"path\": \"/usr/bin/python3\",\n    \"executable\": \"/usr/bin/python3.11\",\n"
	    "    \"version\": \"3.11.2\",\n    \"source\": \"system\",\n    \"error\": null,",
	    "\"path\": \"/app/.venv/bin/python3\",\n        \"source\": \"venv\",\n"
	    "        \"verdict\": \"dangling link\",\n        \"detail\": \"-> "
	    "/root/.local/bin/python3\",\n        \"version\": null,",
	    "{\n      \"stage\": 1,\n      \"ready_ms\": 815\n    }",
	    "{\n      \"stage\": 2,\n      \"ready_ms\": null\n    }",
	    "\"blame\": [\n    {\n      \"service\": \"web\",\n      \"stage\": 1,\n"
	    "      \"ready_ms\": 812\n    }\n  ],",
	    "\"web\": {\n      \"state\": \"ready\",\n      \"stage\": 1,\n      \"required\": "
	    "true,\n      \"pid\": 7,\n      \"attempt\": 1,\n      \"attempts\": 3,\n",
	    "\"started_at\": \"2026-11-27T00:17:23.005Z\",\n      \"ready_at\": "
	    "\"2026-11-27T00:17:23.817Z\",\n      \"ready_ms\": 812,",
	    "\"last_exit\": {\n        \"code\": null,\n        \"signal\": null,\n"
	    "        \"signal_name\": null\n      },",
	    "\"command\": \"node dist/index.js\"",
	    "\"ready_spec\": \"tcp:7860\"",
	    "\"pid\": null,",
	    "\"code\": null,\n        \"signal\": 9,\n        \"signal_name\": \"SIGKILL\"",
	    /* escaping: quotes, newline, tab, control char, invalid UTF-8 */
	    "\"text\": \"ModuleNotFoundError: No module named \\\"torch\\\"\\n\\tat "
	    "<x>\\u0001\\ufffd\",\n        \"category\": \"missing dependency\",\n"
	    "        \"hint\": \"pip install torch\"",
	    "\"errors\": 4,\n      \"warnings\": 1,\n      \"script\": "
	    "\"/app/server/worker_pool.py\",",
	    "\"sandbox\": \"worker\",\n      \"sandbox_rules\": 57,\n      \"sandbox_landlock\": "
	    "null,\n      \"notify_status\": \"loading model\",",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(doc, want[i]))
			fail_msg("missing %s\nin\n%s", want[i], doc);
	/* tts never became ready: not in the blame list */
	assert_null(strstr(doc, "\"service\": \"tts\""));
	free(doc);

	/* the same snapshot renders the same bytes (what coalescing relies on) */
	char *again;
	size_t len2;
	assert_int_equal(status_render(&s, &doc, &len, NULL), 0);
	assert_int_equal(status_render(&s, &again, &len2, NULL), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(doc, again, len);
	free(again);
	free(doc);

	/* no Python needed, stopped with an exit code */
	s.python = NULL;
	s.state = "stopped";
	s.exit_code = 1;
	s.all_required_ready = false;
	assert_int_equal(status_render(&s, &doc, &len, NULL), 0);
	assert_non_null(strstr(doc, "\"exit_code\": 1,"));
	assert_non_null(strstr(doc, "\"python\": null,"));
	assert_non_null(strstr(doc, "\"all_required_ready\": false,"));
	assert_int_equal(status_json_check(doc, len, NULL), 0);
	free(doc);
}

/* Every string of the file has its secrets as *** (docs/config.md, "Secrets"). */
static void test_render_redacts(void **state)
{
	struct status_snapshot s;
	char *doc;
	size_t len;
	(void)state;
	fill(&s);
	svcs[0].command = "node x.js --token hf_abcdefghijklmnopqrstuvwxyzABCDEFGH";
	svcs[1].last_error = "RuntimeError: cannot reach postgres://app:dbpass123@db/x";
	svcs[1].notify_status = "calling with Bearer abc.def";
	assert_int_equal(status_render(&s, &doc, &len, NULL), 0);
	assert_non_null(strstr(doc, "\"command\": \"node x.js --token ***\""));
	assert_non_null(
	    strstr(doc, "\"text\": \"RuntimeError: cannot reach postgres://app:***@db/x\""));
	assert_non_null(strstr(doc, "\"notify_status\": \"calling with Bearer ***\""));
	assert_null(strstr(doc, "hf_abc"));
	assert_null(strstr(doc, "dbpass123"));
	assert_int_equal(status_json_check(doc, len, NULL), 0);
	free(doc);
}

static void test_summary(void **state)
{
	struct status_snapshot s;
	char buf[256];
	(void)state;
	fill(&s);
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "degraded: 1/2 services ready; failed: tts");
	s.state = "starting";
	s.stage = 1;
	s.nservices = 1;
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "starting: stage 1, 1/1 services ready");
	s.state = "stopped";
	s.exit_code = 0;
	s.nservices = 0;
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "stopped: 0/0 services ready; exit code 0");
}

static void test_json_check(void **state)
{
	const char *good[] = {"{}",
			      " [1, -2.5e+3, 0, true, false, null, \"x\\u00e9\\ud83d\\ude00\"] ",
			      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "{\"a\":{\"b\":[[]]}}"};
	const struct {
		const char *doc;
		size_t at;
	} bad[] = {
	    {"", 0},	       {"{", 1},
	    {"{\"a\" 1}", 5},  {"[1,]", 3},
	    {"01", 1},	       {"-", 0},
	    {"1.", 0},	       {"\"abc", 0},
	    {"\"a\\x\"", 0},   {"\"a\nb\"", 0},
	    {"{} x", 3},       {"[tru]", 1},
	    {"{\"a\":1,}", 7}, {"{\"a\":1 \"b\":2}", 7},
	};
	char deep[80];
	size_t at;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (status_json_check(good[i], strlen(good[i]), &at) != 0)
			fail_msg("rejected %s at %zu", good[i], at);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		at = 12345;
		if (status_json_check(bad[i].doc, strlen(bad[i].doc), &at) == 0)
			fail_msg("accepted %s", bad[i].doc);
		if (at != bad[i].at)
			fail_msg("%s: error at %zu, expected %zu", bad[i].doc, at, bad[i].at);
	}
	/* nesting is bounded */
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	assert_int_equal(status_json_check(deep, 80, NULL), -1);
	assert_int_equal(status_json_check(deep + 10, 60, NULL), 0);
}

/* --- atomic write ----------------------------------------------------------- */

static int opendir_fd(void)
{
	int fd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_atomic_write(void **state)
{
	int dfd = opendir_fd();
	struct stat st, st2;
	mode_t old;
	char *s;
	(void)state;

	old = umask(077);
	assert_int_equal(status_write_atomic(dfd, "f", "one\n", 4), 0);
	umask(old);
	assert_int_equal(lstat(path("f"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644); /* whatever the umask */
	s = slurp(path("f"));
	assert_string_equal(s, "one\n");
	free(s);
	assert_int_equal(access(path(".f.tmp"), F_OK), -1); /* no temp left */
	/* each write is a new file renamed over the old: a reader holding the
	 * old one keeps the old content whole */
	int rfd = open(path("f"), O_RDONLY | O_CLOEXEC);
	assert_true(rfd >= 0);
	assert_int_equal(status_write_atomic(dfd, "f", "two!!\n", 6), 0);
	assert_int_equal(stat(path("f"), &st2), 0);
	assert_int_not_equal(st.st_ino, st2.st_ino);
	char b[16] = {0};
	assert_int_equal(read(rfd, b, sizeof(b)), 4);
	assert_string_equal(b, "one\n");
	close(rfd);
	close(dfd);
}

static void test_atomic_symlinks_not_followed(void **state)
{
	int dfd = opendir_fd();
	struct stat st;
	char *s;
	(void)state;

	put_file(path("victim"), "precious\n");
	/* a symlink planted at the target is replaced, its target untouched */
	assert_int_equal(symlink(path("victim"), path("status.json")), 0);
	assert_int_equal(status_write_atomic(dfd, "status.json", "{}\n", 3), 0);
	assert_int_equal(lstat(path("status.json"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	s = slurp(path("victim"));
	assert_string_equal(s, "precious\n");
	free(s);
	/* a symlink planted at the temp path is removed, not written through */
	assert_int_equal(symlink(path("victim"), path(".status.json.tmp")), 0);
	assert_int_equal(status_write_atomic(dfd, "status.json", "{\"a\":1}\n", 8), 0);
	s = slurp(path("victim"));
	assert_string_equal(s, "precious\n");
	free(s);
	s = slurp(path("status.json"));
	assert_string_equal(s, "{\"a\":1}\n");
	free(s);
	assert_int_equal(lstat(path(".status.json.tmp"), &st), -1);
	/* a dangling symlink at the temp path: O_EXCL does not create its target */
	assert_int_equal(symlink(path("nowhere"), path(".state.tmp")), 0);
	assert_int_equal(status_write_atomic(dfd, "state", "ready\n", 6), 0);
	assert_int_equal(lstat(path("nowhere"), &st), -1);
	/* a hard link to the target: the other name keeps its content */
	assert_int_equal(link(path("victim"), path("ready")), 0);
	assert_int_equal(status_write_atomic(dfd, "ready", "now\n", 4), 0);
	s = slurp(path("victim"));
	assert_string_equal(s, "precious\n");
	free(s);
	/* a directory at the temp path cannot be removed: the write fails and
	 * the target keeps its old content */
	assert_int_equal(mkdir(path(".blocked.tmp"), 0755), 0);
	put_file(path("blocked"), "old\n");
	errno = 0;
	assert_int_equal(status_write_atomic(dfd, "blocked", "new\n", 4), -1);
	assert_int_equal(errno, EEXIST);
	s = slurp(path("blocked"));
	assert_string_equal(s, "old\n");
	free(s);
	close(dfd);
}

/* --- the writer ----------------------------------------------------------- */

/* Every fd of ours that points into tdir must be close-on-exec; returns
 * how many there are. */
static int fds_into_tdir_cloexec(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		char lp[64], target[512];
		ssize_t k;
		int fd = atoi(d->d_name);
		if (d->d_name[0] == '.' || fd == dirfd(dir))
			continue;
		snprintf(lp, sizeof(lp), "/proc/self/fd/%d", fd);
		k = readlink(lp, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = '\0';
		if (strncmp(target, tdir, strlen(tdir)) != 0)
			continue;
		n++;
		if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
			fail_msg("fd %d (%s) is not close-on-exec", fd, target);
	}
	closedir(dir);
	return n;
}

static ino_t ino(const char *p)
{
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	return st.st_ino;
}

static void test_writer_files(void **state)
{
	struct status_snapshot s;
	struct status_writer *w;
	struct stat st;
	char *a, *b;
	ino_t i1;
	(void)state;

	put_file(path("ready"), "stale\n"); /* from an earlier run */
	setenv("HFINIT_STATUS_DIR", tdir, 1);
	w = status_open(NULL);
	assert_non_null(w);
	assert_string_equal(status_dir(w), tdir);
	/* at once: a first status.json (starting), state, lock; the stale ready gone */
	a = slurp(path("status.json"));
	assert_non_null(a);
	assert_non_null(strstr(a, "\"state\": \"starting\""));
	assert_int_equal(status_json_check(a, strlen(a), NULL), 0);
	free(a);
	a = slurp(path("state"));
	assert_string_equal(a, "starting\n");
	free(a);
	assert_int_equal(access(path("ready"), F_OK), -1);
	assert_int_equal(lstat(path("lock"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* the lock is held: LOCK_SH from another open file fails */
	int lfd = open(path("lock"), O_RDONLY | O_CLOEXEC);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_SH | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	/* the writer's fds (dir, lock) are not inherited across exec */
	assert_int_equal(fds_into_tdir_cloexec(), 2 + 1);

	fill(&s);
	status_publish(w, &s);
	a = slurp(path("status.json"));
	assert_non_null(strstr(a, "\"state\": \"degraded\""));
	assert_null(strstr(a, "0000-00-00T")); /* updated_at is a real time */
	b = slurp(path("state"));
	assert_string_equal(b, "degraded\n");
	free(b);
	b = slurp(path("ready"));
	assert_int_equal(strlen(b), 25); /* "2026-...Z\n" */
	assert_int_equal(b[24], '\n');
	free(b);
	/* coalescing: the same snapshot again writes nothing (same inode, same
	 * updated_at) */
	i1 = ino(path("status.json"));
	status_publish(w, &s);
	assert_int_equal(ino(path("status.json")), i1);
	b = slurp(path("status.json"));
	assert_string_equal(a, b);
	free(b);
	free(a);
	/* a change is written */
	svcs[1].errors = 5;
	status_publish(w, &s);
	assert_int_not_equal(ino(path("status.json")), i1);
	a = slurp(path("status.json"));
	assert_non_null(strstr(a, "\"errors\": 5,"));
	free(a);
	/* not ready any more: `ready` goes */
	s.state = "stopping";
	s.all_required_ready = false;
	status_publish(w, &s);
	assert_int_equal(access(path("ready"), F_OK), -1);
	a = slurp(path("state"));
	assert_string_equal(a, "stopping\n");
	free(a);
	status_close(w);
	/* closed: the lock is free */
	assert_int_equal(flock(lfd, LOCK_SH | LOCK_NB), 0);
	close(lfd);
	/* readable by anyone */
	assert_int_equal(stat(path("status.json"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_writer_planted_symlinks(void **state)
{
	struct status_snapshot s;
	struct status_writer *w;
	struct stat st;
	char *a;
	(void)state;

	put_file(path("victim"), "precious\n");
	assert_int_equal(symlink(path("victim"), path("status.json")), 0);
	assert_int_equal(symlink(path("victim"), path("state")), 0);
	assert_int_equal(symlink(path("victim"), path("lock")), 0);
	assert_int_equal(symlink(path("victim"), path(".ready.tmp")), 0);
	setenv("HFINIT_STATUS_DIR", tdir, 1);
	w = status_open(NULL);
	assert_non_null(status_dir(w));
	fill(&s);
	status_publish(w, &s);
	a = slurp(path("victim"));
	assert_string_equal(a, "precious\n");
	free(a);
	for (const char *const *n =
		 (const char *const[]){"status.json", "state", "lock", "ready", NULL};
	     *n; n++) {
		assert_int_equal(lstat(path(*n), &st), 0);
		if (!S_ISREG(st.st_mode))
			fail_msg("%s is not a regular file", *n);
	}
	status_close(w);
}

static void test_noop_writer(void **state)
{
	struct status_snapshot s;
	struct status_writer *w;
	(void)state;

	/* unusable explicit dir: a warning, a writer that does nothing */
	setenv("HFINIT_STATUS_DIR", "/proc/hfinit-cannot-exist", 1);
	w = status_open(NULL);
	assert_non_null(w);
	assert_null(status_dir(w));
	fill(&s);
	status_publish(w, &s);
	status_close(w);
	/* NULL is accepted everywhere */
	status_publish(NULL, &s);
	status_close(NULL);
	assert_null(status_dir(NULL));
}

static void test_second_writer_same_dir(void **state)
{
	struct status_writer *w1, *w2;
	char *a;
	(void)state;

	setenv("HFINIT_STATUS_DIR", tdir, 1);
	w1 = status_open(NULL);
	assert_non_null(status_dir(w1));
	/* another hfinit on the same dir: refused (it would overwrite w1's truth) */
	w2 = status_open(NULL);
	assert_non_null(w2);
	assert_null(status_dir(w2));
	a = slurp(path("state"));
	assert_string_equal(a, "starting\n");
	free(a);
	status_close(w2);
	status_close(w1);
}

/* --- upward sd_notify -------------------------------------------------------- */

static int listener(const char *name, int abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (abstract) {
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "%s", name);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
		len = sizeof(sa);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

/* The next datagram (sends are synchronous on AF_UNIX), or NULL. */
static char *next_msg(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void upward_sequence(int fd)
{
	struct status_snapshot s;
	struct status_writer *w;
	char *m;

	w = status_open(NULL);
	m = next_msg(fd);
	assert_non_null(m);
	assert_string_equal(m, "STATUS=starting: stage 0, 0/0 services ready\n");
	fill(&s);
	s.state = "starting";
	s.all_required_ready = false;
	status_publish(w, &s);
	assert_string_equal(next_msg(fd),
			    "STATUS=starting: stage 2, 1/2 services ready; failed: tts\n");
	s.state = "degraded";
	s.all_required_ready = true;
	status_publish(w, &s);
	assert_string_equal(next_msg(fd),
			    "READY=1\nSTATUS=degraded: 1/2 services ready; failed: tts\n");
	/* same summary, READY already sent: nothing */
	svcs[0].errors = 3;
	status_publish(w, &s);
	assert_null(next_msg(fd));
	/* READY=1 only once, even after a dip */
	s.all_required_ready = false;
	status_publish(w, &s);
	s.all_required_ready = true;
	status_publish(w, &s);
	assert_null(next_msg(fd));
	s.state = "stopping";
	s.all_required_ready = false;
	status_publish(w, &s);
	assert_string_equal(next_msg(fd),
			    "STATUS=stopping: 1/2 services ready; failed: tts\nSTOPPING=1\n");
	s.state = "stopped";
	s.exit_code = 0;
	svcs[0].state = "stopped";
	status_publish(w, &s);
	assert_string_equal(next_msg(fd),
			    "STATUS=stopped: 0/2 services ready; failed: tts; exit code 0\n");
	assert_null(next_msg(fd));
	status_close(w);
}

static void test_upward_abstract(void **state)
{
	char name[64], env[80];
	int fd;
	(void)state;
	snprintf(name, sizeof(name), "hfinit-test-upward/%d", (int)getpid());
	fd = listener(name, 1);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	setenv("HFINIT_STATUS_DIR", tdir, 1);
	upward_sequence(fd);
	close(fd);
}

static void test_upward_path_without_status_dir(void **state)
{
	int fd;
	(void)state;
	fd = listener(path("notify.sock"), 0);
	setenv("NOTIFY_SOCKET", path("notify.sock"), 1);
	/* files disabled, upward notify still works */
	setenv("HFINIT_STATUS_DIR", "/proc/hfinit-cannot-exist", 1);
	upward_sequence(fd);
	close(fd);
}

static void test_upward_bad_socket(void **state)
{
	struct status_snapshot s;
	struct status_writer *w;
	(void)state;
	/* nobody listens / not an address: warnings, nothing breaks */
	setenv("HFINIT_STATUS_DIR", tdir, 1);
	setenv("NOTIFY_SOCKET", "@hfinit-test-nobody-listens", 1);
	w = status_open(NULL);
	fill(&s);
	status_publish(w, &s);
	status_close(w);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	w = status_open(NULL);
	status_publish(w, &s);
	status_close(w);
	char *a = slurp(path("state"));
	assert_string_equal(a, "degraded\n");
	free(a);
}

/* --- hfinit health ------------------------------------------------------------- */

/* Fabricate a status dir: state word (NULL: no file), ready file, lock
 * (0 none, 1 present and free, 2 held by us through another open file). */
static int fabricate(const char *st, int ready, int lock)
{
	char buf[32];
	int fd = -1;

	unlink(path("state"));
	unlink(path("ready"));
	unlink(path("lock"));
	if (st) {
		snprintf(buf, sizeof(buf), "%s\n", st);
		put_file(path("state"), buf);
	}
	if (ready)
		put_file(path("ready"), "2026-11-27T00:17:23.123Z\n");
	if (lock) {
		fd = open(path("lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		if (lock == 2)
			assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	}
	return fd;
}

static int health(const char *flag, char **out)
{
	if (flag)
		return capture(cmd_health, out, 4, "health", flag, "-d", tdir);
	return capture(cmd_health, out, 3, "health", "-d", tdir);
}

static void test_health_matrix(void **state)
{
	static const char *const states[] = {"starting", "ready",   "degraded",
					     "stopping", "stopped", "failed"};
	(void)state;
	for (size_t i = 0; i < 6; i++) {
		const char *st = states[i];
		/* the writer keeps `ready` exactly while all required are ready */
		int ready = strcmp(st, "ready") == 0 || strcmp(st, "degraded") == 0;
		for (int lock = 0; lock <= 2; lock++) {
			int fd = fabricate(st, ready, lock);
			int want_started = lock == 2 && ready;
			int want_ready = lock == 2 && ready;
			int want_live = lock == 2 && strcmp(st, "failed") != 0;
			const struct {
				const char *flag;
				int want;
			} cases[] = {{"--started", want_started},
				     {"--ready", want_ready},
				     {NULL, want_ready}, /* default: --ready */
				     {"--live", want_live}};
			for (size_t c = 0; c < 4; c++) {
				char *out;
				int rc = health(cases[c].flag, &out);
				if (rc != (cases[c].want ? 0 : 1))
					fail_msg("state %s lock %d %s: exit %d (%s)", st, lock,
						 cases[c].flag ? cases[c].flag : "(default)", rc,
						 out);
				/* one line with the reason */
				assert_non_null(strchr(out, '\n'));
				assert_int_equal(strchr(out, '\n')[1], '\0');
				if (lock == 1)
					assert_non_null(strstr(out, "stale"));
				if (lock == 0)
					assert_non_null(strstr(out, "no lock file"));
				if (lock == 2 && rc == 1)
					assert_non_null(strstr(out, st));
				free(out);
			}
			if (fd >= 0)
				close(fd);
		}
	}
}

static void test_health_edges(void **state)
{
	char *out;
	int fd;
	(void)state;

	/* ready file without a live writer: never ready (a stale file lies) */
	fd = fabricate("ready", 1, 1);
	assert_int_equal(health("--ready", &out), 1);
	free(out);
	close(fd);
	/* live writer, no state file */
	fd = fabricate(NULL, 0, 2);
	assert_int_equal(health("--live", &out), 1);
	assert_non_null(strstr(out, "/state:"));
	free(out);
	close(fd);
	/* garbage state */
	fd = fabricate("bogus", 0, 2);
	assert_int_equal(health("--live", &out), 1);
	assert_non_null(strstr(out, "not a state word"));
	free(out);
	/* `ready` as a symlink to a file does not count */
	put_file(path("state"), "ready\n");
	put_file(path("elsewhere"), "x\n");
	assert_int_equal(symlink(path("elsewhere"), path("ready")), 0);
	assert_int_equal(health("--ready", &out), 1);
	free(out);
	close(fd);
	/* no such dir */
	assert_int_equal(capture(cmd_health, &out, 3, "health", "-d", "/nonexistent/x"), 1);
	assert_non_null(strstr(out, "/nonexistent/x"));
	free(out);
	/* bad usage: 1 (Docker reserves 2), nothing on stdout */
	assert_int_equal(capture(cmd_health, &out, 2, "health", "--bogus"), 1);
	assert_string_equal(out, "");
	free(out);
	/* $HFINIT_STATUS_DIR is the default dir */
	fd = fabricate("degraded", 1, 2);
	setenv("HFINIT_STATUS_DIR", tdir, 1);
	assert_int_equal(capture(cmd_health, &out, 1, "health"), 0);
	assert_string_equal(out, "ready: every required service is ready (state degraded)\n");
	free(out);
	close(fd);
}

/* --- hfinit status ------------------------------------------------------------- */

static void test_status_cmd(void **state)
{
	struct status_snapshot s;
	struct status_writer *w;
	char *out, *raw;
	(void)state;

	setenv("HFINIT_STATUS_DIR", tdir, 1);
	w = status_open(NULL);
	fill(&s);
	status_publish(w, &s);
	assert_int_equal(capture(cmd_status, &out, 3, "status", "-d", tdir), 0);
	const char *want[] = {
	    "(pid ",
	    "): degraded, stage 2, up ",
	    "(writer running)",
	    "python: /usr/bin/python3 3.11.2 (system)",
	    "\n\nSERVICE  STATE   PID  UPTIME  ATTEMPT  RESTARTS  READY IN  LAST ERROR\n",
	    "\nweb*     ready   7    ",
	    "  1/3      0         812ms     -\n",
	    /* control characters never reach the terminal */
	    "\ntts      failed  -    -       3/3      0         -         [missing dependency] "
	    "ModuleNotFoundError: No module named \"torch\"  at <x>?\xef\xbf\xbd\n(* required)\n",
	    "hints:\n  tts: pip install torch\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(out, want[i]))
			fail_msg("missing [%s] in\n%s", want[i], out);
	free(out);
	/* --json: the file as it is */
	assert_int_equal(capture(cmd_status, &out, 2, "status", "--json"), 0);
	raw = slurp(path("status.json"));
	assert_string_equal(out, raw);
	free(raw);
	free(out);
	status_close(w);
	/* writer gone: said so */
	assert_int_equal(capture(cmd_status, &out, 1, "status"), 0);
	assert_non_null(strstr(out, "writer gone"));
	assert_null(strstr(out, ", up "));
	free(out);
	/* broken file: exit 1 */
	put_file(path("status.json"), "{\"state\": \"ready\", ");
	assert_int_equal(capture(cmd_status, &out, 1, "status"), 1);
	free(out);
	/* no dir: exit 1; bad usage: 2 */
	assert_int_equal(capture(cmd_status, &out, 3, "status", "-d", "/nonexistent/x"), 1);
	free(out);
	assert_int_equal(capture(cmd_status, &out, 2, "status", "--bogus"), 2);
	free(out);
}

/* --- hfinit notify ------------------------------------------------------------- */

/* Without --no-block, `hfinit notify` sends BARRIER=1 with a pipe's write
 * end and exits only once the receiver closed it: the sender is alive while
 * its message is checked. Here the child runs it and the test receives. */
static void test_notify_barrier(void **state)
{
	char name[64], env[80], buf[64];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr mh = {0};
	struct pollfd p;
	int fd, status, passed;
	ssize_t n;
	pid_t pid;
	(void)state;

	snprintf(name, sizeof(name), "hfinit-test-barrier/%d", (int)getpid());
	fd = listener(name, 1);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"notify", "--ready", NULL};
		_exit(cmd_notify(2, argv));
	}
	p.fd = fd;
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_string_equal(next_msg(fd), "READY=1\n");
	assert_int_equal(poll(&p, 1, 5000), 1);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	assert_int_equal(n, 9);
	buf[n] = '\0';
	assert_string_equal(buf, "BARRIER=1");
	assert_non_null(CMSG_FIRSTHDR(&mh));
	assert_int_equal(CMSG_FIRSTHDR(&mh)->cmsg_type, SCM_RIGHTS);
	memcpy(&passed, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	/* Still waiting for us: not exited while we hold the write end. */
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	close(passed);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_notify_cmd(void **state)
{
	char name[64], env[80], want[64], *out;
	int fd;
	(void)state;

	snprintf(name, sizeof(name), "hfinit-test-notify/%d", (int)getpid());
	fd = listener(name, 1);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	assert_int_equal(capture(cmd_notify, &out, 5, "notify", "READY=1", "STATUS=loading 2/3",
				 "--pid", "--no-block"),
			 0);
	free(out);
	snprintf(want, sizeof(want), "READY=1\nSTATUS=loading 2/3\nMAINPID=%d\n", (int)getppid());
	assert_string_equal(next_msg(fd), want);
	assert_int_equal(capture(cmd_notify, &out, 5, "notify", "--no-block", "--ready",
				 "--status=up", "--pid=42"),
			 0);
	free(out);
	assert_string_equal(next_msg(fd), "READY=1\nSTATUS=up\nMAINPID=42\n");
	/* bad usage: 2, nothing sent */
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "READY"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "=1"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "STATUS=a\nREADY=1"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 1, "notify"), 2);
	free(out);
	assert_null(next_msg(fd));
	close(fd);
	/* nobody listening: 1 */
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "READY=1"), 1);
	free(out);
	/* a path socket */
	fd = listener(path("n.sock"), 0);
	setenv("NOTIFY_SOCKET", path("n.sock"), 1);
	assert_int_equal(capture(cmd_notify, &out, 3, "notify", "STOPPING=1", "--no-block"), 0);
	free(out);
	assert_string_equal(next_msg(fd), "STOPPING=1\n");
	close(fd);
	/* unset: 1 */
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "READY=1"), 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_render_content),
	    cmocka_unit_test(test_render_redacts),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_json_check),
	    cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_symlinks_not_followed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_planted_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noop_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_writer_same_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upward_abstract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upward_path_without_status_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upward_bad_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_matrix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_cmd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_cmd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_barrier, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
