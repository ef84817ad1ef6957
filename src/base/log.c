#include "base/log.h"

#include "base/fdio.h"
#include "base/json.h"
#include "base/redact.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

	if (format == LOG_FMT_JSON) {
		n = (size_t)snprintf(line, sizeof(line),
				     "{\"src\":\"hfinit\",\"level\":\"%s\",\"msg\":\"",
				     level_names[lvl]);
		n += json_escape_to(line + n, sizeof(line) - 3 - n, text, strlen(text));
		line[n++] = '"';
		line[n++] = '}';
	} else {
		int k = snprintf(line, sizeof(line) - 1, "hfinit: %s: %s", level_names[lvl], text);
		n = k < 0 ? 0 : (size_t)k;
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
