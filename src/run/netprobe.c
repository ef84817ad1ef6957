#include "run/netprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <unistd.h>

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
