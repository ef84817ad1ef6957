/* Unit tests: status.json content and escaping, the summary, RFC 3339. */
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
#include "status/status_render.h"
#include "status_fixture.h"

static void test_rfc3339(void **state)
{
	char buf[40];
	struct timespec ts = {1795738643, 123999999};
	(void)state;
	status_rfc3339(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-27T00:17:23.123Z");
	ts = (struct timespec){0, 0};
	status_rfc3339(&ts, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void test_render_content(void **state)
{
	struct status_snapshot s;
	char *doc, mypid[32];
	size_t len, off, at = 99;
	(void)state;
	fill(&s);
	assert_int_equal(status_render(&s, &doc, &len, &off), 0);
	assert_int_equal(strlen(doc), len);
	assert_int_equal(doc[len - 1], '\n');
	assert_int_equal(status_json_check(doc, len, &at), 0);
	assert_memory_equal(doc + off, "0000-00-00T00:00:00.000Z", 24);
	snprintf(mypid, sizeof(mypid), "\n  \"pid\": %d,\n", (int)getpid());
	const char *want[] = {
	    "{\n  \"schema\": 1,\n  \"hfinit\": \"" HFINIT_VERSION "\",\n",
	    mypid,
	    "\n  \"state\": \"degraded\",\n  \"stage\": 2,\n",
	    "\"started_at\": \"2026-11-27T00:17:23.000Z\"",
	    "\"exit_code\": null,",
	    "\"all_required_ready\": true,",
	    "\"path\": \"/usr/bin/python3\",\n    \"executable\": \"/usr/bin/python3.11\",\n"
	    "    \"version\": \"3.11.2\",\n    \"source\": \"system\",\n    \"error\": null,",
	    "\n      {\"path\": \"/app/.venv/bin/python3\", \"source\": \"venv\", \"verdict\": "
	    "\"dangling link\", \"detail\": \"-> /root/.local/bin/python3\", \"version\": null, "
	    "\"elapsed_ms\": 0},\n",
	    "\"stages\": [\n    {\"stage\": 1, \"ready_ms\": 815},\n    {\"stage\": 2, "
	    "\"ready_ms\": null}\n  ],",
	    "\"blame\": [\n    {\"service\": \"web\", \"stage\": 1, \"ready_ms\": 812}\n  ],",
	    "\n    \"web\": {\"state\": \"ready\", \"stage\": 1, \"required\": true, \"pid\": 7, "
	    "\"attempt\": 1, \"attempts\": 3, ",
	    "\"started_at\": \"2026-11-27T00:17:23.005Z\", \"ready_at\": "
	    "\"2026-11-27T00:17:23.817Z\", \"ready_ms\": 812,",
	    "\"last_exit\": {\"code\": null, \"signal\": null, \"signal_name\": null},",
	    "\"restarts\": 0, \"requested_restarts\": 0, \"stopped_by\": null,",
	    "\"command\": \"node dist/index.js\"",
	    "\"ready_spec\": \"tcp:7860\", \"type\": \"longrun\", \"finished_at\": null, "
	    "\"disabled_reason\": null}",
	    "\"pid\": null,",
	    "\"code\": null, \"signal\": 9, \"signal_name\": \"SIGKILL\"}",
	    /* escaping: quotes, newline, tab, control char, invalid UTF-8 */
	    "\"text\": \"ModuleNotFoundError: No module named \\\"torch\\\"\\n\\tat "
	    "<x>\\u0001\\ufffd\", \"category\": \"missing dependency\", \"hint\": \"pip install "
	    "torch\"}",
	    "\"errors\": 4, \"warnings\": 1, \"script\": \"/app/server/worker_pool.py\",",
	    "\"sandbox\": \"worker\", \"sandbox_rules\": 57, \"sandbox_landlock\": null, "
	    "\"notify_status\": \"loading model\",",
	    /* stdout and stderr: one line each */
	    "\"output\": {\n    \"stdout\": {\"dropped_lines\": 0, ",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(doc, want[i]))
			fail_msg("missing %s\nin\n%s", want[i], doc);
	/* tts never became ready: not in the blame list */
	assert_null(strstr(doc, "\"service\": \"tts\""));
	free(doc);

	/* the same snapshot renders the same bytes (what coalescing relies on) */
	char *again;
	size_t len2;
	assert_int_equal(status_render(&s, &doc, &len, NULL), 0);
	assert_int_equal(status_render(&s, &again, &len2, NULL), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(doc, again, len);
	free(again);
	free(doc);

	/* no Python needed, stopped with an exit code */
	s.python = NULL;
	s.state = "stopped";
	s.exit_code = 1;
	s.all_required_ready = false;
	assert_int_equal(status_render(&s, &doc, &len, NULL), 0);
	assert_non_null(strstr(doc, "\"exit_code\": 1,"));
	assert_non_null(strstr(doc, "\"python\": null,"));
	assert_non_null(strstr(doc, "\"all_required_ready\": false,"));
	assert_int_equal(status_json_check(doc, len, NULL), 0);
	free(doc);
}

/* Every string of the file has its secrets as *** (docs/config.md, "Secrets"). */
static void test_render_redacts(void **state)
{
	struct status_snapshot s;
	char *doc;
	size_t len;
	(void)state;
	fill(&s);
	svcs[0].command = "node x.js --token hf_abcdefghijklmnopqrstuvwxyzABCDEFGH";
	svcs[1].last_error = "RuntimeError: cannot reach postgres://app:dbpass123@db/x";
	svcs[1].notify_status = "calling with Bearer abc.def";
	assert_int_equal(status_render(&s, &doc, &len, NULL), 0);
	assert_non_null(strstr(doc, "\"command\": \"node x.js --token ***\""));
	assert_non_null(
	    strstr(doc, "\"text\": \"RuntimeError: cannot reach postgres://app:***@db/x\""));
	assert_non_null(strstr(doc, "\"notify_status\": \"calling with Bearer ***\""));
	assert_null(strstr(doc, "hf_abc"));
	assert_null(strstr(doc, "dbpass123"));
	assert_int_equal(status_json_check(doc, len, NULL), 0);
	free(doc);
}

static void test_summary(void **state)
{
	struct status_snapshot s;
	char buf[256];
	(void)state;
	fill(&s);
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "degraded: 1/2 services ready; failed: tts");
	/* a done one-shot counts as ready */
	svcs[1].state = "done";
	svcs[1].finished_at = (struct timespec){1, 0};
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "degraded: 2/2 services ready");
	svcs[1].state = "failed";
	svcs[1].finished_at = (struct timespec){0, 0};
	s.state = "starting";
	s.stage = 1;
	s.nservices = 1;
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "starting: stage 1, 1/1 services ready");
	s.state = "stopped";
	s.exit_code = 0;
	s.nservices = 0;
	status_summary(&s, buf, sizeof(buf));
	assert_string_equal(buf, "stopped: 0/0 services ready; exit code 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_render_content),
	    cmocka_unit_test(test_render_redacts),
	    cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
