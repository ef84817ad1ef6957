/* Readiness mechanics (DESIGN.md §4) that are not line matching: the
 * sd_notify datagram socket, and non-blocking TCP / HTTP probe attempts.
 * The supervisor drives them from its event loop. */
#ifndef HFINIT_READY_H
#define HFINIT_READY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "err.h"
#include "parse.h"

/* --- sd_notify ----------------------------------------------------------- */

struct notify_msg {
	bool ready;    /* READY=1 */
	bool stopping; /* STOPPING=1 */
	bool reloading;
	bool has_status;
	char status[256]; /* STATUS=... (truncated) */
	bool has_errno;
	int errnum; /* ERRNO=N */
	bool watchdog;
	pid_t mainpid; /* MAINPID=N, 0 when absent */
};

/* Parse one datagram: newline-separated KEY=VALUE assignments; unknown keys
 * are ignored, as sd_notify(3) asks. */
void notify_parse(const char *buf, size_t len, struct notify_msg *m);

/* A non-blocking, CLOEXEC datagram socket with SO_PASSCRED, bound to an
 * abstract address (no file to own or clean up; uid 1000 services can reach
 * it). addr receives the $NOTIFY_SOCKET value ("@hfinit/PID/NAME"). */
int notify_socket_open(const char *name, char *addr, size_t addrlen, struct err *e);

/* Receive one datagram: 1 with m and sender filled, 0 when none is waiting,
 * -1 on error. sender_pid/uid are -1 when the kernel passed no credentials. */
int notify_recv(int fd, struct notify_msg *m, pid_t *sender_pid, uid_t *sender_uid);

/* --- TCP and HTTP probes --------------------------------------------------- */

/* Resolve the probe's host once (numeric, or /etc/hosts and DNS through
 * getaddrinfo); the first address is used. */
int probe_addr(const struct probe *p, struct sockaddr_storage *sa, socklen_t *salen, struct err *e);

enum netprobe_result { NETPROBE_PENDING = 0, NETPROBE_OK = 1, NETPROBE_FAIL = -1 };

struct netprobe {
	int fd;	       /* -1 when idle */
	uint32_t want; /* epoll events to wait for */
	bool http;
	bool sent;
	char req[512];
	size_t reqlen, reqoff;
	char resp[64];
	size_t resplen;
	char why[128]; /* why the last attempt failed, for messages */
};

void netprobe_init(struct netprobe *np);
/* Begin one attempt: a non-blocking connect (and for HTTP, a GET once
 * connected). Returns NETPROBE_PENDING with np->fd to watch for np->want,
 * NETPROBE_OK at once, or NETPROBE_FAIL (np->why says why). */
int netprobe_start(struct netprobe *np, const struct probe *p, const struct sockaddr_storage *sa,
		   socklen_t salen);
/* Continue after an event on np->fd; same results. np->want may change. */
int netprobe_step(struct netprobe *np, uint32_t revents);
void netprobe_close(struct netprobe *np);

#endif
