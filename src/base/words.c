/* Words without a shell: splitting (quotes, escapes, shell operators
 * refused), NAME=VALUE lists whose messages never show a value, and the
 * near-miss suggestions behind every "did you mean". */
#include "base/words.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strv.h"

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
/* --- shell-like word splitting ------------------------------------------------ */

static bool is_operator(const char *w)
{
	static const char *const ops[] = {"|",	"||", "&&",   ";",   ";;",   "&",  "<",	 ">",  ">>",
					  "<<", "2>", "2>&1", ">&2", "1>&2", "&>", "|&", "<<<"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(w, ops[i]) == 0)
			return true;
	return false;
}

/* Where a bad word of an `env =` value is, without its text (it may hold a
 * secret): "HF_TOKEN" when the word starts with a valid NAME=, else "word N". */
static void env_word_where(char *buf, size_t cap, const char *w, size_t wordno)
{
	size_t nl = strcspn(w, "= \t\r\n\v\f'\"\\");

	if (w[nl] == '=' && env_name_ok(w, nl) && nl < 64)
		snprintf(buf, cap, "%.*s", (int)nl, w);
	else
		snprintf(buf, cap, "word %zu", wordno);
}

enum split_fail { SPLIT_SQUOTE, SPLIT_DQUOTE, SPLIT_BACKSLASH };

static void split_error(enum split_fail why, const char *s, const char *w, size_t wordno, bool env,
			struct err *e)
{
	static const char *const what[] = {"unterminated single quote", "unterminated double quote",
					   "ends with a lone backslash"};
	static const char *const want[] = {"a closing '", "a closing \"",
					   "a character after it (write \\\\ for a backslash)"};
	char where[96];

	if (env) {
		env_word_where(where, sizeof(where), w, wordno);
		err_set(e, 0, "%s: %s (the value is not shown); expected %s", where, what[why],
			want[why]);
	} else if (why == SPLIT_BACKSLASH) {
		err_set(e, 0, "\"%.*s%s\" %s; expected %s", SHOW_ARGS(s), what[why], want[why]);
	} else {
		err_set(e, 0, "%s in \"%.*s%s\"; expected %s", what[why], SHOW_ARGS(s), want[why]);
	}
}

/* One word at *pp (not blank) into w, unquoted; *pp moves past it. -1 with
 * *why on a quote or backslash that does not end; quoted: any quoting seen. */
static int read_word(const char **pp, char *w, bool *quoted, enum split_fail *why)
{
	const char *p = *pp;
	size_t wlen = 0;

	*quoted = false;
	while (*p && !is_blank(*p)) {
		if (*p == '\'') {
			const char *q = strchr(p + 1, '\'');
			if (!q) {
				*why = SPLIT_SQUOTE;
				return -1;
			}
			memcpy(w + wlen, p + 1, (size_t)(q - p - 1));
			wlen += (size_t)(q - p - 1);
			p = q + 1;
			*quoted = true;
		} else if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				w[wlen++] = *p++;
			}
			if (*p != '"') {
				*why = SPLIT_DQUOTE;
				return -1;
			}
			p++;
			*quoted = true;
		} else if (*p == '\\') {
			if (!p[1]) {
				*why = SPLIT_BACKSLASH;
				return -1;
			}
			w[wlen++] = p[1];
			p += 2;
			*quoted = true;
		} else {
			w[wlen++] = *p++;
		}
	}
	w[wlen] = '\0';
	*pp = p;
	return 0;
}

/* split_words; env: messages never quote the text (`env =` values). */
static int split(const char *s, bool reject_operators, bool env, char ***out, struct err *e)
{
	size_t cap = strlen(s) + 1, n = 0;
	char **v = calloc(1, sizeof(*v));
	char *w = NULL;
	const char *p = s, *ws;

	*out = NULL;
	if (!v)
		goto nomem;
	for (;;) {
		enum split_fail why;
		bool quoted;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		w = malloc(cap);
		if (!w)
			goto nomem;
		ws = p;
		if (read_word(&p, w, &quoted, &why) < 0) {
			split_error(why, s, ws, n + 1, env, e);
			goto fail;
		}
		if (reject_operators && !quoted && is_operator(w)) {
			err_set(
			    e, 0,
			    "\"%s\" is shell syntax, but no shell runs the command; expected a "
			    "plain command and arguments (quote it to pass it literally, or use "
			    "sh -c '...')",
			    w);
			goto fail;
		}
		if (strv_push(&v, &n, w) < 0) {
			w = NULL;
			goto nomem;
		}
		w = NULL;
	}
	*out = v;
	return 0;
nomem:
	err_set(e, ENOMEM, "out of memory");
fail:
	free(w);
	strv_free(v);
	return -1;
}

int split_words(const char *s, bool reject_operators, char ***out, struct err *e)
{
	return split(s, reject_operators, false, out, e);
}

bool env_name_ok(const char *name, size_t len)
{
	if (!len || isdigit((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

/* Errors name the variable or the word's position, never a value. */
int parse_env_list(const char *s, char ***out, struct err *e)
{
	char **v;

	if (split(s, false, true, &v, e) < 0)
		return -1;
	if (!v[0]) {
		strv_free(v);
		return err_set(e, 0, "empty; expected NAME=VALUE pairs such as HF_HOME=/data/hf");
	}
	for (size_t i = 0; v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		if (!eq && i > 0) {
			err_set(
			    e, 0,
			    "word %zu (after %.*s=) has no '=' (the text is not shown); expected "
			    "NAME=VALUE pairs (quote a value that contains blanks: NAME='a b')",
			    i + 1, (int)strcspn(v[i - 1], "="), v[i - 1]);
		} else if (!eq) {
			err_set(e, 0,
				"word 1 has no '=' (the text is not shown); expected NAME=VALUE "
				"pairs such as HF_HOME=/data/hf LOG_LEVEL=info");
		} else if (!env_name_ok(v[i], (size_t)(eq - v[i]))) {
			err_set(e, 0,
				"word %zu: the name before '=' is not valid (the text is not "
				"shown); expected NAME=VALUE with a NAME of letters, digits and _, "
				"not starting with a digit",
				i + 1);
		} else {
			continue;
		}
		strv_free(v);
		return -1;
	}
	*out = v;
	return 0;
}
/* --- near misses -------------------------------------------------------------- */

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions,
 * so "retires" is one step from "retries"), case-insensitive. */
size_t edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t r0[65], r1[65], r2[65]; /* rows i-2, i-1, i */
	size_t *pp = r0, *prev = r1, *cur = r2;

	if (la > 64 || lb > 64)
		return strcasecmp(a, b) == 0 ? 0 : cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		int ca = tolower((unsigned char)a[i - 1]);
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);
			size_t best = prev[j - 1] + (ca == cb ? 0 : 1);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *nearest(const char *s, const char *const *candidates, size_t n)
{
	size_t len = strlen(s);
	size_t limit = len / 3 < 1 ? 1 : (len / 3 > 2 ? 2 : len / 3);
	const char *best = NULL;
	size_t bestd = limit + 1;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(s, candidates[i], limit);
		if (d < bestd) {
			bestd = d;
			best = candidates[i];
		}
	}
	return best;
}
