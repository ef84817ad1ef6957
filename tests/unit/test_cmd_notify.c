/* Unit tests: the notify mode against a listening socket. */
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

#include "cmd/cmd_notify.h"
#include "status_fixture.h"

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

/* getopt_long: --status TEXT as two words, the order kept, "--" ends the
 * options, -h and --help; a bad --pid value is bad usage. */
static void test_notify_spellings(void **state)
{
	char name[64], env[80], *out;
	int fd;
	(void)state;

	snprintf(name, sizeof(name), "hfinit-test-notify-opts/%d", (int)getpid());
	fd = listener(name, 1);
	snprintf(env, sizeof(env), "@%s", name);
	setenv("NOTIFY_SOCKET", env, 1);
	assert_int_equal(capture(cmd_notify, &out, 6, "notify", "X=1", "--status", "two words",
				 "--no-block", "--ready"),
			 0);
	free(out);
	assert_string_equal(next_msg(fd), "X=1\nSTATUS=two words\nREADY=1\n");
	assert_int_equal(
	    capture(cmd_notify, &out, 5, "notify", "--no-block", "--pid=7", "--", "Y=2"), 0);
	free(out);
	assert_string_equal(next_msg(fd), "MAINPID=7\nY=2\n");
	assert_int_equal(capture(cmd_notify, &out, 3, "notify", "--no-block", "--pid=07"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 3, "notify", "--no-block", "--pid=x"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 3, "notify", "--bogus", "READY=1"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 3, "notify", "--", "-X=1"), 2);
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "--status"), 2);
	free(out);
	assert_null(next_msg(fd));
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "-h"), 0);
	assert_non_null(strstr(out, "usage: hfinit notify"));
	free(out);
	assert_int_equal(capture(cmd_notify, &out, 2, "notify", "--help"), 0);
	assert_non_null(strstr(out, "usage: hfinit notify"));
	free(out);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_notify_cmd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_spellings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_barrier, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
