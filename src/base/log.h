/* Levelled logger for hfinit's own lines: one write(2) per line to stderr,
 * text ("hfinit: warn: ...") or JSON lines; secrets are redacted (redact.h). Never allocates; safe
 * to call from anywhere in the parent (not between fork and exec). */
#ifndef HFINIT_LOG_H
#define HFINIT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };
enum log_format { LOG_FMT_TEXT, LOG_FMT_JSON };

void log_setup(enum log_level min, enum log_format fmt);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg and its shorthands below print the formatted text as it is: unlike
 * OpenBSD's log_warn(), log_warn() here does NOT append strerror(errno).
 * log_errno() is the one that appends ": strerror(errnum)" (pass errno, or an
 * error code you hold). errno is preserved across all log calls. */
void log_errno(enum log_level lvl, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Route formatted lines (each ending in '\n') to fn instead of write(2) on
 * stderr, e.g. into the supervisor's non-blocking stderr buffer; NULL: back
 * to stderr. data is passed to fn. */
typedef void log_writer_fn(const char *line, size_t len, void *data);
void log_set_writer(log_writer_fn *fn, void *data);

/* log_timestamps = yes (docs/supervise.md, "Log format"): every text line,
 * hfinit's and the services', starts with "2026-12-01T19:55:00.861Z "; JSON
 * lines always carry "ts". The time is when hfinit read the line: the clock
 * is read once per loop turn (log_clock_tick after each wake-up), not per
 * line, and the formatted seconds are kept until the second changes. */
#define LOG_STAMP_LEN 25 /* the text stamp with its blank */
void log_set_timestamps(bool on);
void log_clock_tick(void);
/* The time as "2026-12-01T19:55:00.861Z" (a static buffer). */
const char *log_time(void);
/* Writes the text stamp to buf (LOG_STAMP_LEN bytes, no NUL) when time stamps
 * are on; returns its length (0 when off). */
size_t log_stamp(char *buf);

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
