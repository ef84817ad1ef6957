/* Unit tests: sd_notify parsing, the socket, who sent a datagram, the
 * warning gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/notify.h"

static void test_notify_parse(void **state)
{
	struct notify_msg m;
	const char *msg = "STATUS=loading model 2/3\nREADY=1\nERRNO=2\nMAINPID=42\nX-CUSTOM=1\n";
	(void)state;
	notify_parse(msg, strlen(msg), &m);
	assert_true(m.ready);
	assert_true(m.has_status);
	assert_string_equal(m.status, "loading model 2/3");
	assert_true(m.has_errno);
	assert_int_equal(m.errnum, 2);
	assert_int_equal(m.mainpid, 42);
	assert_false(m.stopping);
	notify_parse("READY=0", 7, &m);
	assert_false(m.ready);
	notify_parse("STOPPING=1", 10, &m); /* no trailing newline */
	assert_true(m.stopping);
	notify_parse("ERRNO=abc\nREADY", 15, &m);
	assert_false(m.has_errno);
	assert_false(m.ready);
}

static void test_notify_socket_roundtrip(void **state)
{
	char addr[108];
	struct err e;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct notify_msg m;
	struct notify_sender who;
	(void)state;

	int fd = notify_socket_open("unit-test", addr, sizeof(addr), &e);
	assert_true(fd >= 0);
	assert_int_equal(addr[0], '@');
	assert_int_equal(notify_recv(fd, &m, &who), 0); /* nothing yet */
	/* Send as the sdnotify package does: '@' becomes a leading NUL. */
	size_t n = strlen(addr);
	memcpy(sa.sun_path, addr, n);
	sa.sun_path[0] = '\0';
	int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	const char *msg = "READY=1\nSTATUS=up";
	assert_int_equal(sendto(c, msg, strlen(msg), 0, (struct sockaddr *)&sa,
				(socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
			 (ssize_t)strlen(msg));
	assert_int_equal(notify_recv(fd, &m, &who), 1);
	assert_true(m.ready);
	assert_string_equal(m.status, "up");
	assert_int_equal(who.pid, getpid());
	assert_int_equal(who.uid, getuid());
	assert_true(who.pidfd >= 0); /* SO_PASSPIDFD: this kernel is >= 6.5 */
	assert_int_equal(notify_sender_origin(&who, getpgrp()), NOTIFY_OURS);
	notify_sender_close(&who);
	close(c);
	/* The same name again (another hfinit with this pid in this network
	 * namespace): a unique kernel-chosen name instead. */
	char addr2[108];
	int fd2 = notify_socket_open("unit-test", addr2, sizeof(addr2), &e);
	assert_true(fd2 >= 0);
	assert_int_equal(addr2[0], '@');
	assert_string_not_equal(addr2, addr);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = strlen(addr2);
	memcpy(sa.sun_path, addr2, n);
	sa.sun_path[0] = '\0';
	c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(sendto(c, "READY=1", 7, 0, (struct sockaddr *)&sa,
				(socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)),
			 7);
	assert_int_equal(notify_recv(fd2, &m, &who), 1);
	assert_true(m.ready);
	notify_sender_close(&who);
	close(c);
	close(fd2);
	close(fd);
}

/* Send "READY=1" to addr from a forked child; the child exits at once and is
 * reaped here before the datagram is read (reap) or left a zombie until
 * after. Returns the child's pid. */
static pid_t child_sends(const char *addr, bool setsid_first)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(addr);
	pid_t pid;

	memcpy(sa.sun_path, addr, n);
	sa.sun_path[0] = '\0';
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (setsid_first && setsid() < 0)
			_exit(3);
		if (c < 0 || sendto(c, "READY=1", 7, 0, (struct sockaddr *)&sa,
				    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) != 7)
			_exit(2);
		_exit(0);
	}
	return pid;
}

static void test_notify_sender_origin(void **state)
{
	char addr[108];
	struct err e;
	struct notify_msg m;
	struct notify_sender who;
	int status, fd;
	pid_t pid;
	(void)state;

	fd = notify_socket_open("origin-test", addr, sizeof(addr), &e);
	assert_true(fd >= 0);
	/* A zombie (exited, not reaped yet) is still checked: in our group. */
	pid = child_sends(addr, false);
	assert_int_equal(waitid(P_PID, (id_t)pid, NULL, WEXITED | WNOWAIT), 0);
	assert_int_equal(notify_recv(fd, &m, &who), 1);
	assert_int_equal(who.pid, pid);
	assert_int_equal(notify_sender_origin(&who, getpgrp()), NOTIFY_OURS);
	/* ... not in the group of an unrelated leader. */
	assert_int_equal(notify_sender_origin(&who, pid + 100000), NOTIFY_FOREIGN);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	/* Reaped now: gone, whatever group it was in. */
	assert_int_equal(notify_sender_origin(&who, getpgrp()), NOTIFY_GONE);
	notify_sender_close(&who);
	/* A child in a session of its own has left the group: not ours. */
	pid = child_sends(addr, true);
	assert_int_equal(waitid(P_PID, (id_t)pid, NULL, WEXITED | WNOWAIT), 0);
	assert_int_equal(notify_recv(fd, &m, &who), 1);
	assert_int_equal(notify_sender_origin(&who, getpgrp()), NOTIFY_FOREIGN);
	assert_int_equal(notify_sender_origin(&who, pid), NOTIFY_OURS); /* its own leader */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	notify_sender_close(&who);
	close(fd);
}

static void test_notify_gate(void **state)
{
	struct notify_gate g = {0};
	unsigned long long held = 99;
	(void)state;

	assert_true(notify_gate_pass(&g, 5, &held));
	assert_int_equal(held, 0);
	for (int i = 0; i < 19999; i++)
		assert_false(notify_gate_pass(&g, 5 + i, &held));
	assert_int_equal(g.held, 19999);
	assert_false(notify_gate_pass(&g, 5 + NOTIFY_WARN_NS - 1, &held));
	assert_true(notify_gate_pass(&g, 5 + NOTIFY_WARN_NS, &held));
	assert_int_equal(held, 20000);
	assert_int_equal(g.held, 0);
}

/* The address forms of $NOTIFY_SOCKET: "@abstract" and "/path". */
static void test_notify_sockaddr(void **state)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longpath[200];
	(void)state;

	assert_int_equal(notify_sockaddr("@hfinit/1/web", &sa, &len), 0);
	assert_int_equal(sa.sun_family, AF_UNIX);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "hfinit/1/web", 12);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 13);
	assert_int_equal(notify_sockaddr("/run/notify.sock", &sa, &len), 0);
	assert_string_equal(sa.sun_path, "/run/notify.sock");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 17);
	errno = 0;
	assert_int_equal(notify_sockaddr("relative.sock", &sa, &len), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(notify_sockaddr("@", &sa, &len), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(notify_sockaddr(NULL, &sa, &len), -1);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(notify_sockaddr(longpath, &sa, &len), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

/* One send for both senders: unconnected (the upward notify) and connected
 * (`hfinit notify`), and the bounded wait on a full receiver queue. */
static void test_notify_send(void **state)
{
	struct sockaddr_un sa;
	socklen_t len;
	char name[64], buf[64];
	int rx, tx, c, rc = 0;
	ssize_t n;
	(void)state;

	snprintf(name, sizeof(name), "@hfinit-test-send/%d", (int)getpid());
	assert_int_equal(notify_sockaddr(name, &sa, &len), 0);
	rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(rx >= 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&sa, len), 0);
	tx = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(tx >= 0);
	assert_int_equal(notify_send(tx, &sa, len, "READY=1\n", 8, 0), 0);
	n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "READY=1\n", 8);
	c = notify_connect(&sa, len);
	assert_true(c >= 0);
	assert_int_equal(notify_send(c, NULL, 0, "STATUS=x", 8, 1000), 0);
	n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, 8);
	/* nobody reads: the queue fills, then a bounded wait times out */
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = notify_send(c, NULL, 0, "X=1", 3, 0);
	assert_int_equal(rc, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	assert_int_equal(notify_send(c, NULL, 0, "X=1", 3, 50), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(c);
	close(tx);
	close(rx);
	/* nobody bound there */
	assert_int_equal(notify_connect(&sa, len), -1);
	assert_int_equal(errno, ECONNREFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notify_parse),
	    cmocka_unit_test(test_notify_socket_roundtrip),
	    cmocka_unit_test(test_notify_sender_origin),
	    cmocka_unit_test(test_notify_gate),
	    cmocka_unit_test(test_notify_sockaddr),
	    cmocka_unit_test(test_notify_send),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
