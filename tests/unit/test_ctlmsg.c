/* Unit tests: the control protocol's request and reply lines (status/ctlmsg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "status/ctlmsg.h"

static char line[CTL_MAX + 1];
static char why[256];

/* Parse s (a copy, no newline); the return of ctl_parse. */
static int parse(const char *s, struct ctl_req *r)
{
	size_t n = strlen(s);

	assert_true(n < sizeof(line));
	memcpy(line, s, n + 1);
	why[0] = '\0';
	return ctl_parse(line, n, r, why, sizeof(why));
}

static void refused(const char *s, const char *reason)
{
	struct ctl_req r;

	assert_int_equal(parse(s, &r), -1);
	if (!strstr(why, reason))
		fail_msg("%s: \"%s\" does not say \"%s\"", s, why, reason);
}

static void test_requests(void **state)
{
	struct ctl_req r;
	(void)state;
	assert_int_equal(parse("hfinit1 restart web tts", &r), 0);
	assert_int_equal(r.verb, CTL_RESTART);
	assert_false(r.no_wait);
	assert_int_equal(r.nnames, 2);
	assert_string_equal(r.names[0], "web");
	assert_string_equal(r.names[1], "tts");
	assert_int_equal(parse("hfinit1  stop  --no-wait  a.b_c-d ", &r), 0);
	assert_int_equal(r.verb, CTL_STOP);
	assert_true(r.no_wait);
	assert_string_equal(r.names[0], "a.b_c-d");
	assert_int_equal(parse("hfinit1 signal web 10", &r), 0);
	assert_int_equal(r.sig, 10);
	assert_int_equal(r.nnames, 1);
	assert_int_equal(parse("hfinit1 wait", &r), 0);
	assert_int_equal(r.verb, CTL_WAIT);
	assert_int_equal(r.nnames, 0);
	assert_false(r.started);
	assert_true(r.timeout_ms == -1);
	assert_int_equal(parse("hfinit1 wait --started --timeout=1500 web", &r), 0);
	assert_true(r.started);
	assert_true(r.timeout_ms == 1500);
}

static void test_bad_requests(void **state)
{
	char big[CTL_MAX + 8];
	(void)state;
	refused("", "protocol version");
	refused("hfinit2 restart web", "protocol version");
	refused("hfinit1", "unknown command");
	refused("hfinit1 reboot web", "unknown command");
	refused("hfinit1 restart", "no service named");
	refused("hfinit1 restart --timeout=5 web", "unknown option \"--timeout=5\"");
	refused("hfinit1 wait --no-wait", "unknown option");
	refused("hfinit1 wait --timeout=1s", "unknown option");
	refused("hfinit1 restart ../web", "\"../web\" is not a service name");
	refused("hfinit1 restart -web", "unknown option");
	refused("hfinit1 restart web\tx", "printable");
	refused("hfinit1 signal web", "signal takes");
	refused("hfinit1 signal web 0", "signal takes");
	refused("hfinit1 signal web 65", "signal takes");
	refused("hfinit1 signal web TERM", "signal takes");
	refused("hfinit1 signal a b 9", "signal takes");
	/* a name of 65 bytes */
	refused("hfinit1 stop aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"not a service name");
	/* too many names, too long */
	size_t k = (size_t)snprintf(big, sizeof(big), "hfinit1 stop");
	for (int i = 0; i < CTL_NAMES_MAX + 8; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, " s%d", i);
	refused(big, "too many words");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "hfinit1 stop ", 13);
	struct ctl_req r;
	static char copy[CTL_MAX + 8];
	memcpy(copy, big, sizeof(big));
	assert_int_equal(ctl_parse(copy, CTL_MAX, &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "4096 bytes"));
	/* the NUL byte */
	memcpy(copy, "hfinit1 stop a\0b", 16);
	assert_int_equal(ctl_parse(copy, 16, &r, why, sizeof(why)), -1);
}

/* What the client formats, the server parses to the same request. */
static void test_format_round_trip(void **state)
{
	struct ctl_req r = {.verb = CTL_WAIT,
			    .started = true,
			    .timeout_ms = 250,
			    .nnames = 2,
			    .names = {"web", "tts"}};
	struct ctl_req back;
	char buf[CTL_MAX];
	(void)state;
	assert_int_equal(ctl_format(&r, buf, sizeof(buf)), 45);
	assert_string_equal(buf, "hfinit1 wait --started --timeout=250 web tts\n");
	buf[strlen(buf) - 1] = '\0';
	assert_int_equal(ctl_parse(buf, strlen(buf), &back, why, sizeof(why)), 0);
	assert_true(back.started && back.timeout_ms == 250 && back.nnames == 2);
	r = (struct ctl_req){.verb = CTL_SIGNAL, .sig = 12, .nnames = 1, .names = {"web"}};
	assert_true(ctl_format(&r, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "hfinit1 signal web 12\n");
	r = (struct ctl_req){.verb = CTL_RESTART, .no_wait = true, .nnames = 1, .names = {"web"}};
	assert_true(ctl_format(&r, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "hfinit1 restart --no-wait web\n");
	/* too small: refused, never cut */
	assert_int_equal(ctl_format(&r, buf, 30), -1);
	assert_int_equal(ctl_format(&r, buf, 31), 30);
}

static void test_replies(void **state)
{
	struct ctl_reply o;
	char s[64];
	(void)state;
	snprintf(s, sizeof(s), "ok web ready in 12 ms");
	assert_int_equal(ctl_reply_parse(s, strlen(s), &o), 0);
	assert_int_equal(o.kind, CTL_OK);
	assert_string_equal(o.name, "web");
	assert_string_equal(o.text, "ready in 12 ms");
	snprintf(s, sizeof(s), "fail tts");
	assert_int_equal(ctl_reply_parse(s, strlen(s), &o), 0);
	assert_int_equal(o.kind, CTL_FAIL);
	assert_string_equal(o.text, "");
	snprintf(s, sizeof(s), "error hfinit is stopping");
	assert_int_equal(ctl_reply_parse(s, strlen(s), &o), 0);
	assert_int_equal(o.kind, CTL_ERROR);
	assert_string_equal(o.text, "hfinit is stopping");
	snprintf(s, sizeof(s), "end 1");
	assert_int_equal(ctl_reply_parse(s, strlen(s), &o), 0);
	assert_int_equal(o.code, 1);
	const char *bad[] = {"end 2", "end", "ok", "hello web", "ok\tweb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "%s", bad[i]);
		assert_int_equal(ctl_reply_parse(s, strlen(s), &o), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
