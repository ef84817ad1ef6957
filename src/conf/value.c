/* The value parsers of conf/value.h: durations, sizes, booleans, integers,
 * signals, umasks, errno names. */
#include "conf/value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/signame.h"
#include "base/words.h"

#define MAX_DURATION_MS (1000ULL * 3600 * 1000) /* 1000 hours */

/* Reads decimal digits at *p into *v (no sign); false when none or on overflow. */
static bool read_digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
		s++;
	}
	*p = s;
	*v = n;
	return true;
}

int parse_duration_ms(const char *s, uint64_t *out, struct err *e)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = s;
	uint64_t total = 0;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return err_set(e, 0, "empty; expected a duration such as 500ms, 30s, 2m or 1h");
	while (*p) {
		uint64_t n, mul = 0;
		size_t ulen = 0;

		if (!read_digits(&p, &n))
			return err_set(
			    e, 0,
			    "\"%.*s%s\" is not a duration; expected a number with a unit: "
			    "500ms, 30s, 2m, 1h (or a sum such as 1m30s)",
			    SHOW_ARGS(s));
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			/* "m" must not match the "m" of "ms": try longer units first. */
			if (strncmp(p, units[i].unit, l) == 0 && l > ulen &&
			    !isalpha((unsigned char)p[l])) {
				mul = units[i].ms;
				ulen = l;
			}
		}
		if (!ulen) {
			if (!*p)
				return err_set(
				    e, 0,
				    "\"%.*s%s\" lacks a unit; expected e.g. 30s or 500ms "
				    "(units: ms, s, m, h)",
				    SHOW_ARGS(s));
			return err_set(e, 0,
				       "\"%.*s%s\": unknown unit; expected ms, s, m or h "
				       "(e.g. 500ms, 30s, 2m, 1h)",
				       SHOW_ARGS(s));
		}
		p += ulen;
		if (n > MAX_DURATION_MS / mul || total + n * mul > MAX_DURATION_MS)
			return err_set(e, 0, "\"%.*s%s\" is too long; expected at most 1000h",
				       SHOW_ARGS(s));
		total += n * mul;
	}
	*out = total;
	return 0;
}

int parse_size(const char *s, uint64_t *out, struct err *e)
{
	static const char sfx[] = "KMGT";
	const char *p = s;
	uint64_t n, mul = 1;

	if (!read_digits(&p, &n))
		return err_set(e, 0,
			       "\"%.*s%s\" is not a size; expected a number of bytes with an "
			       "optional K, M, G or T suffix (e.g. 512K, 64M, 1G)",
			       SHOW_ARGS(s));
	if (*p) {
		const char *k = strchr(sfx, toupper((unsigned char)*p));
		const char *rest;

		if (!k || !*k)
			return err_set(e, 0,
				       "\"%.*s%s\": unknown size suffix; expected K, M, G or T "
				       "(e.g. 512K, 64M, 1G)",
				       SHOW_ARGS(s));
		for (const char *q = sfx; q <= k; q++)
			mul *= 1024;
		rest = p + 1;
		if (strcmp(rest, "") != 0 && strcasecmp(rest, "B") != 0 &&
		    strcasecmp(rest, "iB") != 0)
			return err_set(e, 0,
				       "\"%.*s%s\": unknown size suffix; expected K, M, G or T "
				       "(e.g. 512K, 64M, 1G)",
				       SHOW_ARGS(s));
	}
	if (n > UINT64_MAX / mul)
		return err_set(e, 0, "\"%.*s%s\" is too large", SHOW_ARGS(s));
	*out = n * mul;
	return 0;
}

int parse_bool(const char *s, bool *out, struct err *e)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return err_set(e, 0,
		       "\"%.*s%s\" is not a boolean; expected yes or no (true/false, on/off, 1/0)",
		       SHOW_ARGS(s));
}

int parse_int(const char *s, long long min, long long max, long long *out, struct err *e)
{
	const char *p = s;
	bool neg = false;
	uint64_t n;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!read_digits(&p, &n) || *p)
		return err_set(e, 0, "\"%.*s%s\" is not a whole number; expected %lld..%lld",
			       SHOW_ARGS(s), min, max);
	if (n > (uint64_t)LLONG_MAX || (neg ? -(long long)n : (long long)n) < min ||
	    (neg ? -(long long)n : (long long)n) > max)
		return err_set(e, 0, "%.*s%s is out of range; expected %lld..%lld", SHOW_ARGS(s),
			       min, max);
	*out = neg ? -(long long)n : (long long)n;
	return 0;
}

int parse_signal(const char *s, int *out, struct err *e)
{
	int n = signum(s);

	if (n <= 0)
		return err_set(e, 0,
			       "\"%.*s%s\" is not a signal; expected a name such as TERM, INT, "
			       "QUIT, HUP, USR1 (with or without SIG) or a number",
			       SHOW_ARGS(s));
	*out = n;
	return 0;
}

int parse_umask(const char *s, mode_t *out, struct err *e)
{
	unsigned v = 0;
	size_t n = 0;

	for (const char *p = s; *p; p++, n++) {
		if (*p < '0' || *p > '7' || n >= 4)
			return err_set(e, 0,
				       "\"%.*s%s\" is not a umask; expected octal digits such as "
				       "022 or 0077",
				       SHOW_ARGS(s));
		v = v * 8 + (unsigned)(*p - '0');
	}
	if (!n)
		return err_set(e, 0, "empty; expected an octal umask such as 022");
	if (v > 0777)
		return err_set(e, 0, "\"%.*s%s\" is out of range; expected 000..0777",
			       SHOW_ARGS(s));
	*out = (mode_t)v;
	return 0;
}

static const struct {
	int num;
	const char *name;
} errnos[] = {
    {EPERM, "EPERM"},	  {ENOENT, "ENOENT"}, {EINTR, "EINTR"},	  {EIO, "EIO"},
    {ENXIO, "ENXIO"},	  {E2BIG, "E2BIG"},   {EBADF, "EBADF"},	  {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},	  {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},	  {ENODEV, "ENODEV"}, {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},	  {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"},	  {ENOSYS, "ENOSYS"},
    {ENOTSUP, "ENOTSUP"},
};

int parse_errno(const char *s, int *out, struct err *e)
{
	long long n;

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcasecmp(s, errnos[i].name) == 0) {
			*out = errnos[i].num;
			return 0;
		}
	if (isdigit((unsigned char)*s) && parse_int(s, 1, 4095, &n, NULL) == 0) {
		*out = (int)n;
		return 0;
	}
	return err_set(e, 0,
		       "\"%.*s%s\" is not an errno; expected a name such as EPERM, EACCES, "
		       "ENOSYS or a number 1..4095",
		       SHOW_ARGS(s));
}

const char *errno_name(int errnum)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].num == errnum)
			return errnos[i].name;
	return NULL;
}
