/* Unit tests: the health and status modes against fabricated status dirs. */
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

#include "cmd/cmd_status.h"
#include "status_fixture.h"

/* --- hfinit health ------------------------------------------------------------- */

/* Fabricate a status dir: state word (NULL: no file), ready file, lock
 * (0 none, 1 present and free, 2 held by us through another open file). */
static int fabricate(const char *st, int ready, int lock)
{
	char buf[32];
	int fd = -1;

	unlink(path("state"));
	unlink(path("ready"));
	unlink(path("lock"));
	if (st) {
		snprintf(buf, sizeof(buf), "%s\n", st);
		put_file(path("state"), buf);
	}
	if (ready)
		put_file(path("ready"), "2026-11-27T00:17:23.123Z\n");
	if (lock) {
		fd = open(path("lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		if (lock == 2)
			assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	}
	return fd;
}

static int health(const char *flag, char **out)
{
	if (flag)
		return capture(cmd_health, out, 4, "health", flag, "-d", tdir);
	return capture(cmd_health, out, 3, "health", "-d", tdir);
}

static void test_health_matrix(void **state)
{
	static const char *const states[] = {"starting", "ready",   "degraded",
					     "stopping", "stopped", "failed"};
	(void)state;
	for (size_t i = 0; i < 6; i++) {
		const char *st = states[i];
		/* the writer keeps `ready` exactly while all required are ready */
		int ready = strcmp(st, "ready") == 0 || strcmp(st, "degraded") == 0;
		for (int lock = 0; lock <= 2; lock++) {
			int fd = fabricate(st, ready, lock);
			int want_started = lock == 2 && ready;
			int want_ready = lock == 2 && ready;
			int want_live = lock == 2 && strcmp(st, "failed") != 0;
			const struct {
				const char *flag;
				int want;
			} cases[] = {{"--started", want_started},
				     {"--ready", want_ready},
				     {NULL, want_ready}, /* default: --ready */
				     {"--live", want_live}};
			for (size_t c = 0; c < 4; c++) {
				char *out;
				int rc = health(cases[c].flag, &out);
				if (rc != (cases[c].want ? 0 : 1))
					fail_msg("state %s lock %d %s: exit %d (%s)", st, lock,
						 cases[c].flag ? cases[c].flag : "(default)", rc,
						 out);
				/* one line with the reason */
				assert_non_null(strchr(out, '\n'));
				assert_int_equal(strchr(out, '\n')[1], '\0');
				if (lock == 1)
					assert_non_null(strstr(out, "stale"));
				if (lock == 0)
					assert_non_null(strstr(out, "no lock file"));
				if (lock == 2 && rc == 1)
					assert_non_null(strstr(out, st));
				free(out);
			}
			if (fd >= 0)
				close(fd);
		}
	}
}

static void test_health_edges(void **state)
{
	char *out;
	int fd;
	(void)state;

	/* ready file without a live writer: never ready (a stale file lies) */
	fd = fabricate("ready", 1, 1);
	assert_int_equal(health("--ready", &out), 1);
	free(out);
	close(fd);
	/* live writer, no state file */
	fd = fabricate(NULL, 0, 2);
	assert_int_equal(health("--live", &out), 1);
	assert_non_null(strstr(out, "/state:"));
	free(out);
	close(fd);
	/* garbage state */
	fd = fabricate("bogus", 0, 2);
	assert_int_equal(health("--live", &out), 1);
	assert_non_null(strstr(out, "not a state word"));
	free(out);
	/* `ready` as a symlink to a file does not count */
	put_file(path("state"), "ready\n");
	put_file(path("elsewhere"), "x\n");
	assert_int_equal(symlink(path("elsewhere"), path("ready")), 0);
	assert_int_equal(health("--ready", &out), 1);
	free(out);
	close(fd);
	/* no such dir */
	assert_int_equal(capture(cmd_health, &out, 3, "health", "-d", "/nonexistent/x"), 1);
	assert_non_null(strstr(out, "/nonexistent/x"));
	free(out);
	/* bad usage: 1 (Docker reserves 2), nothing on stdout */
	assert_int_equal(capture(cmd_health, &out, 2, "health", "--bogus"), 1);
	assert_string_equal(out, "");
	free(out);
	/* $HFINIT_STATUS_DIR is the default dir */
	fd = fabricate("degraded", 1, 2);
	setenv("HFINIT_STATUS_DIR", tdir, 1);
	assert_int_equal(capture(cmd_health, &out, 1, "health"), 0);
	assert_string_equal(out, "ready: every required service is ready (state degraded)\n");
	free(out);
	close(fd);
}

/* --- hfinit status ------------------------------------------------------------- */

static void test_status_cmd(void **state)
{
	struct status_snapshot s;
	struct status_writer *w;
	char *out, *raw;
	(void)state;

	setenv("HFINIT_STATUS_DIR", tdir, 1);
	w = status_open(NULL);
	fill(&s);
	status_publish(w, &s);
	assert_int_equal(capture(cmd_status, &out, 3, "status", "-d", tdir), 0);
	const char *want[] = {
	    "(pid ",
	    "): degraded, stage 2, up ",
	    "(writer running)",
	    "python: /usr/bin/python3 3.11.2 (system)",
	    "\n\nSERVICE  STATE   PID  UPTIME  ATTEMPT  RESTARTS  READY IN  LAST ERROR\n",
	    "\nweb*     ready   7    ",
	    "  1/3      0         812ms     -\n",
	    /* control characters never reach the terminal */
	    "\ntts      failed  -    -       3/3      0         -         [missing dependency] "
	    "ModuleNotFoundError: No module named \"torch\"  at <x>?\xef\xbf\xbd\n(* required)\n",
	    "hints:\n  tts: pip install torch\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(out, want[i]))
			fail_msg("missing [%s] in\n%s", want[i], out);
	free(out);
	/* --json: the file as it is */
	assert_int_equal(capture(cmd_status, &out, 2, "status", "--json"), 0);
	raw = slurp(path("status.json"));
	assert_string_equal(out, raw);
	free(raw);
	free(out);
	status_close(w);
	/* writer gone: said so */
	assert_int_equal(capture(cmd_status, &out, 1, "status"), 0);
	assert_non_null(strstr(out, "writer gone"));
	assert_null(strstr(out, ", up "));
	free(out);
	/* broken file: exit 1 */
	put_file(path("status.json"), "{\"state\": \"ready\", ");
	assert_int_equal(capture(cmd_status, &out, 1, "status"), 1);
	free(out);
	/* no dir: exit 1; bad usage: 2 */
	assert_int_equal(capture(cmd_status, &out, 3, "status", "-d", "/nonexistent/x"), 1);
	free(out);
	assert_int_equal(capture(cmd_status, &out, 2, "status", "--bogus"), 2);
	free(out);
}

/* -d DIR, --dir DIR, --dir=DIR and -dDIR say the same; -h and --help work
 * for both modes; a missing DIR is bad usage. */
static void test_dir_spellings(void **state)
{
	char *out, eq[96], glued[96];
	int fd;
	(void)state;

	fd = fabricate("ready", 1, 2);
	snprintf(eq, sizeof(eq), "--dir=%s", tdir);
	snprintf(glued, sizeof(glued), "-d%s", tdir);
	assert_int_equal(capture(cmd_health, &out, 3, "health", "-d", tdir), 0);
	free(out);
	assert_int_equal(capture(cmd_health, &out, 4, "health", "--live", "--dir", tdir), 0);
	assert_string_equal(out, "live: hfinit is running, state ready\n");
	free(out);
	assert_int_equal(capture(cmd_health, &out, 2, "health", eq), 0);
	free(out);
	assert_int_equal(capture(cmd_health, &out, 3, "health", glued, "--started"), 0);
	assert_string_equal(out, "started: state ready\n");
	free(out);
	assert_int_equal(capture(cmd_health, &out, 2, "health", "-d"), 1);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(capture(cmd_health, &out, 4, "health", "-d", tdir, "extra"), 1);
	free(out);
	assert_int_equal(capture(cmd_health, &out, 2, "health", "-h"), 0);
	free(out);
	assert_int_equal(capture(cmd_health, &out, 2, "health", "--help"), 0);
	free(out);
	close(fd);
	/* status reads the same dir with each spelling */
	put_file(path("status.json"), "{\"state\": \"ready\", \"services\": {}}\n");
	assert_int_equal(capture(cmd_status, &out, 4, "status", "--dir", tdir, "--json"), 0);
	assert_string_equal(out, "{\"state\": \"ready\", \"services\": {}}\n");
	free(out);
	assert_int_equal(capture(cmd_status, &out, 3, "status", "--json", eq), 0);
	free(out);
	assert_int_equal(capture(cmd_status, &out, 3, "status", glued, "--json"), 0);
	free(out);
	assert_int_equal(capture(cmd_status, &out, 2, "status", "--dir"), 2);
	free(out);
	assert_int_equal(capture(cmd_status, &out, 2, "status", "-h"), 0);
	assert_non_null(strstr(out, "usage: hfinit status"));
	free(out);
	assert_int_equal(capture(cmd_status, &out, 2, "status", "--help"), 0);
	assert_non_null(strstr(out, "usage: hfinit status"));
	free(out);
}

/* -c FILE: the config's status_dir is the dir (after -d and the variable). */
static void test_config_dir(void **state)
{
	char conf[128], text[160], eq[160], *out;
	int fd;
	(void)state;

	fd = fabricate("ready", 1, 2);
	snprintf(conf, sizeof(conf), "%s/hfinit.ini", tdir);
	snprintf(text, sizeof(text), "[hfinit]\nstatus_dir = %s\n", tdir);
	put_file(conf, text);
	snprintf(eq, sizeof(eq), "--config=%s", conf);
	assert_int_equal(capture(cmd_health, &out, 4, "health", "--live", "-c", conf), 0);
	assert_string_equal(out, "live: hfinit is running, state ready\n");
	free(out);
	assert_int_equal(capture(cmd_health, &out, 3, "health", "--config", conf), 0);
	free(out);
	put_file(path("status.json"), "{\"state\": \"ready\"}\n");
	assert_int_equal(capture(cmd_status, &out, 3, "status", eq, "--json"), 0);
	assert_string_equal(out, "{\"state\": \"ready\"}\n");
	free(out);
	/* -d wins over the config */
	assert_int_equal(capture(cmd_health, &out, 5, "health", "-c", conf, "-d", "/nonexistent/x"),
			 1);
	assert_non_null(strstr(out, "/nonexistent/x"));
	free(out);
	/* a config that cannot be read: not healthy, and said why */
	assert_int_equal(capture(cmd_health, &out, 3, "health", "-c", "/nonexistent/h.ini"), 1);
	assert_non_null(strstr(out, "unhealthy (--ready): cannot read config /nonexistent/h.ini"));
	free(out);
	assert_int_equal(capture(cmd_status, &out, 3, "status", "-c", "/nonexistent/h.ini"), 1);
	free(out);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_health_matrix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_cmd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dir_spellings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
