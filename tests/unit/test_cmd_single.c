/* Single-child mode's pure parts: argument parsing, durations, exit codes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "cmd/cmd_single.h"

#define ARGV(...) ((char *[]){"hfinit", __VA_ARGS__, NULL})

/* argv is NULL-terminated: argc is counted, as main() would get it */
static int parse(char **argv, struct single_opts *o, struct err *e)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err_clear(e);
	return single_parse_args(argc, argv, o, e);
}

static void test_parse_minimal(void **state)
{
	struct single_opts o;
	struct err e;
	char **v = ARGV("--", "sh", "-c", "exit 3");

	(void)state;
	assert_int_equal(parse(v, &o, &e), 0);
	assert_ptr_equal(o.argv, v + 2);
	assert_string_equal(o.argv[0], "sh");
	assert_string_equal(o.argv[2], "exit 3");
	assert_null(o.argv[3]);
	assert_false(o.group);
	assert_int_equal(o.verbose, 0);
	assert_int_equal(o.grace_ns, 5 * INT64_C(1000000000));
	for (int i = 0; i < 256; i++)
		assert_false(o.remap[i]);
	assert_false(o.want_help);
	assert_false(o.no_command);
}

static void test_parse_all_options(void **state)
{
	struct single_opts o;
	struct err e;
	/* clustered flags, attached and separate values, options after -- are the command's */
	char **v = ARGV("-sg", "-e", "3", "-e143", "-vv", "-t", "500ms", "--", "cmd", "-g", "--");

	(void)state;
	assert_int_equal(parse(v, &o, &e), 0);
	assert_true(o.group);
	assert_int_equal(o.verbose, 2);
	assert_int_equal(o.grace_ns, 500 * INT64_C(1000000));
	assert_true(o.remap[3]);
	assert_true(o.remap[143]);
	assert_false(o.remap[0]);
	assert_false(o.remap[14]);
	assert_string_equal(o.argv[0], "cmd");
	assert_string_equal(o.argv[1], "-g");
	assert_string_equal(o.argv[2], "--");

	char **w = ARGV("-gt2m", "--", "x");
	assert_int_equal(parse(w, &o, &e), 0);
	assert_true(o.group);
	assert_int_equal(o.grace_ns, 120 * INT64_C(1000000000));
}

static void test_parse_help_and_no_command(void **state)
{
	struct single_opts o;
	struct err e;

	(void)state;
	assert_int_equal(parse(ARGV("-h"), &o, &e), 0);
	assert_true(o.want_help);
	assert_int_equal(parse(ARGV("--help"), &o, &e), 0);
	assert_true(o.want_help);
	assert_int_equal(parse(ARGV("-v"), &o, &e), 0);
	assert_true(o.no_command);
	assert_null(o.argv);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	    {{"--"}, "missing command after \"--\""},
	    {{"sleep", "1"}, "unexpected argument \"sleep\": the command goes after \"--\""},
	    {{"-g", "sleep"}, "unexpected argument \"sleep\""},
	    {{"-"}, "unexpected argument \"-\""},
	    {{"--bogus", "--", "x"}, "unknown option \"--bogus\""},
	    {{"-x", "--", "x"}, "unknown option -x"},
	    {{"-gx"}, "unknown option -x"},
	    {{"-e"}, "option -e needs an exit code"},
	    {{"-e", "256", "--", "x"}, "-e \"256\": expected an exit code 0..255"},
	    {{"-e", "-1", "--", "x"}, "-e \"-1\": expected an exit code 0..255"},
	    {{"-e", "3x", "--", "x"}, "-e \"3x\": expected an exit code 0..255"},
	    {{"-e", "", "--", "x"}, "-e \"\": expected an exit code 0..255"},
	    {{"-t"}, "option -t needs a duration"},
	    {{"-t", "5x", "--", "x"}, "-t \"5x\": expected a duration like 500ms, 5s, 2m"},
	    {{"-t", "-5s", "--", "x"}, "-t \"-5s\": expected a duration"},
	    {{"-c", "f.ini"}, "option -c belongs to supervision mode: hfinit -c FILE, without --"},
	};
	struct single_opts o;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[6] = {"hfinit"};
		int argc = 1;

		for (int k = 0; k < 4 && cases[i].args[k]; k++)
			argv[argc++] = (char *)cases[i].args[k];
		argv[argc] = NULL;
		assert_int_equal(parse(argv, &o, &e), -1);
		if (strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got \"%s\", want prefix \"%s\"", i, e.msg,
				 cases[i].msg);
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int64_t ns;
	} good[] = {
	    {"0", 0},	      {"5", 5000000000},    {"5s", 5000000000},	   {"500ms", 500000000},
	    {"1ms", 1000000}, {"2m", 120000000000}, {"1h", 3600000000000}, {"007s", 7000000000},
	};
	static const char *const bad[] = {
	    "", "s", "ms", "-1", "+1", "1.5s", "5 s", "5S", "5sec", "1d", "5us", " 5",
	};
	int64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = -1;
		assert_int_equal(parse_duration_ns(good[i].s, &ns), 0);
		assert_int_equal(ns, good[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (parse_duration_ns(bad[i], &ns) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(errno, EINVAL);
	}
	errno = 0;
	assert_int_equal(parse_duration_ns("99999999999999999999", &ns), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(parse_duration_ns("9223372036854775807", &ns), -1); /* s: overflow */
	assert_int_equal(errno, ERANGE);
	assert_int_equal(parse_duration_ns("9223372036854775807ms", &ns), -1); /* ns: overflow */
	assert_int_equal(errno, ERANGE);
	assert_int_equal(parse_duration_ns("9223372036854ms", &ns), 0);
	assert_int_equal(ns, INT64_C(9223372036854000000));
	assert_int_equal(parse_duration_ns(NULL, &ns), -1);
}

/* wait statuses as the kernel encodes them */
#define EXITED(c)   (((c)&0xff) << 8)
#define SIGNALED(n) ((n)&0x7f)

static void test_exit_codes(void **state)
{
	struct single_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (int c = 0; c < 256; c++)
		assert_int_equal(single_exit_code(&o, EXITED(c)), c);
	assert_int_equal(single_exit_code(&o, SIGNALED(9)), 137);
	assert_int_equal(single_exit_code(&o, SIGNALED(15)), 143);
	assert_int_equal(single_exit_code(&o, SIGNALED(1)), 129);
	assert_int_equal(single_exit_code(&o, SIGNALED(11) | 0x80), 139); /* core dumped */
	assert_int_equal(single_exit_code(&o, SIGNALED(64)), 192);

	o.remap[3] = true;
	o.remap[143] = true;
	assert_int_equal(single_exit_code(&o, EXITED(3)), 0);
	assert_int_equal(single_exit_code(&o, EXITED(4)), 4);
	assert_int_equal(single_exit_code(&o, SIGNALED(15)), 0);
	assert_int_equal(single_exit_code(&o, EXITED(143)), 0);
	assert_int_equal(single_exit_code(&o, SIGNALED(9)), 137);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_minimal),
	    cmocka_unit_test(test_parse_all_options),
	    cmocka_unit_test(test_parse_help_and_no_command),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
