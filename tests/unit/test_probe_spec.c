/* Unit tests: probe specs (ready =, health =). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf/probe_spec.h"

static struct probe probe_ok(const char *s, bool health)
{
	struct probe p;
	struct err e = {0};

	if (parse_probe(s, health, &p, &e) < 0)
		fail_msg("probe %s: %s", s, e.msg);
	assert_string_equal(p.spec, s);
	return p;
}

static const char *probe_err(const char *s, bool health)
{
	static struct err e;
	struct probe p;

	err_clear(&e);
	assert_int_equal(parse_probe(s, health, &p, &e), -1);
	assert_int_equal(p.kind, PROBE_NONE);
	assert_null(p.spec);
	return e.msg;
}

static void test_probes(void **state)
{
	struct probe p;

	(void)state;
	p = probe_ok("tcp:7860", false);
	assert_int_equal(p.kind, PROBE_TCP);
	assert_string_equal(p.host, "127.0.0.1");
	assert_int_equal(p.port, 7860);
	probe_free(&p);
	assert_int_equal(p.kind, PROBE_NONE); /* reset */
	p = probe_ok("tcp:0.0.0.0:1", false);
	assert_string_equal(p.host, "0.0.0.0");
	assert_int_equal(p.port, 1);
	probe_free(&p);
	p = probe_ok("tcp:[fe80::1]:65535", true);
	assert_string_equal(p.host, "fe80::1");
	assert_int_equal(p.port, 65535);
	probe_free(&p);
	p = probe_ok("http://localhost/", false);
	assert_int_equal(p.kind, PROBE_HTTP);
	assert_int_equal(p.port, 80);
	assert_string_equal(p.text, "/");
	probe_free(&p);
	p = probe_ok("http://127.0.0.1:7860/api/health", true);
	assert_string_equal(p.host, "127.0.0.1");
	assert_int_equal(p.port, 7860);
	assert_string_equal(p.text, "/api/health");
	probe_free(&p);
	p = probe_ok("line: ready ", false);
	assert_int_equal(p.kind, PROBE_LINE);
	assert_string_equal(p.text, " ready "); /* taken as written */
	probe_free(&p);
	p = probe_ok("regex:^Uvicorn running on .*:[0-9]+", false);
	assert_true(p.has_re);
	assert_int_equal(regexec(&p.re, "Uvicorn running on http://0.0.0.0:8000", 0, NULL, 0), 0);
	probe_free(&p);
	p = probe_ok("fd:1023", false);
	assert_int_equal(p.fd, 1023);
	probe_free(&p);
	p = probe_ok("exec:test -S /tmp/sock", true);
	assert_int_equal(p.kind, PROBE_EXEC);
	assert_string_equal(p.argv[0], "test");
	assert_string_equal(p.argv[2], "/tmp/sock");
	assert_null(p.argv[3]);
	probe_free(&p);
	p = probe_ok("file:/run/ready", true);
	assert_string_equal(p.text, "/run/ready");
	probe_free(&p);

	assert_string_equal(probe_err("tcp:", false),
			    "\"tcp:\": bad port; expected a number 1..65535");
	assert_string_equal(probe_err("tcp:0", false),
			    "\"tcp:0\": bad port \"0\"; expected a number 1..65535");
	assert_string_equal(probe_err("tcp:::1:80", false),
			    "\"tcp:::1:80\": bad host; expected a name or address such as "
			    "127.0.0.1, localhost or [::1]");
	assert_string_equal(probe_err("tcp:a b:80", false),
			    "\"tcp:a b:80\": bad host; expected a name or address such as "
			    "127.0.0.1, localhost or [::1]");
	assert_string_equal(probe_err("http://", false),
			    "\"http://\": no host; expected http://127.0.0.1:PORT/PATH");
	assert_string_equal(probe_err("http://x:port/", false),
			    "\"http://x:port/\": bad port \"port\"; expected a number 1..65535");
	assert_string_equal(probe_err("http://x/a b", false),
			    "\"http://x/a b\": the path contains a space or control character; "
			    "expected a URL path such as /health (encode spaces as %20)");
	assert_string_equal(probe_err("http:7860", false),
			    "\"http:7860\" is not a URL; expected http://HOST:PORT/PATH");
	assert_string_equal(probe_err("fd:x", false),
			    "\"fd:x\": expected fd:N with N a number from 3 to 1023");
	assert_string_equal(probe_err("exec:", false),
			    "exec: needs a command; expected e.g. exec:curl -fs localhost:7860");
	assert_string_equal(probe_err("exec:a | b", true),
			    "\"|\" is shell syntax, but no shell runs the command; expected a "
			    "plain command and arguments (quote it to pass it literally, or use "
			    "sh -c '...')");
	assert_string_equal(probe_err("file:", false),
			    "file: needs a path; expected e.g. file:/tmp/app.ready");
	assert_string_equal(probe_err("regex:", false), "regex: needs a pattern; expected e.g. "
							"regex:listening on port [0-9]+");
	assert_string_equal(probe_err("notfy", false),
			    "\"notfy\" is not a probe (did you mean notify?); expected started, "
			    "line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "
			    "http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("lien:ready", false),
			    "\"lien:ready\" is not a probe (did you mean line:ready?); expected "
			    "started, line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "
			    "http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("socket:/x", false),
			    "\"socket:/x\" is not a probe; expected started, line:TEXT, regex:RE, "
			    "notify, fd:N, tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or "
			    "exec:CMD");
	assert_string_equal(probe_err("line:ready", true),
			    "\"line:ready\" cannot be a health check (it only fires once, at "
			    "start-up); expected tcp:[HOST:]PORT, http://HOST:PORT/PATH, "
			    "file:PATH or exec:CMD");
	probe_err("started", true);
	probe_err("fd:3", true);
	probe_err("regex:x", true);
	assert_string_equal(probe_kind_name(PROBE_HTTP), "http");
}

/* Every kind: its name, whether a health check may use it, and the texts of
 * the errors test_probes does not cover. */
static void test_kinds(void **state)
{
	static const struct {
		const char *spec;
		enum probe_kind kind;
		const char *name;
		bool polled;
	} kinds[] = {
	    {"started", PROBE_STARTED, "started", false},
	    {"line:up", PROBE_LINE, "line", false},
	    {"regex:up$", PROBE_REGEX, "regex", false},
	    {"notify", PROBE_NOTIFY, "notify", false},
	    {"fd:3", PROBE_FD, "fd", false},
	    {"tcp:80", PROBE_TCP, "tcp", true},
	    {"http://h/", PROBE_HTTP, "http", true},
	    {"file:/x", PROBE_FILE, "file", true},
	    {"exec:true", PROBE_EXEC, "exec", true},
	};
	struct probe p;

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		p = probe_ok(kinds[i].spec, false);
		assert_int_equal(p.kind, kinds[i].kind);
		probe_free(&p);
		assert_string_equal(probe_kind_name(kinds[i].kind), kinds[i].name);
		assert_true(probe_kind_polled(kinds[i].kind) == kinds[i].polled);
		if (kinds[i].polled) {
			p = probe_ok(kinds[i].spec, true);
			probe_free(&p);
		} else {
			probe_err(kinds[i].spec, true);
		}
	}
	assert_string_equal(probe_kind_name(PROBE_NONE), "none");
	assert_false(probe_kind_polled(PROBE_NONE));
	assert_string_equal(probe_kind_name((enum probe_kind)99), "?");

	assert_string_equal(probe_err("notify", true),
			    "\"notify\" cannot be a health check (it only fires once, at "
			    "start-up); expected tcp:[HOST:]PORT, http://HOST:PORT/PATH, "
			    "file:PATH or exec:CMD");
	assert_string_equal(probe_err("started:x", false),
			    "\"started:x\" is not a probe (did you mean started?); expected "
			    "started, line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "
			    "http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("tpc:7860", true),
			    "\"tpc:7860\" is not a probe (did you mean tcp:7860?); expected "
			    "tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("7860", false),
			    "\"7860\" is not a probe (did you mean tcp:7860?); expected started, "
			    "line:TEXT, regex:RE, notify, fd:N, tcp:[HOST:]PORT, "
			    "http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("", false),
			    "\"\" is not a probe; expected started, line:TEXT, regex:RE, notify, "
			    "fd:N, tcp:[HOST:]PORT, http://HOST:PORT/PATH, file:PATH or exec:CMD");
	assert_string_equal(probe_err("HTTPS://h/", true),
			    "\"HTTPS://h/\": https is not supported; expected "
			    "http://127.0.0.1:PORT/PATH (probe the service's plain port inside "
			    "the container)");
	assert_string_equal(probe_err("HTTP://h/", false),
			    "\"HTTP://h/\" is not a URL; expected http://HOST:PORT/PATH");
	assert_string_equal(probe_err("fd:2", false),
			    "\"fd:2\": fd 2 is out of range; expected 3..1023 (0-2 are stdin, "
			    "stdout and stderr)");
	assert_string_equal(probe_err("fd:", false),
			    "\"fd:\": expected fd:N with N a number from 3 to 1023");
	assert_string_equal(probe_err("exec:   ", true),
			    "exec: needs a command; expected e.g. exec:curl -fs localhost:7860");
	assert_string_equal(probe_err("line:", false),
			    "line: needs the text to wait for; expected e.g. line:ready");
	assert_non_null(strstr(probe_err("regex:(", false), "bad regular expression \"(\": "));
	assert_non_null(strstr(probe_err("regex:(", false), "; expected a POSIX extended regex"));
	assert_string_equal(probe_err("tcp:[::1]:70000", true),
			    "\"tcp:[::1]:70000\": bad port \"70000\"; expected a number 1..65535");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
