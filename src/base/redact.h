/* Secrets in hfinit's output (docs/config.md, "Secrets"): one rule for which
 * variables hold secrets, a process-wide set of their exact values, and
 * pattern scrubbers for strings shaped like secrets (Hub tokens, Bearer
 * tokens, URL passwords). Every marked stretch of text becomes "***".
 * Never allocates on the fast path (nothing to redact); not for use between
 * fork and exec. */
#ifndef HFINIT_REDACT_H
#define HFINIT_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_MARK	  "***"
#define REDACT_MIN	  6    /* shorter values are not collected (TOKENIZERS_PARALLELISM=false) */
#define REDACT_MAX_VALUES 1024 /* values kept; more are ignored */
#define REDACT_HF_MIN	  30   /* hf_ + at least this many letters and digits */

/* 1 if a variable of this name holds a secret: the name contains TOKEN, KEY,
 * SECRET or PASS (which covers PASSWORD and PASSWD), in any case. */
bool redact_secret_name(const char *name, size_t len);
/* Adds one exact value (copied; at least REDACT_MIN bytes, else ignored).
 * 0, or -1 when out of memory. */
int redact_add(const char *value, size_t len);
/* Adds the values of the secret-named variables of a NAME=VALUE list. */
int redact_add_env(char *const *envp);
/* Forget every value (tests). The next use collects hfinit's environment
 * again. */
void redact_reset(void);

/* 1 if s[0..n) has anything to redact (a value or a pattern). */
bool redact_needed(const char *s, size_t n);
/* Where, at or after from, s[0..n) may have something to redact (the start
 * of a value, or a place a shape may begin), or n: a line of s that ends
 * before it has nothing to redact (a superset of what redact_to finds in each
 * line, so a scan of a whole read spares the lines before it). */
size_t redact_next(const char *s, size_t from, size_t n);
/* Writes s[0..n) redacted to out (cap >= 1 bytes, NUL-terminated, cut to
 * fit); returns its length, or (size_t)-1 when s has nothing to redact (out
 * untouched). s and out must not overlap. */
size_t redact_to(const char *s, size_t n, char *out, size_t cap);
/* Redacts the NUL-terminated s in place (its buffer holds cap bytes). */
void redact_str(char *s, size_t cap);

#endif
