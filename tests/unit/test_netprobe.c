/* Unit tests: TCP and HTTP probe attempts against real sockets on
 * 127.0.0.1. */
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

#include "run/netprobe.h"

static int listener(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Drive one probe attempt to its end, with a bounded wait per step. A server
 * callback may answer in between. */
static int drive(struct netprobe *np, int r, int srv, const char *answer)
{
	int conn = -1;
	for (int i = 0; i < 20 && r == NETPROBE_PENDING; i++) {
		struct pollfd p = {.fd = np->fd, .events = (short)np->want};
		if (srv >= 0 && conn < 0 && answer && np->sent) {
			struct pollfd ps = {.fd = srv, .events = POLLIN};
			if (poll(&ps, 1, 1000) == 1) {
				char req[512];
				conn = accept(srv, NULL, NULL);
				assert_true(conn >= 0);
				ssize_t k = read(conn, req, sizeof(req) - 1);
				assert_true(k > 0);
				req[k] = '\0';
				assert_non_null(strstr(req, "GET /health HTTP/1.1\r\n"));
				assert_int_equal(write(conn, answer, strlen(answer)),
						 (ssize_t)strlen(answer));
			}
		}
		assert_int_equal(poll(&p, 1, 2000), 1);
		r = netprobe_step(np, (uint32_t)p.revents);
	}
	if (conn >= 0)
		close(conn);
	return r;
}

static void test_tcp_probe(void **state)
{
	struct probe p = {.kind = PROBE_TCP, .spec = "tcp", .host = "127.0.0.1"};
	struct sockaddr_storage sa;
	socklen_t sl;
	struct netprobe np;
	struct err e;
	int port;
	(void)state;

	int srv = listener(&port);
	p.port = port;
	assert_int_equal(probe_addr(&p, &sa, &sl, &e), 0);
	netprobe_init(&np);
	assert_int_equal(drive(&np, netprobe_start(&np, &p, &sa, sl), -1, NULL), NETPROBE_OK);
	assert_int_equal(np.fd, -1);
	close(srv);
	/* Nothing listens now: refused. */
	assert_int_equal(drive(&np, netprobe_start(&np, &p, &sa, sl), -1, NULL), NETPROBE_FAIL);
	assert_non_null(strstr(np.why, "refused"));
}

static void test_http_probe(void **state)
{
	struct probe p = {
	    .kind = PROBE_HTTP, .spec = "http", .host = "127.0.0.1", .text = "/health"};
	struct sockaddr_storage sa;
	socklen_t sl;
	struct netprobe np;
	struct err e;
	int port;
	(void)state;

	int srv = listener(&port);
	p.port = port;
	assert_int_equal(probe_addr(&p, &sa, &sl, &e), 0);
	netprobe_init(&np);
	assert_int_equal(
	    drive(&np, netprobe_start(&np, &p, &sa, sl), srv, "HTTP/1.1 204 No Content\r\n\r\n"),
	    NETPROBE_OK);
	assert_int_equal(drive(&np, netprobe_start(&np, &p, &sa, sl), srv,
			       "HTTP/1.1 503 Service Unavailable\r\n\r\n"),
			 NETPROBE_FAIL);
	assert_string_equal(np.why, "HTTP status 503");
	assert_int_equal(drive(&np, netprobe_start(&np, &p, &sa, sl), srv, "SSH-2.0-x\r\n"),
			 NETPROBE_FAIL);
	assert_string_equal(np.why, "not an HTTP response");
	close(srv);
}

static void test_probe_addr_bad_host(void **state)
{
	struct probe p = {
	    .kind = PROBE_TCP, .spec = "tcp:nohost.invalid:1", .host = "nohost.invalid", .port = 1};
	struct sockaddr_storage sa;
	socklen_t sl;
	struct err e;
	(void)state;
	assert_int_equal(probe_addr(&p, &sa, &sl, &e), -1);
	assert_non_null(strstr(e.msg, "cannot resolve nohost.invalid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_probe),
	    cmocka_unit_test(test_http_probe),
	    cmocka_unit_test(test_probe_addr_bad_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
