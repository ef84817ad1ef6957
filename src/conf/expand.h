/* ${VAR} in config values (docs/config.md, "Values from the environment"):
 * ${NAME}, ${NAME:-default} (when unset or empty; the default may hold
 * further ${...}), ${NAME:?message} (an error when unset or empty) and $$ for
 * a literal $. Any other $ stays as written (regex:^ready$, sh -c '$HOME').
 * Pure: variables come from get(name, arg). */
#ifndef HFINIT_EXPAND_H
#define HFINIT_EXPAND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define EXPAND_DEPTH 4 /* ${A:-${B:-${C}}}: defaults nest at most this deep */

typedef const char *expand_get_fn(const char *name, void *arg);

struct expand_info {
	char vars[128]; /* "${A}, ${B}": the variables read, each once, cut to fit */
	unsigned nvars; /* how many variables were read (0: nothing came from one) */
	bool secret;	/* one of them names a secret (redact_secret_name) */
};

/* in -> out (cap bytes with the NUL). 0, or -1 with e saying what is wrong
 * (an unset variable, a bad reference, a result longer than cap - 1). */
int expand_value(const char *in, char *out, size_t cap, expand_get_fn *get, void *arg,
		 struct expand_info *info, struct err *e);

#endif
