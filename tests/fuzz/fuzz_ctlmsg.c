/* libFuzzer target: what a client sends on the control socket, and what a
 * client reads back (make fuzz). ctl_parse must take any bytes and accept
 * only valid requests: names that are service names, at most CTL_NAMES_MAX of
 * them; an accepted request formats back into a line it parses the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "status/ctlmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_req(const struct ctl_req *r)
{
	struct ctl_req back;
	char line[CTL_MAX], why[128];
	int n;

	if (r->nnames > CTL_NAMES_MAX || (r->nnames == 0 && r->verb != CTL_WAIT))
		abort();
	for (size_t i = 0; i < r->nnames; i++)
		if (!conf_name_ok(r->names[i]))
			abort();
	if (r->verb == CTL_SIGNAL && (r->sig < 1 || r->sig > 64))
		abort();
	n = ctl_format(r, line, sizeof(line));
	if (n < 1 || line[n - 1] != '\n')
		abort();
	if (ctl_parse(line, (size_t)n - 1, &back, why, sizeof(why)) < 0 || back.verb != r->verb ||
	    back.nnames != r->nnames || back.sig != r->sig || back.timeout_ms != r->timeout_ms)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r;
	struct ctl_reply o;
	char why[128];
	char *copy;

	if (size > 2 * CTL_MAX)
		size = 2 * CTL_MAX;
	copy = malloc(size + 1); /* exactly one byte more: the parsers' NUL */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (ctl_parse(copy, size, &r, why, sizeof(why)) == 0)
		check_req(&r);
	else if (strlen(why) >= sizeof(why))
		abort();
	memcpy(copy, data, size);
	if (ctl_reply_parse(copy, size, &o) == 0 && (!o.text || (o.code != 0 && o.code != 1)))
		abort();
	free(copy);
	return 0;
}
