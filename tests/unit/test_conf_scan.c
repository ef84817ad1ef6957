/* Unit tests: the line scanner of conf/conf_scan.c on its own: the sections
 * it finds (by line, with their full labels and kinds), the lines it marks
 * bad and blanks for inih, and the text of each of its diagnostics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "conf/conf_ctx.h"

struct scan {
	struct ctx c;
	char *buf;
};

static struct scan *scan(const char *text)
{
	struct scan *s = calloc(1, sizeof(*s));
	size_t len = strlen(text);

	assert_non_null(s);
	s->c.cfg = calloc(1, sizeof(*s->c.cfg));
	assert_non_null(s->c.cfg);
	conf_defaults(s->c.cfg);
	s->c.cfg->file = strdup("t.ini");
	s->c.nlines = 2;
	for (size_t i = 0; i < len; i++)
		s->c.nlines += text[i] == '\n';
	s->c.bad = calloc(s->c.nlines, sizeof(*s->c.bad));
	s->buf = strdup(text);
	assert_non_null(s->c.cfg->file);
	assert_non_null(s->c.bad);
	assert_non_null(s->buf);
	conf_scan(&s->c, s->buf, len);
	assert_false(s->c.oom);
	return s;
}

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < (s->c.nsecs < MAXSECS ? s->c.nsecs : MAXSECS); i++)
		free(s->c.secs[i].label);
	free(s->c.secs);
	free(s->c.bad);
	free(s->buf);
	config_free(s->c.cfg);
	free(s);
}

/* The one diagnostic of a scan of text, its line and message. */
static void one_diag(const char *text, int line, const char *msg)
{
	struct scan *s = scan(text);

	assert_int_equal(s->c.cfg->ndiags, 1);
	assert_int_equal(s->c.cfg->diags[0].line, line);
	assert_string_equal(s->c.cfg->diags[0].msg, msg);
	scan_free(s);
}

static void test_sections(void **state)
{
	struct scan *s;

	(void)state;
	s = scan("\xEF\xBB\xBF[hfinit]\n"
		 "stop_timeout = 5s\n"
		 "\n"
		 "; comment\n"
		 "# comment\n"
		 "[ service:a-very-long-service-name-that-inih-would-cut-at-49-bytes ]\n"
		 "command = x\n"
		 "[seccomp:box] ; trailing comment\n");
	assert_int_equal(s->c.cfg->ndiags, 0);
	assert_int_equal(s->c.nsecs, 3);
	assert_int_equal(s->c.secs[0].kind, SEC_HFINIT);
	assert_int_equal(s->c.secs[0].line, 1);
	assert_int_equal(s->c.hfinit_line, 1);
	assert_int_equal(s->c.secs[1].kind, SEC_SERVICE);
	assert_int_equal(s->c.secs[1].line, 6);
	assert_string_equal(s->c.secs[1].label,
			    "service:a-very-long-service-name-that-inih-would-cut-at-49-bytes");
	assert_int_equal(s->c.secs[1].idx, 0);
	assert_int_equal(s->c.secs[2].kind, SEC_SECCOMP);
	assert_int_equal(s->c.secs[2].idx, 0);
	/* each named section gets its struct, with defaults, name and line */
	assert_int_equal(s->c.cfg->nservices, 1);
	assert_string_equal(s->c.cfg->services[0].name,
			    "a-very-long-service-name-that-inih-would-cut-at-49-bytes");
	assert_int_equal(s->c.cfg->services[0].line, 6);
	assert_int_equal(s->c.cfg->services[0].retries, 3);
	assert_int_equal(s->c.cfg->nprofiles, 1);
	assert_string_equal(s->c.cfg->profiles[0].name, "box");
	assert_int_equal(s->c.cfg->profiles[0].deny_action.action, SECCOMP_ACT_ERRNO);
	for (size_t i = 0; i < s->c.nlines; i++)
		assert_false(s->c.bad[i]);
	scan_free(s);
}

static void test_bad_sections(void **state)
{
	struct scan *s;

	(void)state;
	one_diag("[hfinit]\n[hfinit]\n", 2,
		 "section appears twice (first at line 1); expected one [hfinit] section");
	one_diag("[service:]\n", 1, "no name; expected [service:NAME]");
	one_diag("[seccomp]\n", 1, "no name; expected [seccomp:NAME]");
	one_diag("[service:-x]\n", 1,
		 "bad name \"-x\"; expected 1 to 64 letters, digits, '_', '.' or '-', not "
		 "starting with '.' or '-'");
	one_diag("[seccomp:worker]\n", 1,
		 "\"worker\" is the built-in profile; expected another name (use extends = "
		 "worker to build on it)");
	one_diag("[service:a]\n[service:a]\n", 2,
		 "service \"a\" is defined twice (first at line 1); expected unique names");
	one_diag("[seccomp:p]\n[seccomp:p]\n", 2,
		 "seccomp profile \"p\" is defined twice (first at line 1); expected unique "
		 "names");
	one_diag("[hfnit]\n", 1,
		 "unknown section (did you mean [hfinit]?); expected [hfinit], [service:NAME] "
		 "or [seccomp:NAME]");
	one_diag("[servce:web]\n", 1,
		 "unknown section (did you mean [service:web]?); expected [hfinit], "
		 "[service:NAME] or [seccomp:NAME]");
	one_diag("[program:web]\n", 1,
		 "unknown section; expected [hfinit], [service:NAME] or [seccomp:NAME]");

	/* a header that is refused still starts a section: SEC_BAD */
	s = scan("[service:a]\n[bogus]\nx = 1\n");
	assert_int_equal(s->c.nsecs, 2);
	assert_int_equal(s->c.secs[1].kind, SEC_BAD);
	assert_int_equal(s->c.cfg->nservices, 1);
	scan_free(s);
	/* the second definition of a name still gets its struct (both are reported on) */
	s = scan("[service:a]\n[service:a]\n");
	assert_int_equal(s->c.cfg->nservices, 2);
	assert_int_equal(s->c.secs[1].kind, SEC_SERVICE);
	scan_free(s);
}

static void test_bad_lines(void **state)
{
	struct scan *s;
	char *big;

	(void)state;
	one_diag("[hfinit]\njunk\n", 2, "\"junk\" is not a setting; expected KEY = VALUE");
	one_diag("[hfinit]\nport: 80\n", 2,
		 "\"port: 80\" uses ':' as separator; expected KEY = VALUE");
	one_diag("[hfinit]\n= value\n", 2, "no key before '='; expected KEY = VALUE");
	one_diag("[hfinit\n", 1, "unterminated section header \"[hfinit\"; expected [NAME]");
	one_diag("[hfinit] x\n", 1,
		 "text after the section header; expected only [NAME] on the line");
	/* nothing after a word naming a secret is quoted */
	one_diag("[hfinit]\nDB_PASSWORD hunter2\n", 2,
		 "\"DB_PASSWORD ...\" is not a setting; expected KEY = VALUE");

	s = scan("[service:a]\ncommand = x\njunk\nready = started\n");
	assert_false(s->c.bad[2]);
	assert_true(s->c.bad[3]);
	assert_false(s->c.bad[4]);
	/* inih gets blanks instead, so the line numbers stay */
	assert_string_equal(s->buf, "[service:a]\ncommand = x\n    \nready = started\n");
	scan_free(s);

	big = malloc(CONFIG_MAX_LINE + 40);
	assert_non_null(big);
	strcpy(big, "[x\n");
	memset(big + 3, 'k', CONFIG_MAX_LINE + 1);
	strcpy(big + 3 + CONFIG_MAX_LINE + 1, "\n[service:b]\n");
	s = scan(big);
	assert_int_equal(s->c.cfg->ndiags, 2);
	assert_string_equal(s->c.cfg->diags[1].msg,
			    "line is too long (16001 bytes); expected at most 16000");
	assert_true(s->c.bad[1]);
	assert_true(s->c.bad[2]);
	assert_int_equal(s->c.nsecs, 2); /* the broken header still starts a section */
	assert_int_equal(s->c.secs[0].kind, SEC_BAD);
	assert_int_equal(s->c.secs[1].kind, SEC_SERVICE);
	scan_free(s);
	free(big);
}

static void test_section_limit(void **state)
{
	size_t n = MAXSECS + 2, len = 0;
	char *text = malloc(n * 24);
	struct scan *s;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "[service:s%zu]\n", i);
	s = scan(text);
	assert_int_equal(s->c.nsecs, MAXSECS + 2); /* counted */
	assert_int_equal(s->c.cfg->nservices, MAXSECS);
	assert_int_equal(s->c.over_line, MAXSECS + 1);
	assert_int_equal(s->c.cfg->ndiags, 1);
	assert_string_equal(s->c.cfg->diags[0].msg,
			    "too many sections: this is section 1001, expected at most 1000 per "
			    "file ([hfinit], [service:NAME] and [seccomp:NAME] together); it and "
			    "everything below it are ignored");
	scan_free(s);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_bad_sections),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_section_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
