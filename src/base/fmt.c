#include "base/fmt.h"

#include <stdarg.h>
#include <stdio.h>

const char *fmt_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms && ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

void first_line(const char *s, size_t n, char *dst, size_t dstsz)
{
	size_t i = 0, k = 0;

	if (dstsz == 0)
		return;
	/* Skip leading blank lines. */
	while (i < n && (s[i] == '\n' || s[i] == '\r'))
		i++;
	while (i < n && s[i] != '\n' && k + 1 < dstsz)
		dst[k++] = s[i++];
	while (k > 0 && (dst[k - 1] == '\r' || dst[k - 1] == ' '))
		k--;
	dst[k] = '\0';
}

void fmt_trunc(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (n == 0)
		return;
	va_start(ap, fmt);
	if (vsnprintf(dst, n, fmt, ap) < 0)
		dst[0] = '\0';
	va_end(ap);
}

int fmt_rfc3339(const struct timespec *ts, char *buf, size_t n)
{
	struct tm tm;
	time_t t = ts->tv_sec;

	if (!gmtime_r(&t, &tm))
		return -1;
	fmt_trunc(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000000));
	return 0;
}

void fmt_ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}
