/* The readiness and health probe specs of the configuration (ready =,
 * health =). Pure: no I/O; a regex is compiled here, nothing is resolved. */
#ifndef HFINIT_PROBE_SPEC_H
#define HFINIT_PROBE_SPEC_H

#include <regex.h>
#include <stdbool.h>

#include "base/err.h"

/* A readiness or health probe (docs/design.md, "Supervisor"). */
enum probe_kind {
	PROBE_NONE = 0, /* health only: no health probe configured */
	PROBE_STARTED,	/* exec succeeded */
	PROBE_LINE,	/* line:TEXT, a stdout or stderr line containing text */
	PROBE_REGEX,	/* regex:RE, a stdout or stderr line matching re (POSIX ERE) */
	PROBE_NOTIFY,	/* notify: sd_notify READY=1 on $NOTIFY_SOCKET */
	PROBE_FD,	/* fd:N, a newline written on fd N (s6 style) */
	PROBE_TCP,	/* tcp:[HOST:]PORT, a TCP connect succeeds */
	PROBE_HTTP,	/* http://HOST[:PORT][/PATH], GET answers 2xx */
	PROBE_FILE,	/* file:PATH exists */
	PROBE_EXEC,	/* exec:CMD exits 0 */
};

struct probe {
	enum probe_kind kind;
	char *spec;  /* the value as written, for messages and the status file */
	char *text;  /* LINE: the text; REGEX: the pattern; FILE: the path; HTTP: the path ("/x") */
	char *host;  /* TCP, HTTP: host name or address as written ("127.0.0.1" by default;
			IPv6 without brackets); not resolved here */
	int port;    /* TCP, HTTP: 1..65535 (HTTP defaults to 80) */
	int fd;	     /* FD: 3..1023 */
	char **argv; /* EXEC: the command, split like `command` */
	bool
	    has_re; /* REGEX: re is compiled (REG_EXTENDED | REG_NOSUB); regfree'd by config_free */
	regex_t re;
};

/* Parse a ready = / health = value. health: only the polled kinds (tcp, http,
 * file, exec) are allowed. On failure *out is left empty (kind PROBE_NONE). */
int parse_probe(const char *s, bool health, struct probe *out, struct err *e);
void probe_free(struct probe *p);
/* "started", "line", "regex", "notify", "fd", "tcp", "http", "file", "exec", "none" */
const char *probe_kind_name(enum probe_kind k);
/* Whether a probe of kind k is checked again and again until it passes
 * (tcp, http, file, exec): the kinds a health check may use. */
bool probe_kind_polled(enum probe_kind k);

#endif
