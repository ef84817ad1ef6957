/* Formatting helpers: one duration format everywhere (config errors, logs,
 * `hfinit status`), and truncating snprintf for diagnostics. */
#ifndef HFINIT_FMT_H
#define HFINIT_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ms as the largest whole unit: "2h", "90s", "1500ms", "0ms"; returns buf. */
const char *fmt_duration(uint64_t ms, char *buf, size_t len);

/* snprintf for diagnostics, where truncating what does not fit is intended. */
void fmt_trunc(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* First line of s (up to n bytes) copied to dst, trailing CR removed. */
void first_line(const char *s, size_t n, char *dst, size_t dstsz);

/* Each byte of s outside printable ASCII (0x20..0x7e) becomes '?': untrusted
 * text (a file name, a service's stderr line) made safe for one line of a
 * log or of the control protocol. */
void fmt_ascii(char *s);

/* ts as RFC 3339 UTC with milliseconds, "2026-12-01T19:55:00.861Z" (24
 * bytes and a NUL: status.json's times and the log's time stamps); 0, or -1
 * when the time cannot be broken down (buf untouched). */
int fmt_rfc3339(const struct timespec *ts, char *buf, size_t n);

#endif
