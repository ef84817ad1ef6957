/* A small JSON writer into a growable buffer. Commas and nesting are tracked
 * by the writer, strings are escaped per RFC 8259 and invalid UTF-8 is
 * replaced by U+FFFD so the output is always valid JSON. Allocation failure
 * is sticky: every later call is a no-op and json_finish() reports it. */
#ifndef HFINIT_JSON_H
#define HFINIT_JSON_H

#include <stddef.h>

#define JSON_MAX_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	int failed;		   /* ENOMEM or nesting error seen */
	int depth;		   /* open containers */
	int first[JSON_MAX_DEPTH]; /* nothing written yet at this level */
	int after_key;		   /* a key was written, a value must follow */
	int pretty;		   /* indent with two spaces */
	int fold;		   /* pretty, and > 0: an object whose items are deeper
				    * than this is written on one line, ", " between items */
	int flat;		   /* the depth of the folded object open, or 0 */
	int redact;		   /* string values with secrets as *** (redact.h) */
};

void json_init(struct json *j, int pretty);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s); /* NULL writes null */
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, long long v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* Shorthands for "key": value inside an object. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_kint(struct json *j, const char *key, long long v);
void json_kbool(struct json *j, const char *key, int v);
/* Appends escaped string contents (no quotes) of s[0..n) to j. */
void json_escape(struct json *j, const char *s, size_t n);
/* The same escaping into dst[0..cap) without allocating (hfinit's own log
 * lines): as much of s[0..n) as fits, never cutting an escape or a UTF-8
 * sequence; returns the bytes written (no NUL). */
size_t json_escape_to(char *dst, size_t cap, const char *s, size_t n);
/* 0 and *out = NUL-terminated text (caller frees) when complete and
 * balanced; -1 with errno (ENOMEM, EINVAL for unbalanced) otherwise.
 * The buffer is released either way. */
int json_finish(struct json *j, char **out, size_t *outlen);
void json_free(struct json *j);

#endif
