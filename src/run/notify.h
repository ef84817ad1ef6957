/* The sd_notify protocol, once (docs/design.md, "Status files"): the
 * listening socket of a `ready = notify` service, receiving and parsing its
 * datagrams and who sent them (docs/supervise.md, "Who may send readiness"),
 * the "@abstract" / "/path" address of $NOTIFY_SOCKET, and the sending side
 * (hfinit's own READY=1 upward, `hfinit notify`). */
#ifndef HFINIT_NOTIFY_H
#define HFINIT_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "base/err.h"

struct notify_msg {
	bool ready;    /* READY=1 */
	bool stopping; /* STOPPING=1 */
	bool reloading;
	bool has_status;
	char status[256]; /* STATUS=... (truncated) */
	bool has_errno;
	int errnum;	       /* ERRNO=N */
	bool watchdog;	       /* WATCHDOG=1 */
	bool watchdog_trigger; /* WATCHDOG=trigger: fail now */
	pid_t mainpid;	       /* MAINPID=N, 0 when absent */
};

/* Parse one datagram: newline-separated KEY=VALUE assignments; unknown keys
 * are ignored, as sd_notify(3) asks. */
void notify_parse(const char *buf, size_t len, struct notify_msg *m);

/* A non-blocking, CLOEXEC datagram socket with SO_PASSCRED (and, where the
 * kernel has it, SO_PASSPIDFD), bound to an abstract address (no file to own
 * or clean up; uid 1000 services can reach it). addr receives the
 * $NOTIFY_SOCKET value ("@hfinit/PID/NAME"). */
int notify_socket_open(const char *name, char *addr, size_t addrlen, struct err *e);

#define NOTIFY_MAX_FDS 8

/* Who sent a datagram, as the kernel says. */
struct notify_sender {
	pid_t pid; /* SCM_CREDENTIALS, -1 when none came */
	uid_t uid;
	int pidfd;		 /* SCM_PIDFD (kernel >= 6.5), -1 when none came */
	int fds[NOTIFY_MAX_FDS]; /* SCM_RIGHTS sent along (BARRIER=1, FDSTORE) */
	unsigned nfds;		 /* closed by notify_sender_close, after the check, */
				 /* so a sender waiting on a barrier lives until then */
};

/* Receive one datagram: 1 with m and who filled, 0 when none is waiting, -1
 * on error. Call notify_sender_close(who) after each 1. */
int notify_recv(int fd, struct notify_msg *m, struct notify_sender *who);
void notify_sender_close(struct notify_sender *who);

enum notify_origin {
	NOTIFY_OURS,	/* in the service's process group or session */
	NOTIFY_FOREIGN, /* a live process outside the service */
	NOTIFY_GONE,	/* exited and reaped before it could be checked */
	NOTIFY_ANON,	/* no credentials */
};

/* Whether the sender belongs to the service whose main process (a session
 * and process group leader) is leader: the sender's process group or
 * session is leader's, read from /proc/PID/stat while the sender lives (a
 * zombie counts). With a pidfd the sender is checked to be still the same
 * process after the read, so a reused pid does not count. */
enum notify_origin notify_sender_origin(const struct notify_sender *who, pid_t leader);

/* Rate limit for the warnings about ignored datagrams: the first is logged,
 * then at most one per NOTIFY_WARN_NS, each saying how many were held back
 * since the previous one; no timer: notify_gate_flush says the rest. */
#define NOTIFY_WARN_NS (10 * 1000000000LL)
struct notify_gate {
	int64_t last_ns; /* when the last warning was logged, 0: never */
	unsigned long long held;
};

/* true: log this one now (*held gets the count held back before it, and the
 * gate restarts); false: counted and held back. */
bool notify_gate_pass(struct notify_gate *g, int64_t now_ns, unsigned long long *held);

/* "@abstract" or "/path" -> sockaddr; 0 or -1 with errno (EINVAL, ENAMETOOLONG). */
int notify_sockaddr(const char *v, struct sockaddr_un *sa, socklen_t *len);
/* A datagram socket (blocking, CLOEXEC) connected to sa; the fd, or -1 with errno. */
int notify_connect(const struct sockaddr_un *sa, socklen_t salen);
/* Send msg[0..n) as one datagram: to sa on an unconnected socket, or with sa
 * NULL on fd's connection. EINTR is retried. When the receiver's queue is
 * full, wait up to wait_ms for room (a connected socket only: an unconnected
 * one always polls writable), then ETIMEDOUT; wait_ms 0 fails at once
 * (EAGAIN). 0, or -1 with errno. */
int notify_send(int fd, const struct sockaddr_un *sa, socklen_t salen, const char *msg, size_t n,
		int wait_ms);
/* BARRIER=1 on a connected fd (sd_notify_barrier(3)); waits up to wait_ms
 * for the receiver to have read everything sent before it. */
void notify_barrier(int fd, int wait_ms);

#endif
