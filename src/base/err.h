/* struct err: a small caller-owned error object (crun style).
 * Fallible functions that need to explain themselves take a `struct err *`,
 * fill it and return -1; callers add context with err_wrap() as it rises. */
#ifndef HFINIT_ERR_H
#define HFINIT_ERR_H

#include <stddef.h>

struct err {
	int code;	/* errno value, or 0 when not a system error */
	char msg[1024]; /* human-readable, no trailing newline */
};

/* Set e (if non-NULL) to code and the formatted message; returns -1. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set with code = errno, and ": strerror(errno)" appended; returns -1. */
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend "context: " to e's message; keeps the code; returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

#endif
