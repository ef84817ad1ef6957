#include "run/notify.h"

#include "run/pid1.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Not in every libc's or kernel's headers yet (asm-generic values). */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static bool key_is(const char *line, size_t len, const char *key, const char **val, size_t *vlen)
{
	size_t k = strlen(key);

	if (len < k + 1 || memcmp(line, key, k) != 0 || line[k] != '=')
		return false;
	*val = line + k + 1;
	*vlen = len - k - 1;
	return true;
}

static long small_num(const char *v, size_t n)
{
	long x = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

void notify_parse(const char *buf, size_t len, struct notify_msg *m)
{
	const char *p = buf, *end = buf + len;

	memset(m, 0, sizeof(*m));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *v;
		size_t vn;
		long x;

		if (key_is(p, n, "READY", &v, &vn))
			m->ready = vn == 1 && v[0] == '1';
		else if (key_is(p, n, "STOPPING", &v, &vn))
			m->stopping = vn == 1 && v[0] == '1';
		else if (key_is(p, n, "RELOADING", &v, &vn))
			m->reloading = vn == 1 && v[0] == '1';
		else if (key_is(p, n, "WATCHDOG", &v, &vn)) {
			m->watchdog = vn == 1 && v[0] == '1';
			m->watchdog_trigger = vn == 7 && memcmp(v, "trigger", 7) == 0;
		} else if (key_is(p, n, "STATUS", &v, &vn)) {
			size_t c = vn < sizeof(m->status) - 1 ? vn : sizeof(m->status) - 1;
			memcpy(m->status, v, c);
			m->status[c] = '\0';
			m->has_status = true;
		} else if (key_is(p, n, "ERRNO", &v, &vn) && (x = small_num(v, vn)) >= 0) {
			m->has_errno = true;
			m->errnum = (int)x;
		} else if (key_is(p, n, "MAINPID", &v, &vn) && (x = small_num(v, vn)) > 0) {
			m->mainpid = (pid_t)x;
		}
		p += n + 1;
	}
}

int notify_socket_open(const char *name, char *addr, size_t addrlen, struct err *e)
{
	struct sockaddr_un sa;
	int fd, one = 1;
	size_t n;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "notify socket for %s", name);
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		err_sys(e, "notify socket for %s: SO_PASSCRED", name);
		goto fail;
	}
	/* A pidfd of each sender (kernel >= 6.5): without it a reused pid
	 * cannot be told from the sender (docs/supervise.md). */
	(void)setsockopt(fd, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* sun_path[0] = '\0': the abstract namespace. */
	n = (size_t)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "hfinit/%d/%s",
			     (int)getpid(), name);
	if (n >= sizeof(sa.sun_path) - 1 || n + 2 > addrlen) {
		err_set(e, ENAMETOOLONG, "notify socket for %s: name too long", name);
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0) {
		socklen_t len = sizeof(sa_family_t);
		/* Taken: another hfinit with the same pid (PID 1 of another container
		 * sharing this network namespace, e.g. a pod's sidecar). Let the kernel
		 * pick a unique abstract name instead (autobind). */
		if (errno != EADDRINUSE || bind(fd, (struct sockaddr *)&sa, len) < 0) {
			err_sys(e, "notify socket @%s", sa.sun_path + 1);
			goto fail;
		}
		len = sizeof(sa);
		memset(&sa, 0, sizeof(sa));
		if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
			err_sys(e, "notify socket for %s: getsockname", name);
			goto fail;
		}
		n = len - offsetof(struct sockaddr_un, sun_path) - 1;
		if (n + 2 > addrlen) {
			err_set(e, ENAMETOOLONG, "notify socket for %s: name too long", name);
			goto fail;
		}
	}
	addr[0] = '@';
	memcpy(addr + 1, sa.sun_path + 1, n);
	addr[n + 1] = '\0';
	return fd;
fail:
	(void)close(fd);
	return -1;
}

static void take_fds(struct notify_sender *who, const struct cmsghdr *c)
{
	size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

	for (size_t i = 0; i < nfd; i++) {
		int x;
		memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		if (who->nfds < NOTIFY_MAX_FDS)
			who->fds[who->nfds++] = x;
		else
			(void)close(x); /* FDSTORE is not supported: nothing is kept */
	}
}

int notify_recv(int fd, struct notify_msg *m, struct notify_sender *who)
{
	char buf[4096];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)) +
			   CMSG_SPACE(NOTIFY_MAX_FDS * sizeof(int))];
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {0};
	ssize_t n;

	who->pid = -1;
	who->uid = (uid_t)-1;
	who->pidfd = -1;
	who->nfds = 0;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	do
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			who->pid = uc.pid;
			who->uid = uc.uid;
		} else if (c->cmsg_type == SCM_PIDFD && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int x;
			memcpy(&x, CMSG_DATA(c), sizeof(x));
			if (who->pidfd >= 0)
				(void)close(who->pidfd);
			who->pidfd = x; /* negative when the kernel had none to give */
		} else if (c->cmsg_type == SCM_RIGHTS) {
			take_fds(who, c);
		}
	}
	notify_parse(buf, (size_t)n, m);
	return 1;
}

void notify_sender_close(struct notify_sender *who)
{
	if (who->pidfd >= 0)
		(void)close(who->pidfd); /* received fds: nothing to flush */
	who->pidfd = -1;
	for (unsigned i = 0; i < who->nfds; i++)
		(void)close(who->fds[i]); /* a BARRIER=1 sender sees the hang-up now */
	who->nfds = 0;
}

/* The process behind the pidfd has not been reaped (a zombie still counts):
 * signal 0 reaches it, or would but for permission. */
static bool pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

enum notify_origin notify_sender_origin(const struct notify_sender *who, pid_t leader)
{
	pid_t ids[3]; /* ppid, pgrp, session */

	if (who->pid <= 0)
		return NOTIFY_ANON;
	/* Read first, then make sure the pidfd's process still exists: then
	 * what was read is the sender's, not a later process's with its pid. */
	if (pid1_stat_ids(who->pid, ids) < 0 || (who->pidfd >= 0 && !pidfd_alive(who->pidfd)))
		return NOTIFY_GONE;
	if (leader > 0 && (who->pid == leader || ids[1] == leader || ids[2] == leader))
		return NOTIFY_OURS;
	return NOTIFY_FOREIGN;
}

bool notify_gate_pass(struct notify_gate *g, int64_t now_ns, unsigned long long *held)
{
	if (g->last_ns != 0 && now_ns - g->last_ns < NOTIFY_WARN_NS) {
		g->held++;
		return false;
	}
	*held = g->held;
	g->held = 0;
	g->last_ns = now_ns ? now_ns : 1;
	return true;
}

/* "@abstract" or "/path" -> sockaddr; 0 or -1 with errno (EINVAL, ENAMETOOLONG). */
int notify_sockaddr(const char *v, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n;

	if (!v || (v[0] != '@' && v[0] != '/')) {
		errno = EINVAL;
		return -1;
	}
	n = strlen(v);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n > sizeof(sa->sun_path) - (v[0] == '/' ? 1 : 0) || n < 2) {
		errno = n < 2 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, v, n);
	if (v[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: the name is the bytes after NUL */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (v[0] == '/' ? 1 : 0));
	return 0;
}

int notify_connect(const struct sockaddr_un *sa, socklen_t salen)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, salen) < 0) {
		int saved = errno;
		(void)close(fd); /* never used */
		errno = saved;
		return -1;
	}
	return fd;
}

int notify_send(int fd, const struct sockaddr_un *sa, socklen_t salen, const char *msg, size_t n,
		int wait_ms)
{
	struct timespec t0, t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t0); /* cannot fail for MONOTONIC */
	for (;;) {
		ssize_t r = sendto(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL,
				   (const struct sockaddr *)sa, sa ? salen : 0);
		struct pollfd p = {fd, POLLOUT, 0};
		long left;
		if (r >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_ms <= 0)
			return -1;
		(void)clock_gettime(CLOCK_MONOTONIC, &t);
		left =
		    wait_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
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
 * by wait_ms; a receiver without barrier support just times it out. */
void notify_barrier(int fd, int wait_ms)
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
	while (poll(&p, 1, wait_ms) < 0 && errno == EINTR)
		;
	(void)close(pp[0]);
}
