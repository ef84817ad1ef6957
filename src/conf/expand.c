/* ${VAR} in config values: a recursive scan over the text, writing into a
 * bounded buffer; a default is scanned (for its syntax) even when unused, but
 * its variables are read only when it is used. */
#include "conf/expand.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/redact.h"

struct xst {
	char *out;
	size_t cap, len;
	expand_get_fn *get;
	void *arg;
	struct expand_info *info;
	struct err *e;
};

static int put(struct xst *x, const char *s, size_t n)
{
	if (n >= x->cap - x->len)
		return err_set(x->e, 0,
			       "the value expands to more than %zu bytes; expected at most that",
			       x->cap - 1);
	memcpy(x->out + x->len, s, n);
	x->len += n;
	return 0;
}

/* The variable name[0..n) was read: listed once in info->vars. */
static void note(struct expand_info *in, const char *name, size_t n)
{
	size_t l = strlen(in->vars);
	char ref[80];

	in->nvars++;
	in->secret |= redact_secret_name(name, n);
	snprintf(ref, sizeof(ref), "${%.*s}", (int)n, name);
	if (!strstr(in->vars, ref) && l + strlen(ref) + 2 < sizeof(in->vars))
		snprintf(in->vars + l, sizeof(in->vars) - l, "%s%s", l ? ", " : "", ref);
}

static int word(struct xst *x, const char **pp, int depth, bool emit);

/* The reference at *pp ("${..."), its value written when emit. */
static int ref(struct xst *x, const char **pp, int depth, bool emit)
{
	const char *s = *pp, *p = s + 2, *v = NULL;
	char name[72];
	size_t nl;

	if (isalpha((unsigned char)*p) || *p == '_')
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
	nl = (size_t)(p - s - 2);
	if (!nl || nl >= sizeof(name) || (*p != '}' && !(*p == ':' && p[1] && strchr("-?", p[1]))))
		return err_set(x->e, 0,
			       "\"%.40s\" is not a variable reference; expected ${NAME}, "
			       "${NAME:-default} or ${NAME:?message} (NAME: letters, digits, _), "
			       "or $$ for a literal $",
			       s);
	memcpy(name, s + 2, nl);
	name[nl] = '\0';
	if (emit) {
		v = x->get(name, x->arg);
		note(x->info, name, nl);
	}
	if (*p == '}') {
		*pp = p + 1;
		if (emit && !v)
			return err_set(
			    x->e, 0,
			    "${%s} is not set; expected it in hfinit's environment, or a "
			    "default: ${%s:-VALUE}",
			    name, name);
		return emit ? put(x, v, strlen(v)) : 0;
	}
	bool empty = !v || !*v, dflt = p[1] == '-';
	const char *m = p += 2;
	if (dflt) {
		if (depth >= EXPAND_DEPTH)
			return err_set(x->e, 0,
				       "${%s:-...} nests more than %d deep; expected fewer", name,
				       EXPAND_DEPTH);
		if (emit && !empty && put(x, v, strlen(v)) < 0)
			return -1;
		if (word(x, &p, depth + 1, emit && empty) < 0)
			return -1;
	} else {
		p += strcspn(p, "}");
		if (!*p)
			return word(x, &p, 1, false); /* the unterminated error */
		if (emit && empty && p == m)
			return err_set(x->e, 0, "${%s} is not set or empty; expected a value",
				       name);
		if (emit && empty)
			return err_set(x->e, 0, "${%s}: %.*s", name, (int)(p - m), m);
		if (emit && put(x, v, strlen(v)) < 0)
			return -1;
	}
	*pp = p + 1;
	return 0;
}

/* Text up to the end (depth 0) or up to the } that closes a default. */
static int word(struct xst *x, const char **pp, int depth, bool emit)
{
	const char *p = *pp;

	while (*p && !(depth && *p == '}')) {
		if (p[0] == '$' && p[1] == '{') {
			if (ref(x, &p, depth, emit) < 0)
				return -1;
			continue;
		}
		if (emit && put(x, p, 1) < 0)
			return -1;
		p += p[0] == '$' && p[1] == '$' ? 2 : 1;
	}
	if (depth && !*p)
		return err_set(x->e, 0, "unterminated ${...}; expected a closing }");
	*pp = p;
	return 0;
}

int expand_value(const char *in, char *out, size_t cap, expand_get_fn *get, void *arg,
		 struct expand_info *info, struct err *e)
{
	struct xst x = {out, cap, 0, get, arg, info, e};

	memset(info, 0, sizeof(*info));
	if (cap == 0)
		return err_set(e, 0, "no room for the value");
	if (word(&x, &in, 0, true) < 0)
		return -1;
	out[x.len] = '\0';
	return 0;
}
