#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <unistd.h>

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
		else if (key_is(p, n, "WATCHDOG", &v, &vn))
			m->watchdog = vn == 1 && v[0] == '1';
		else if (key_is(p, n, "STATUS", &v, &vn)) {
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

int notify_recv(int fd, struct notify_msg *m, pid_t *sender_pid, uid_t *sender_uid)
{
	char buf[4096];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {0};
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = &ctl;
	mh.msg_controllen = sizeof(ctl);
	do
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	*sender_pid = -1;
	*sender_uid = (uid_t)-1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*sender_pid = uc.pid;
			*sender_uid = uc.uid;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			/* fds sent along (FDSTORE): not supported, close them */
			size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfd; i++) {
				int x;
				memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				(void)close(x);
			}
		}
	}
	notify_parse(buf, (size_t)n, m);
	return 1;
}

int probe_addr(const struct probe *p, struct sockaddr_storage *sa, socklen_t *salen, struct err *e)
{
	struct addrinfo hints = {0}, *res = NULL;
	char port[8];
	int rc;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", p->port);
	rc = getaddrinfo(p->host ? p->host : "127.0.0.1", port, &hints, &res);
	if (rc != 0)
		return err_set(e, EHOSTUNREACH, "probe %s: cannot resolve %s: %s", p->spec,
			       p->host ? p->host : "127.0.0.1", gai_strerror(rc));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void netprobe_init(struct netprobe *np)
{
	memset(np, 0, sizeof(*np));
	np->fd = -1;
}

void netprobe_close(struct netprobe *np)
{
	if (np->fd >= 0)
		(void)close(np->fd);
	np->fd = -1;
	np->want = 0;
}

static int fail(struct netprobe *np, const char *what, int errnum)
{
	if (errnum)
		snprintf(np->why, sizeof(np->why), "%s: %s", what, strerror(errnum));
	else
		snprintf(np->why, sizeof(np->why), "%s", what);
	netprobe_close(np);
	return NETPROBE_FAIL;
}

int netprobe_start(struct netprobe *np, const struct probe *p, const struct sockaddr_storage *sa,
		   socklen_t salen)
{
	netprobe_close(np);
	np->http = p->kind == PROBE_HTTP;
	np->sent = false;
	np->reqoff = np->resplen = 0;
	np->why[0] = '\0';
	if (np->http) {
		int k = snprintf(np->req, sizeof(np->req),
				 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: hfinit\r\n"
				 "Connection: close\r\n\r\n",
				 p->text && p->text[0] ? p->text : "/",
				 p->host ? p->host : "127.0.0.1", p->port);
		if (k < 0 || (size_t)k >= sizeof(np->req))
			return fail(np, "request too long", 0);
		np->reqlen = (size_t)k;
	}
	np->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (np->fd < 0)
		return fail(np, "socket", errno);
	if (connect(np->fd, (const struct sockaddr *)sa, salen) < 0 && errno != EINPROGRESS)
		return fail(np, "connect", errno);
	np->want = EPOLLOUT;
	return NETPROBE_PENDING;
}

int netprobe_step(struct netprobe *np, uint32_t revents)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (np->fd < 0)
		return NETPROBE_FAIL;
	if (np->want == EPOLLOUT && !np->sent) {
		if (getsockopt(np->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return fail(np, "connect", errno);
		if (soerr)
			return fail(np, "connect", soerr);
		if (!(revents & EPOLLOUT))
			return fail(np, "connect", ECONNREFUSED);
		if (!np->http) {
			netprobe_close(np);
			return NETPROBE_OK;
		}
		while (np->reqoff < np->reqlen) {
			ssize_t w = send(np->fd, np->req + np->reqoff, np->reqlen - np->reqoff,
					 MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return NETPROBE_PENDING;
			if (w < 0)
				return fail(np, "send", errno);
			np->reqoff += (size_t)w;
		}
		np->sent = true;
		np->want = EPOLLIN;
		return NETPROBE_PENDING;
	}
	/* Reading the status line: "HTTP/1.x NNN ..." */
	for (;;) {
		ssize_t r =
		    recv(np->fd, np->resp + np->resplen, sizeof(np->resp) - 1 - np->resplen, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return NETPROBE_PENDING;
		if (r < 0)
			return fail(np, "recv", errno);
		np->resplen += (size_t)r;
		np->resp[np->resplen] = '\0';
		if (r == 0 || np->resplen >= 12 || memchr(np->resp, '\n', np->resplen))
			break;
	}
	if (np->resplen < 12 || strncmp(np->resp, "HTTP/1.", 7) != 0 || np->resp[8] != ' ')
		return fail(np, "not an HTTP response", 0);
	if (np->resp[9] == '2') {
		netprobe_close(np);
		return NETPROBE_OK;
	}
	char what[32];
	snprintf(what, sizeof(what), "HTTP status %.3s", np->resp + 9);
	return fail(np, what, 0);
}
