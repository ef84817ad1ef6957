/* A small JSON reader: a whole document into a tree (base/jsonread.c). */
#ifndef HFINIT_JSONREAD_H
#define HFINIT_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr {
	enum jr_type type;
	int b;
	long long num; /* JR_NUM: the value when num_exact */
	bool num_exact;
	char *str;	  /* JR_STR */
	size_t n;	  /* JR_ARR, JR_OBJ: items */
	struct jr *items; /* values */
	char **keys;	  /* JR_OBJ: keys[i] names items[i] */
};

void jr_free(struct jr *v);
/* Parse a whole document; 0, or -1 with *at = the byte offset of the error. */
int jr_parse(const char *buf, size_t len, struct jr *v, size_t *at);
/* o[key] when o is an object that has key, else NULL. */
const struct jr *jr_get(const struct jr *o, const char *key);
/* o[key] when it is a string, else NULL. */
const char *jr_str(const struct jr *o, const char *key);
/* 1 and *out when key is a number, else 0. */
int jr_num(const struct jr *o, const char *key, long long *out);

#endif
