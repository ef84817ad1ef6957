/* Value parsers for the configuration (and anything else that reads the same
 * syntax, e.g. `hfinit notify`). Pure: no I/O. Each returns 0, or -1 with e
 * filled with "what is wrong; expected ..." (no file/line: the caller adds
 * those). Strings in messages are quoted and truncated to stay readable. */
#ifndef HFINIT_VALUE_H
#define HFINIT_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

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

#endif
