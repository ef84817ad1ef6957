/* NULL-terminated string vectors: the one implementation (docs/design.md, "Base"). */
#ifndef HFINIT_STRV_H
#define HFINIT_STRV_H

#include <stddef.h>

size_t strv_len(char *const *v);
void strv_free(char **v);
/* Append s (taking ownership) to *v of length *n; frees s and sets ENOMEM on failure. */
int strv_push(char ***v, size_t *n, char *s);
/* Append (a copy of) every string of src to *dst; -1/ENOMEM on failure. */
int strv_extend(char ***dst, char *const *src);
/* "a b c" -> "a b c" with words quoted when needed; malloc'd, NULL on ENOMEM. */
char *strv_join(char *const *v);
/* getenv(name), or NULL when it is unset or empty. */
const char *env_nonempty(const char *name);

#endif
