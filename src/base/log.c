#include "base/log.h"

#include "base/fdio.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/redact.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_LVL_INFO;
static enum log_format format = LOG_FMT_TEXT;

static log_writer_fn *writer;
static void *writer_data;

void log_set_writer(log_writer_fn *fn, void *data)
{
	writer = fn;
	writer_data = data;
}

static bool stamps;
static bool fresh; /* now is this loop turn's time */
static struct timespec now;

void log_set_timestamps(bool on)
{
	stamps = on;
}

void log_clock_tick(void)
{
	fresh = false;
}

const char *log_time(void)
{
	static char buf[32];
	static time_t sec = -1;
	long ms;

	if (!fresh && clock_gettime(CLOCK_REALTIME, &now) == 0)
		fresh = true;
	/* The whole stamp once a second; within it, only the milliseconds. */
	if (now.tv_sec != sec && fmt_rfc3339(&now, buf, sizeof(buf)) == 0)
		sec = now.tv_sec;
	ms = now.tv_nsec / 1000000;
	buf[19] = '.';
	buf[20] = (char)('0' + ms / 100);
	buf[21] = (char)('0' + ms / 10 % 10);
	buf[22] = (char)('0' + ms % 10);
	buf[23] = 'Z';
	buf[24] = '\0';
	return buf;
}

size_t log_stamp(char *buf)
{
	if (!stamps)
		return 0;
	memcpy(buf, log_time(), LOG_STAMP_LEN - 1);
	buf[LOG_STAMP_LEN - 1] = ' ';
	return LOG_STAMP_LEN;
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_setup(enum log_level min, enum log_format fmt)
{
	min_level = min;
	format = fmt;
}

static void emit(enum log_level lvl, const char *text)
{
	char line[4096];
	size_t n = 0;

	fresh = false; /* hfinit's own lines: the time of the line */
	if (format == LOG_FMT_JSON) {
		n = (size_t)snprintf(
		    line, sizeof(line),
		    "{\"ts\":\"%s\",\"src\":\"hfinit\",\"level\":\"%s\",\"msg\":\"", log_time(),
		    level_names[lvl]);
		n += json_escape_to(line + n, sizeof(line) - 3 - n, text, strlen(text));
		line[n++] = '"';
		line[n++] = '}';
	} else {
		n = log_stamp(line);
		int k = snprintf(line + n, sizeof(line) - 1 - n, "hfinit: %s: %s", level_names[lvl],
				 text);
		n += k < 0 ? 0 : (size_t)k;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	if (writer) {
		writer(line, n, writer_data);
		return;
	}
	if (write_full(STDERR_FILENO, line, n) < 0)
		return; /* stderr gone: nothing better to do */
}

static void vlog(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char text[3072];
	int saved = errno;
	int k;

	if (lvl < min_level)
		return;
	k = vsnprintf(text, sizeof(text), fmt, ap);
	if (k < 0)
		text[0] = '\0';
	if (errnum) {
		size_t n = strlen(text);
		snprintf(text + n, sizeof(text) - n, ": %s", strerror(errnum));
	}
	redact_str(text, sizeof(text)); /* no secret in hfinit's own lines */
	emit(lvl, text);
	errno = saved;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, 0, fmt, ap);
	va_end(ap);
}

void log_errno(enum log_level lvl, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, errnum, fmt, ap);
	va_end(ap);
}
