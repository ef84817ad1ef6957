/* `hfinit notify`: one sd_notify datagram to $NOTIFY_SOCKET, then a barrier. */
#include "cmd/cmd_notify.h"

#include "run/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_SEND_MS 5000 /* `hfinit notify`: bound on a full receiver queue */

/* ------------------------------------------------------------------------- */
/* hfinit notify */

static int notify_usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: hfinit notify [--pid[=PID]] [--ready] [--status=TEXT] [--no-block] "
		"[KEY=VALUE]...\n"
		"Sends one sd_notify datagram to $NOTIFY_SOCKET (\"@abstract\" or \"/path\"),\n"
		"e.g. `hfinit notify READY=1 STATUS=listening`. --pid adds MAINPID=<the\n"
		"parent's pid> (the calling shell); --ready is READY=1. Then waits (at most 5 s)\n"
		"until the receiver has read it (BARRIER=1, as systemd-notify does; not with\n"
		"--no-block).\n"
		"Exit 0 sent, 1 not sent (no $NOTIFY_SOCKET, send failed), 2 bad usage.\n");
	return code;
}

static int send_bounded(int fd, const char *msg, size_t n)
{
	struct timespec t0, t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t0); /* cannot fail for MONOTONIC */
	for (;;) {
		ssize_t r = send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		struct pollfd p = {fd, POLLOUT, 0};
		long left;
		if (r >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		(void)clock_gettime(CLOCK_MONOTONIC, &t);
		left = NOTIFY_SEND_MS -
		       ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
}

/* BARRIER=1 as sd_notify_barrier(3) sends it: a pipe's write end goes
 * along, and the receiver closes it once it has handled every earlier
 * datagram. Waiting for that keeps this process alive until then, so the
 * receiver can still check who sent the message (docs/supervise.md). Bounded
 * by NOTIFY_SEND_MS; a receiver without barrier support just times it out. */
static void barrier(int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {(char *)"BARRIER=1", 9};
	struct msghdr mh = {0};
	struct pollfd p;
	int pp[2];

	if (pipe2(pp, O_CLOEXEC) < 0)
		return;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	memset(&ctl, 0, sizeof(ctl));
	CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &pp[1], sizeof(int));
	if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		(void)close(pp[1]); /* no barrier: the message itself went out */
		(void)close(pp[0]);
		return;
	}
	(void)close(pp[1]); /* ours; the receiver holds the other copy */
	p.fd = pp[0];
	p.events = 0; /* POLLHUP comes anyway, once every write end is closed */
	while (poll(&p, 1, NOTIFY_SEND_MS) < 0 && errno == EINTR)
		;
	(void)close(pp[0]);
}

int cmd_notify(int argc, char **argv)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t cap = 64, n = 0;
	char *msg;
	int fd, rc;
	bool wait = true;

	for (int i = 1; i < argc; i++)
		cap += strlen(argv[i]) + 16;
	msg = malloc(cap);
	if (!msg) {
		perror("hfinit notify");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			free(msg);
			return notify_usage(0);
		}
		if (strcmp(a, "--no-block") == 0) {
			wait = false;
		} else if (strcmp(a, "--pid") == 0) {
			n += (size_t)snprintf(msg + n, cap - n, "MAINPID=%d\n", (int)getppid());
		} else if (strncmp(a, "--pid=", 6) == 0 && a[6] >= '1' && a[6] <= '9' &&
			   strspn(a + 6, "0123456789") == strlen(a + 6) && strlen(a + 6) < 10) {
			n += (size_t)snprintf(msg + n, cap - n, "MAINPID=%s\n", a + 6);
		} else if (strcmp(a, "--ready") == 0) {
			n += (size_t)snprintf(msg + n, cap - n, "READY=1\n");
		} else if (strncmp(a, "--status=", 9) == 0 && !strchr(a, '\n')) {
			n += (size_t)snprintf(msg + n, cap - n, "STATUS=%s\n", a + 9);
		} else if (a[0] != '-' && eq && eq != a && !strchr(a, '\n')) {
			n += (size_t)snprintf(msg + n, cap - n, "%s\n", a);
		} else {
			fprintf(stderr,
				"hfinit notify: \"%s\" is not KEY=VALUE (one line, non-empty KEY) "
				"or a known option\n",
				a);
			free(msg);
			return notify_usage(2);
		}
	}
	if (n == 0) {
		fprintf(stderr, "hfinit notify: nothing to send\n");
		free(msg);
		return notify_usage(2);
	}
	if (!sock || !sock[0]) {
		fprintf(stderr, "hfinit notify: NOTIFY_SOCKET is not set (not run by hfinit with "
				"ready = notify, nor by systemd): nothing sent\n");
		free(msg);
		return 1;
	}
	if (notify_sockaddr(sock, &sa, &salen) < 0) {
		fprintf(stderr,
			"hfinit notify: NOTIFY_SOCKET=\"%s\": not an \"@abstract\" or "
			"\"/path\" address\n",
			sock);
		free(msg);
		return 1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	rc =
	    fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0 || send_bounded(fd, msg, n) < 0
		? 1
		: 0;
	if (rc)
		fprintf(stderr, "hfinit notify: %s: %s\n", sock, strerror(errno));
	else if (wait)
		barrier(fd);
	if (fd >= 0)
		(void)close(fd); /* datagram already sent or failed */
	free(msg);
	return rc;
}
