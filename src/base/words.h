/* Words: shell-like splitting without a shell, NAME=VALUE lists, and the
 * near-miss suggestions of "did you mean". Pure: no I/O. */
#ifndef HFINIT_WORDS_H
#define HFINIT_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/err.h"

/* Values quoted in messages are cut to this many bytes. */
#define SHOW_MAX 60

/* The "%.*s%s" arguments that show a value in a message: at most SHOW_MAX
 * bytes of s, then "..." when it was cut. */
#define SHOW_ARGS(s)                                                                               \
	(strlen(s) > SHOW_MAX ? SHOW_MAX : (int)strlen(s)), (s), (strlen(s) > SHOW_MAX ? "..." : "")

/* Shell-like splitting without a shell: words separated by blanks; '...'
 * quotes literally; "..." quotes with \" \\ \$ \` escapes; a backslash outside
 * quotes escapes the next character. No expansion of any kind. Unquoted shell
 * operators (|, ||, &&, ;, <, >, >>, 2>&1, &) are refused with a hint to use
 * `sh -c '...'` (when reject_operators). *out is a NULL-terminated array of
 * malloc'd strings (free with strv_free); an empty input gives an empty array. */
int split_words(const char *s, bool reject_operators, char ***out, struct err *e);

/* "K=V K2='v 2'": split_words, then each word must be NAME=VALUE with NAME a
 * valid variable name ([A-Za-z_][A-Za-z0-9_]*). Its error messages never
 * quote the text (values are often secrets): they name the variable when
 * the bad word starts with a valid NAME=, else the word's position. */
int parse_env_list(const char *s, char ***out, struct err *e);
/* True when name is [A-Za-z_][A-Za-z0-9_]* (len bytes). */
bool env_name_ok(const char *name, size_t len);

/* Levenshtein distance between a and b, capped at cap+1 (cheap for short names). */
size_t edit_distance(const char *a, const char *b, size_t cap);
/* The candidate nearest to s (distance <= max(1, strlen(s)/3), at most 2), or NULL. */
const char *nearest(const char *s, const char *const *candidates, size_t n);

#endif
