/* Unit tests: base/fmt (fmt_duration's table, fmt_trunc, first_line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/fmt.h"

static void test_duration_table(void **state)
{
	static const struct {
		uint64_t ms;
		const char *want;
	} cases[] = {
	    {0, "0ms"},
	    {1, "1ms"},
	    {999, "999ms"},
	    {1000, "1s"},
	    {1500, "1500ms"},
	    {15000, "15s"},
	    {59000, "59s"},
	    {60000, "1m"},
	    {90000, "90s"},
	    {120000, "2m"},
	    {3599000, "3599s"},
	    {3600000, "1h"},
	    {5400000, "90m"},
	    {7200000, "2h"},
	    {86400000, "24h"},
	    {3600001, "3600001ms"},
	    {UINT64_MAX, "18446744073709551615ms"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ptr_equal(fmt_duration(cases[i].ms, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_duration_small_buffer(void **state)
{
	char buf[4];

	(void)state;
	fmt_duration(123456, buf, sizeof(buf)); /* truncated, terminated */
	assert_string_equal(buf, "123");
}

static void test_trunc(void **state)
{
	char buf[8];

	(void)state;
	fmt_trunc(buf, sizeof(buf), "%s-%d", "abc", 42);
	assert_string_equal(buf, "abc-42");
	fmt_trunc(buf, sizeof(buf), "%s", "0123456789");
	assert_string_equal(buf, "0123456");
	buf[0] = 'z';
	fmt_trunc(buf, 0, "%s", "x"); /* nothing written */
	assert_int_equal(buf[0], 'z');
}

static void test_first_line(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"one\ntwo\n", "one"},
	    {"\n\r\nafter blanks\nx", "after blanks"},
	    {"crlf \r\nnext", "crlf"},
	    {"", ""},
	    {"\n\n", ""},
	    {"no newline", "no newline"},
	};
	char buf[64], small[5];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		first_line(cases[i].in, strlen(cases[i].in), buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
	first_line("abcdefgh", 8, small, sizeof(small));
	assert_string_equal(small, "abcd");
	first_line("abc\ndef", 2, buf, sizeof(buf)); /* only n bytes are read */
	assert_string_equal(buf, "ab");
	small[0] = 'z';
	first_line("abc", 3, small, 0);
	assert_int_equal(small[0], 'z');
}

static void test_ascii_makes_unprintable_bytes_question_marks(void **state)
{
	char s[] = "a\x1b[31m\xc3\xa9\r\t\x7f~ z";

	(void)state;
	fmt_ascii(s);
	assert_string_equal(s, "a?[31m?????~ z");
}

static void test_rfc3339_utc_milliseconds(void **state)
{
	char buf[32];
	struct timespec ts = {1795738643, 123999999};

	(void)state;
	assert_int_equal(fmt_rfc3339(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-27T00:17:23.123Z");
	ts = (struct timespec){0, 999999999};
	assert_int_equal(fmt_rfc3339(&ts, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.999Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_table),
	    cmocka_unit_test(test_duration_small_buffer),
	    cmocka_unit_test(test_trunc),
	    cmocka_unit_test(test_first_line),
	    cmocka_unit_test(test_ascii_makes_unprintable_bytes_question_marks),
	    cmocka_unit_test(test_rfc3339_utc_milliseconds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
