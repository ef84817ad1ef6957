/* The control protocol (docs/control.md) between `hfinit restart|stop|start|
 * signal|wait` and a running hfinit's `control` socket. Pure: the client, the
 * server and tests/fuzz/fuzz_ctlmsg.c use it.
 *
 * A request is one line of printable ASCII, at most CTL_MAX bytes with its
 * newline, words separated by spaces:
 *
 *	hfinit1 restart|stop|start [--no-wait] NAME...
 *	hfinit1 signal NAME SIGNUM
 *	hfinit1 wait [--started|--ready] [--timeout=MS] [NAME...]
 *
 * The replies are lines too: "ok NAME TEXT" and "fail NAME TEXT" per service
 * as each outcome is known, "error TEXT" when the request is refused as a
 * whole, and last "end CODE" (the client's exit code, 0 or 1). */
#ifndef HFINIT_CTLMSG_H
#define HFINIT_CTLMSG_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_VERSION   "hfinit1"
#define CTL_MAX	      4096 /* bytes of a request or reply line, newline included */
#define CTL_NAMES_MAX 64   /* services named in one request */

enum ctl_verb { CTL_RESTART, CTL_STOP, CTL_START, CTL_SIGNAL, CTL_WAIT };

struct ctl_req {
	enum ctl_verb verb;
	bool no_wait;	      /* restart/stop/start: reply once accepted */
	bool started;	      /* wait: --started (else --ready) */
	int sig;	      /* signal: 1..64 */
	long long timeout_ms; /* wait: -1 none */
	size_t nnames;
	const char *names[CTL_NAMES_MAX]; /* into the parsed line */
};

enum ctl_kind { CTL_OK, CTL_FAIL, CTL_ERROR, CTL_END };

struct ctl_reply {
	enum ctl_kind kind;
	const char *name; /* ok, fail: the service; else NULL */
	const char *text; /* ok, fail, error: the text ("" when none) */
	int code;	  /* end: 0 or 1 */
};

/* Parse the len bytes of line (no newline; line has len + 1 bytes), words
 * NUL-terminated in place. 0, or -1 with why (wn bytes) the reason for an
 * "error" reply. */
int ctl_parse(char *line, size_t len, struct ctl_req *r, char *why, size_t wn);
/* The request line of r, newline included, into buf: its length, or -1 when
 * it does not fit (n at most CTL_MAX is the protocol's bound). */
int ctl_format(const struct ctl_req *r, char *buf, size_t n);
/* Parse one reply line (no newline; line has len + 1 bytes), in place. 0,
 * or -1: not a reply. */
int ctl_reply_parse(char *line, size_t len, struct ctl_reply *out);
/* "restart", "stop", "start", "signal", "wait"; ctl_verb_of: -1 unknown. */
const char *ctl_verb_name(enum ctl_verb v);
int ctl_verb_of(const char *word);

#endif
