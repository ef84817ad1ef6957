/* condition = [!]KIND:ARG (docs/config.md, "Conditions"): the value parsed
 * once, for the start and for `hfinit check`. Pure: nothing is evaluated
 * here (plan.c tests path: and env:, the supervisor runs exec:). */
#include "conf/conf_ctx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strv.h"
#include "base/words.h"

static int parse_condition(const char *v, struct condition *out, struct err *e)
{
	static const char *const kinds[] = {"path:/", "env:", "exec:"};
	struct condition c = {0};
	const char *s = v + (*v == '!');
	size_t k = 0, kl = 0;

	while (k < 3 && strncmp(s, kinds[k], kl = strlen(kinds[k])) != 0)
		k++;
	c.kind = (enum cond_kind)k;
	c.negate = *v == '!';
	c.spec = strdup(v);
	if (!c.spec)
		return err_set(e, ENOMEM, "out of memory");
	if (k < 3)
		c.arg = c.spec + (s - v) + kl - (k == COND_PATH); /* a path keeps its '/' */
	if (k == COND_EXEC && split_words(c.arg, true, &c.argv, e) < 0)
		goto fail;
	if (k == 3 || (k == COND_ENV && !env_name_ok(c.arg, strlen(c.arg))) ||
	    (k == COND_EXEC && !c.argv[0])) {
		err_set(e, 0, "\"%.*s%s\" is not a condition; expected %s", SHOW_ARGS(v),
			COND_KINDS);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	condition_free(&c);
	return -1;
}

int conf_cond_add(struct ctx *ctx, struct service_conf *sc, const char *v, struct err *e)
{
	struct condition c, *n;

	if (parse_condition(v, &c, e) < 0)
		return -1;
	n = realloc(sc->conds, (sc->nconds + 1) * sizeof(*n));
	if (!n) {
		condition_free(&c);
		ctx->oom = true;
		return 0;
	}
	sc->conds = n;
	n[sc->nconds++] = c;
	return 0;
}

void condition_free(struct condition *c)
{
	free(c->spec);
	strv_free(c->argv);
	memset(c, 0, sizeof(*c));
}
