/* libFuzzer target: the JSON reader `hfinit status` reads status.json with
 * (base/jsonread.c), on arbitrary bytes. jr_parse must take anything of any
 * length (no NUL needed), and on success give a tree whose every object has
 * a key per item and whose strings are NUL-terminated within their buffer;
 * status_json_check must agree with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonread.h"
#include "status/status_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct jr *v, int depth)
{
	if (depth > 64)
		abort(); /* nesting is bounded (JSON_MAX_DEPTH) */
	if (v->type == JR_STR && !v->str)
		abort();
	if (v->type == JR_STR)
		(void)strlen(v->str); /* ASan: terminated inside its allocation */
	if ((v->type == JR_ARR || v->type == JR_OBJ) && v->n && !v->items)
		abort();
	if (v->type != JR_OBJ && v->keys)
		abort();
	for (size_t i = 0; i < v->n; i++) {
		if (v->type == JR_OBJ && (!v->keys || !v->keys[i]))
			abort();
		walk(&v->items[i], depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jr v;
	size_t at = 0, at2 = 0;
	char *copy = malloc(size ? size : 1);
	int rc;

	if (!copy)
		return 0;
	memcpy(copy, data, size); /* exactly size bytes: ASan sees any overread */
	rc = jr_parse(copy, size, &v, &at);
	if (rc == 0) {
		walk(&v, 0);
		jr_free(&v);
	} else if (at > size) {
		abort();
	}
	if (status_json_check(copy, size, &at2) != rc || (rc != 0 && at2 != at))
		abort();
	free(copy);
	return 0;
}
