/* Unit tests: the atomic write (planted symlinks and files never followed),
 * the writer's files (state, ready, lock, coalescing), the no-op writer and
 * upward sd_notify, on real files and sockets in a fresh temp dir. */
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

#include "status/status_read.h"
#include "status/status_render.h"
#include "status_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_symlinks_not_followed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_planted_symlinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noop_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_writer_same_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upward_abstract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upward_path_without_status_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_upward_bad_socket, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
