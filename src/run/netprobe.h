/* Network probes: non-blocking TCP / HTTP attempts for `ready =` and
 * `health =` (the sd_notify side is run/notify.h). The supervisor drives
 * them from its event loop. */
#ifndef HFINIT_NETPROBE_H
#define HFINIT_NETPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "base/err.h"
#include "conf/probe_spec.h"

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
