/* struct err: a small caller-owned error object (crun style), the one carrier of
 * "what went wrong" in hfinit (docs/design.md, "Errors").
 * Fallible functions that need to explain themselves take a `struct err *`,
 * fill it and return -1; callers add context with err_wrap() as it rises.
 * A category (a stable identifier such as "missing-dependency", shown in
 * status.json) and a one-line hint for a person are optional. */
#ifndef HFINIT_ERR_H
#define HFINIT_ERR_H

#include <stddef.h>

struct err {
	int code;	      /* errno value, or 0 when not a system error */
	char msg[1024];	      /* human-readable, no trailing newline */
	const char *category; /* static string, or NULL */
	char hint[256];	      /* "" when there is none */
};

/* Set e (if non-NULL) to code and the formatted message, with no category and
 * no hint; returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set with code = errno, and ": strerror(errno)" appended; returns -1. */
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend "context: " to e's message; keeps the code; returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Set the category (a static string) and the formatted hint; returns -1. */
int err_hint(struct err *e, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void err_clear(struct err *e);

#endif
