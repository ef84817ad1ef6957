/* Unit tests: base/log (levels, text and JSON lines, time stamps, log_warn does not append
 * strerror while log_errno does, errno preserved), captured from stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fdio.h"
#include "base/log.h"

static int saved_stderr = -1, pipe_rd = -1;

/* stderr into a non-blocking pipe until captured() reads it back. */
static void capture(void)
{
	int p[2];

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(close(p[1]), 0);
	pipe_rd = p[0];
}

static const char *captured(void)
{
	static char buf[8192];
	ssize_t n;

	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(close(saved_stderr), 0);
	n = read_full(pipe_rd, buf, sizeof(buf) - 1);
	if (n < 0 && errno == EAGAIN)
		n = 0; /* nothing was written */
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal(close(pipe_rd), 0);
	return buf;
}

static int restore(void **state)
{
	(void)state;
	log_setup(LOG_LVL_INFO, LOG_FMT_TEXT);
	return 0;
}

static void test_text_levels(void **state)
{
	(void)state;
	log_setup(LOG_LVL_INFO, LOG_FMT_TEXT);
	capture();
	log_debug("not shown %d", 1);
	log_info("started %s", "web");
	log_error("bad %d", 2);
	assert_string_equal(captured(), "hfinit: info: started web\nhfinit: error: bad 2\n");

	log_setup(LOG_LVL_DEBUG, LOG_FMT_TEXT);
	capture();
	log_debug("now shown");
	assert_string_equal(captured(), "hfinit: debug: now shown\n");
}

static void test_warn_does_not_append_errno(void **state)
{
	(void)state;
	log_setup(LOG_LVL_INFO, LOG_FMT_TEXT);
	capture();
	errno = ENOENT;
	log_warn("no config");
	assert_int_equal(errno, ENOENT);
	log_errno(LOG_LVL_WARN, ENOENT, "open %s", "/x");
	assert_int_equal(errno, ENOENT);
	errno = EACCES;
	log_errno(LOG_LVL_ERROR, 0, "no code"); /* 0: nothing appended */
	assert_int_equal(errno, EACCES);
	assert_string_equal(captured(), "hfinit: warn: no config\n"
					"hfinit: warn: open /x: No such file or directory\n"
					"hfinit: error: no code\n");
}

/* "2026-12-01T19:55:00.861Z" at s, within 2 s of now. */
static void assert_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm = {0};

	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			fail_msg("not a time stamp: %.30s", s);
	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm));
	assert_true(labs((long)(timegm(&tm) - time(NULL))) <= 2);
}

/* The lines with each {"ts":"...", cut to {: checked, then compared. */
static const char *without_ts(const char *s)
{
	static char out[8192];
	size_t o = 0;

	while (*s) {
		assert_int_equal(strncmp(s, "{\"ts\":\"", 7), 0);
		assert_time(s + 7);
		assert_int_equal(strncmp(s + 31, "\",", 2), 0);
		out[o++] = '{';
		s += 33;
		while (*s && *s != '\n')
			out[o++] = *s++;
		if (*s)
			out[o++] = *s++;
	}
	out[o] = '\0';
	return out;
}

static void test_json_lines(void **state)
{
	(void)state;
	log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
	capture();
	log_warn("a \"quoted\"\tword\\");
	log_errno(LOG_LVL_ERROR, EPERM, "kill");
	assert_string_equal(
	    without_ts(captured()),
	    "{\"src\":\"hfinit\",\"level\":\"warn\",\"msg\":\"a \\\"quoted\\\"\\tword\\\\\"}\n"
	    "{\"src\":\"hfinit\",\"level\":\"error\",\"msg\":\"kill: Operation not "
	    "permitted\"}\n");
}

static void test_long_line_is_one_line(void **state)
{
	char big[6000];
	const char *out;

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_setup(LOG_LVL_INFO, LOG_FMT_TEXT);
	capture();
	log_info("%s", big);
	log_setup(LOG_LVL_INFO, LOG_FMT_JSON);
	log_info("%s", big);
	out = captured();
	assert_int_equal(strncmp(out, "hfinit: info: qqq", 17), 0);
	out = strchr(out, '\n');
	assert_non_null(out);
	assert_int_equal(strncmp(out + 34, "\"src\":\"hfinit\"", 14), 0);
	assert_non_null(strstr(out + 1, "qqq\"}\n")); /* truncated inside the string, still JSON */
	assert_null(strchr(strchr(out + 1, '\n') + 1, '\n'));
}

static void test_timestamps(void **state)
{
	char a[32], b[LOG_STAMP_LEN];
	const char *out;

	(void)state;
	assert_int_equal(log_stamp(b), 0); /* off by default */
	log_set_timestamps(true);
	log_setup(LOG_LVL_INFO, LOG_FMT_TEXT);
	capture();
	log_info("one");
	log_warn("two");
	out = captured();
	assert_time(out);
	assert_int_equal(strncmp(out + 24, " hfinit: info: one\n", 19), 0);
	out = strchr(out, '\n') + 1;
	assert_time(out);
	assert_string_equal(out + 24, " hfinit: warn: two\n");
	/* one clock read per loop turn: the same time until the next tick */
	log_clock_tick();
	snprintf(a, sizeof(a), "%s", log_time());
	assert_int_equal(log_stamp(b), LOG_STAMP_LEN);
	assert_memory_equal(a, b, LOG_STAMP_LEN - 1);
	assert_int_equal(b[LOG_STAMP_LEN - 1], ' ');
	usleep(2000);
	assert_string_equal(log_time(), a);
	log_clock_tick();
	assert_true(strcmp(log_time(), a) > 0);
	log_set_timestamps(false);
	assert_int_equal(log_stamp(b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_text_levels, restore),
	    cmocka_unit_test_teardown(test_warn_does_not_append_errno, restore),
	    cmocka_unit_test_teardown(test_json_lines, restore),
	    cmocka_unit_test_teardown(test_long_line_is_one_line, restore),
	    cmocka_unit_test_teardown(test_timestamps, restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
