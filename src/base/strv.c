#include "base/strv.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv) {
		free(s);
		errno = ENOMEM;
		return -1;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int strv_extend(char ***dst, char *const *src)
{
	size_t n = strv_len(*dst);

	if (!*dst) {
		*dst = calloc(1, sizeof(**dst));
		if (!*dst) {
			errno = ENOMEM;
			return -1;
		}
	}
	for (size_t i = 0; src && src[i]; i++) {
		char *c = strdup(src[i]);
		if (!c || strv_push(dst, &n, c) < 0) {
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_./:=,+@%", *s))
			return true;
	return false;
}

char *strv_join(char *const *v)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; v && v[i]; i++)
		len += 4 * strlen(v[i]) + 3;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			*p++ = ' ';
		if (!needs_quotes(v[i])) {
			strcpy(p, v[i]);
			p += strlen(v[i]);
			continue;
		}
		/* '...' with each ' written as '\'' */
		*p++ = '\'';
		for (const char *s = v[i]; *s; s++) {
			if (*s == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *s;
			}
		}
		*p++ = '\'';
	}
	*p = '\0';
	return out;
}

const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}
