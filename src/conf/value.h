/* Value parsers for the configuration (and anything else that reads the same
 * syntax, e.g. `hfinit notify`). Pure: no I/O. Each returns 0, or -1 with e
 * filled with "what is wrong; expected ..." (no file/line: the caller adds
 * those). Strings in messages are quoted and truncated to stay readable. */
#ifndef HFINIT_VALUE_H
#define HFINIT_VALUE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "base/strv.h"

/* "500ms", "30s", "2m", "1h", or a sum "1m30s"; "0" alone is accepted. A bare
 * number other than 0 is refused (ambiguous). Result in milliseconds, at most
 * 1000 hours. */
int parse_duration_ms(const char *s, uint64_t *out, struct err *e);

/* "4096", "512K", "64M", "1G", "2T" (binary multiples; "KiB"/"KB"/"k" accepted),
 * in bytes. */
int parse_size(const char *s, uint64_t *out, struct err *e);

/* yes/no, true/false, on/off, 1/0 (any case). */
int parse_bool(const char *s, bool *out, struct err *e);

/* A decimal integer in [min, max] (optional sign). */
int parse_int(const char *s, long long min, long long max, long long *out, struct err *e);

/* Signal by name ("TERM", "SIGTERM", "RTMIN+2") or number ("15"). */
int parse_signal(const char *s, int *out, struct err *e);

/* Octal file mode creation mask, "022" or "0027": 0..0777. */
int parse_umask(const char *s, mode_t *out, struct err *e);

/* errno by name ("EPERM", "ENOSYS", ...) or number (1..4095). */
int parse_errno(const char *s, int *out, struct err *e);
/* The name of an errno value parse_errno knows ("EPERM"), or NULL. */
const char *errno_name(int errnum);

/* Shell-like splitting without a shell: words separated by blanks; '...'
 * quotes literally; "..." quotes with \" \\ \$ \` escapes; a backslash outside
 * quotes escapes the next character. No expansion of any kind. Unquoted shell
 * operators (|, ||, &&, ;, <, >, >>, 2>&1, &) are refused with a hint to use
 * `sh -c '...'` (when reject_operators). *out is a NULL-terminated array of
 * malloc'd strings (free with strv_free); an empty input gives an empty array. */
int split_words(const char *s, bool reject_operators, char ***out, struct err *e);

/* "K=V K2='v 2'": split_words, then each word must be NAME=VALUE with NAME a
 * valid variable name ([A-Za-z_][A-Za-z0-9_]*). Its error messages never
 * quote the text (values are often secrets): they name the variable when
 * the bad word starts with a valid NAME=, else the word's position. */
int parse_env_list(const char *s, char ***out, struct err *e);
/* True when name is [A-Za-z_][A-Za-z0-9_]* (len bytes). */
bool env_name_ok(const char *name, size_t len);

/* A readiness or health probe (DESIGN.md §4). */
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

/* Levenshtein distance between a and b, capped at cap+1 (cheap for short names). */
size_t edit_distance(const char *a, const char *b, size_t cap);
/* The candidate nearest to s (distance <= max(1, strlen(s)/3), at most 2), or NULL. */
const char *nearest(const char *s, const char *const *candidates, size_t n);

#endif
