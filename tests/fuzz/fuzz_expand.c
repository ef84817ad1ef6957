/* libFuzzer target: ${VAR} expansion of config values (make fuzz). For any
 * text: no crash, no read or write out of bounds, a result that fits its
 * buffer, the same result at every capacity that holds it, an error only when
 * too small for it, and, without "${", the text with each $$ made $. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/expand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *get(const char *name, void *arg)
{
	(void)arg;
	if (strcmp(name, "A") == 0)
		return "alpha";
	if (strcmp(name, "E") == 0)
		return "";
	if (strcmp(name, "L") == 0)
		return "a long value with ${A} and $$ in it, never expanded again";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *out = malloc(4096), *small;
	struct expand_info xi;
	struct err e;
	size_t len;

	if (!in || !out)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	if (expand_value(in, out, 4096, get, NULL, &xi, &e) == 0) {
		len = strlen(out);
		if (len >= 4096 || strlen(xi.vars) >= sizeof(xi.vars))
			abort();
		small = malloc(len + 1);
		if (!small || expand_value(in, small, len + 1, get, NULL, &xi, &e) != 0 ||
		    strcmp(small, out) != 0)
			abort();
		if (len && expand_value(in, small, len, get, NULL, &xi, &e) == 0)
			abort();
		free(small);
		if (!strstr(in, "${")) {
			size_t o = 0;
			for (const char *p = in; *p; p += p[0] == '$' && p[1] == '$' ? 2 : 1)
				if (out[o++] != *p)
					abort();
			if (o != len || xi.nvars)
				abort();
		}
	} else if (!e.msg[0]) {
		abort();
	}
	free(in);
	free(out);
	return 0;
}
