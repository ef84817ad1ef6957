/* Unit tests: the JSON reader status.json is read with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "status/status_read.h"
#include "status_fixture.h"

static void test_json_check(void **state)
{
	const char *good[] = {"{}",
			      " [1, -2.5e+3, 0, true, false, null, \"x\\u00e9\\ud83d\\ude00\"] ",
			      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "{\"a\":{\"b\":[[]]}}"};
	const struct {
		const char *doc;
		size_t at;
	} bad[] = {
	    {"", 0},	       {"{", 1},
	    {"{\"a\" 1}", 5},  {"[1,]", 3},
	    {"01", 1},	       {"-", 0},
	    {"1.", 0},	       {"\"abc", 0},
	    {"\"a\\x\"", 0},   {"\"a\nb\"", 0},
	    {"{} x", 3},       {"[tru]", 1},
	    {"{\"a\":1,}", 7}, {"{\"a\":1 \"b\":2}", 7},
	};
	char deep[80];
	size_t at;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (status_json_check(good[i], strlen(good[i]), &at) != 0)
			fail_msg("rejected %s at %zu", good[i], at);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		at = 12345;
		if (status_json_check(bad[i].doc, strlen(bad[i].doc), &at) == 0)
			fail_msg("accepted %s", bad[i].doc);
		if (at != bad[i].at)
			fail_msg("%s: error at %zu, expected %zu", bad[i].doc, at, bad[i].at);
	}
	/* nesting is bounded */
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	assert_int_equal(status_json_check(deep, 80, NULL), -1);
	assert_int_equal(status_json_check(deep + 10, 60, NULL), 0);
}

/* The reading side on a fabricated dir: the state word, whether a writer
 * holds the lock, and status.json with it. */
static void test_read_dir(void **state)
{
	char word[16], *buf = NULL;
	size_t len = 0;
	int dfd, lk, live = -1;
	(void)state;

	dfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	/* nothing there yet */
	assert_int_equal(status_read_state(dfd, word, sizeof(word)), -1);
	assert_int_equal(status_writer_live(dfd), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(status_load(tdir, &buf, &len, &live), -1);
	assert_int_equal(errno, ENOENT);
	/* a state word, with its newline; anything else is refused */
	put_file(path("state"), "degraded\n");
	assert_int_equal(status_read_state(dfd, word, sizeof(word)), 0);
	assert_string_equal(word, "degraded");
	put_file(path("state"), "bogus\n");
	assert_int_equal(status_read_state(dfd, word, sizeof(word)), -1);
	assert_int_equal(errno, EINVAL);
	/* a lock nobody holds, then one held */
	put_file(path("status.json"), "{}\n");
	lk = open(path("lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(lk >= 0);
	assert_int_equal(status_writer_live(dfd), 0);
	assert_int_equal(status_load(tdir, &buf, &len, &live), 0);
	assert_string_equal(buf, "{}\n");
	assert_int_equal(len, 3);
	assert_int_equal(live, 0);
	free(buf);
	assert_int_equal(flock(lk, LOCK_EX), 0);
	assert_int_equal(status_writer_live(dfd), 1);
	assert_int_equal(status_load(tdir, &buf, &len, &live), 0);
	assert_int_equal(live, 1);
	free(buf);
	close(lk);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_check),
	    cmocka_unit_test_setup_teardown(test_read_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
