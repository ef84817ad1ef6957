/* Unit tests: value parsers (durations, sizes, booleans, signals, umask,
 * errno names). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf/value.h"

static uint64_t dur(const char *s)
{
	uint64_t v = 12345;
	struct err e = {0};

	if (parse_duration_ms(s, &v, &e) < 0)
		fail_msg("duration %s: %s", s, e.msg);
	return v;
}

static const char *dur_err(const char *s)
{
	static struct err e;
	uint64_t v = 777;

	err_clear(&e);
	assert_int_equal(parse_duration_ms(s, &v, &e), -1);
	assert_int_equal(v, 777); /* untouched on error */
	return e.msg;
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(dur("500ms"), 500);
	assert_int_equal(dur("30s"), 30000);
	assert_int_equal(dur("2m"), 120000);
	assert_int_equal(dur("1h"), 3600000);
	assert_int_equal(dur("1m30s"), 90000);
	assert_int_equal(dur("1h1m1s1ms"), 3661001);
	assert_int_equal(dur("0"), 0);
	assert_int_equal(dur("0s"), 0);
	assert_int_equal(dur("1000h"), 1000ULL * 3600000);
	assert_string_equal(dur_err("30"),
			    "\"30\" lacks a unit; expected e.g. 30s or 500ms (units: ms, s, m, h)");
	assert_string_equal(dur_err("1m30"), "\"1m30\" lacks a unit; expected e.g. 30s or 500ms "
					     "(units: ms, s, m, h)");
	assert_string_equal(
	    dur_err("5sec"),
	    "\"5sec\": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)");
	assert_string_equal(
	    dur_err("5 s"),
	    "\"5 s\": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)");
	assert_string_equal(dur_err(""), "empty; expected a duration such as 500ms, 30s, 2m or 1h");
	assert_string_equal(dur_err("-1s"), "\"-1s\" is not a duration; expected a number with a "
					    "unit: 500ms, 30s, 2m, 1h (or a sum such as 1m30s)");
	assert_string_equal(
	    dur_err("1.5s"),
	    "\"1.5s\": unknown unit; expected ms, s, m or h (e.g. 500ms, 30s, 2m, 1h)");
	assert_string_equal(dur_err("1001h"), "\"1001h\" is too long; expected at most 1000h");
	assert_string_equal(dur_err("99999999999999999999999ms"),
			    "\"99999999999999999999999ms\" is not a duration; expected a number "
			    "with a unit: 500ms, 30s, 2m, 1h (or a sum such as 1m30s)");
	assert_string_equal(dur_err("18446744073709551615h"),
			    "\"18446744073709551615h\" is too long; expected at most 1000h");
	/* long values are cut in messages */
	{
		char big[200];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_non_null(strstr(dur_err(big), "xxx...\" is not a duration"));
	}
}

static void test_sizes(void **state)
{
	struct err e = {0};
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4096", &v, &e), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("512K", &v, &e), 0);
	assert_int_equal(v, 512 * 1024);
	assert_int_equal(parse_size("64M", &v, &e), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(parse_size("1g", &v, &e), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(parse_size("2TiB", &v, &e), 0);
	assert_int_equal(v, 2ULL << 40);
	assert_int_equal(parse_size("3MB", &v, &e), 0);
	assert_int_equal(v, 3ULL << 20);
	assert_int_equal(parse_size("64X", &v, &e), -1);
	assert_string_equal(e.msg, "\"64X\": unknown size suffix; expected K, M, G or T (e.g. "
				   "512K, 64M, 1G)");
	assert_int_equal(parse_size("64Mb2", &v, &e), -1);
	assert_int_equal(parse_size("M", &v, &e), -1);
	assert_string_equal(e.msg, "\"M\" is not a size; expected a number of bytes with an "
				   "optional K, M, G or T suffix (e.g. 512K, 64M, 1G)");
	assert_int_equal(parse_size("16777216T", &v, &e), -1);
	assert_string_equal(e.msg, "\"16777216T\" is too large");
}

static void test_bools_ints(void **state)
{
	static const char *const yes[] = {"yes", "YES", "true", "On", "1"};
	static const char *const no[] = {"no", "False", "off", "0"};
	struct err e = {0};
	long long n;
	bool b;

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b, &e), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < 4; i++) {
		b = true;
		assert_int_equal(parse_bool(no[i], &b, &e), 0);
		assert_false(b);
	}
	assert_int_equal(parse_bool("y", &b, &e), -1);
	assert_string_equal(e.msg,
			    "\"y\" is not a boolean; expected yes or no (true/false, on/off, 1/0)");

	assert_int_equal(parse_int("-1000", -1000, 1000, &n, &e), 0);
	assert_int_equal(n, -1000);
	assert_int_equal(parse_int("+7", 0, 10, &n, &e), 0);
	assert_int_equal(n, 7);
	assert_int_equal(parse_int("11", 0, 10, &n, &e), -1);
	assert_string_equal(e.msg, "11 is out of range; expected 0..10");
	assert_int_equal(parse_int("1e3", 0, 10000, &n, &e), -1);
	assert_string_equal(e.msg, "\"1e3\" is not a whole number; expected 0..10000");
	assert_int_equal(parse_int("99999999999999999999", 0, 10, &n, &e), -1);
	assert_int_equal(parse_int("", 0, 10, &n, &e), -1);
	assert_int_equal(parse_int("-", 0, 10, &n, &e), -1);
}

static void test_signals_umask_errno(void **state)
{
	struct err e = {0};
	mode_t m;
	int n;

	(void)state;
	assert_int_equal(parse_signal("TERM", &n, &e), 0);
	assert_int_equal(n, SIGTERM);
	assert_int_equal(parse_signal("SIGINT", &n, &e), 0);
	assert_int_equal(n, SIGINT);
	assert_int_equal(parse_signal("9", &n, &e), 0);
	assert_int_equal(n, SIGKILL);
	assert_int_equal(parse_signal("RTMIN+1", &n, &e), 0);
	assert_int_equal(n, SIGRTMIN + 1);
	assert_int_equal(parse_signal("0", &n, &e), -1);
	assert_int_equal(parse_signal("SIGFOO", &n, &e), -1);
	assert_string_equal(e.msg, "\"SIGFOO\" is not a signal; expected a name such as TERM, INT, "
				   "QUIT, HUP, USR1 (with or without SIG) or a number");

	assert_int_equal(parse_umask("022", &m, &e), 0);
	assert_int_equal(m, 022);
	assert_int_equal(parse_umask("0077", &m, &e), 0);
	assert_int_equal(m, 077);
	assert_int_equal(parse_umask("0", &m, &e), 0);
	assert_int_equal(m, 0);
	assert_int_equal(parse_umask("8", &m, &e), -1);
	assert_int_equal(parse_umask("00777", &m, &e), -1);
	assert_int_equal(parse_umask("", &m, &e), -1);

	assert_int_equal(parse_errno("EPERM", &n, &e), 0);
	assert_int_equal(n, EPERM);
	assert_int_equal(parse_errno("enosys", &n, &e), 0);
	assert_int_equal(n, ENOSYS);
	assert_int_equal(parse_errno("13", &n, &e), 0);
	assert_int_equal(n, 13);
	assert_int_equal(parse_errno("4096", &n, &e), -1);
	assert_int_equal(parse_errno("EFOO", &n, &e), -1);
	assert_string_equal(errno_name(EACCES), "EACCES");
	assert_null(errno_name(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_bools_ints),
	    cmocka_unit_test(test_signals_umask_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
