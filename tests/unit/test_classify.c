/* Unit tests: line classification, failure signatures, exit descriptions, signal names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "sup/classify.h"
#include "base/signame.h"

static struct line_verdict cl(struct line_classifier *st, const char *s)
{
	return classify_line(st, s, strlen(s));
}

static void test_plain_lines(void **state)
{
	struct line_classifier st = {0};
	(void)state;
	assert_int_equal(cl(&st, "loading model").cls, LINE_INFO);
	assert_int_equal(cl(&st, "ValueError: bad shape").cls, LINE_ERROR);
	assert_true(cl(&st, "Error: listen failed").counts);
	assert_int_equal(cl(&st, "2024-01-01 ERROR worker died").cls, LINE_ERROR);
	assert_int_equal(cl(&st, "CRITICAL: disk").cls, LINE_ERROR);
	assert_int_equal(cl(&st, "FATAL out of cheese").cls, LINE_ERROR);
	assert_int_equal(cl(&st, "RuntimeException in thread").cls, LINE_ERROR);
	assert_int_equal(cl(&st, "UserWarning: TypedStorage is deprecated").cls, LINE_WARNING);
	assert_int_equal(cl(&st, "WARNING:root:slow").cls, LINE_WARNING);
	assert_int_equal(cl(&st, "npm WARN deprecated").cls, LINE_WARNING);
	assert_int_equal(cl(&st, "Fatal Python error: Aborted").cls, LINE_ERROR);
	assert_int_equal(cl(&st, "Segmentation fault (core dumped)").cls, LINE_ERROR);
	assert_int_equal(cl(&st, "gcc: warning: unused").cls, LINE_WARNING);
	/* near misses stay info */
	assert_int_equal(cl(&st, "0 Errors found").cls, LINE_INFO);
	assert_int_equal(cl(&st, "errorless run").cls, LINE_INFO);
	assert_int_equal(cl(&st, "FATALITY mode").cls, LINE_INFO);
	assert_int_equal(cl(&st, "WARNINGS: none").cls, LINE_INFO);
}

static void test_traceback_is_one_error(void **state)
{
	struct line_classifier st = {0};
	struct line_verdict v;
	(void)state;

	v = cl(&st, "Traceback (most recent call last):");
	assert_int_equal(v.cls, LINE_ERROR);
	assert_true(v.counts);
	v = cl(&st, "  File \"/app/worker_pool.py\", line 3, in <module>");
	assert_int_equal(v.cls, LINE_ERROR);
	assert_false(v.counts);
	v = cl(&st, "    import torch");
	assert_false(v.counts);
	v = cl(&st, "ModuleNotFoundError: No module named 'torch'");
	assert_int_equal(v.cls, LINE_ERROR);
	assert_false(v.counts); /* counted once, at the Traceback line */
	assert_true(v.is_detail);
	/* back to normal */
	v = cl(&st, "another ValueError: x");
	assert_true(v.counts);
	assert_int_equal(cl(&st, "hello").cls, LINE_INFO);
}

static void test_chained_traceback(void **state)
{
	struct line_classifier st = {0};
	(void)state;
	assert_true(cl(&st, "Traceback (most recent call last):").counts);
	assert_false(cl(&st, "  File \"a.py\", line 1").counts);
	/* a chained exception's intermediate line still belongs to the traceback? No:
	 * Python prints "KeyError: 'x'" then a blank line, then "During handling". The
	 * KeyError line ends the first traceback; the next Traceback counts again. */
	assert_false(cl(&st, "KeyError: 'x'").counts);
	assert_int_equal(cl(&st, "").cls, LINE_INFO);
	assert_int_equal(
	    cl(&st, "During handling of the above exception, another exception occurred:").cls,
	    LINE_INFO);
	assert_true(cl(&st, "Traceback (most recent call last):").counts);
}

static void expect_diag(const char *line, const char *category, const char *hint_part)
{
	struct err d = {0};
	assert_true(diagnose_line(line, strlen(line), &d));
	assert_string_equal(d.category, category);
	if (hint_part && !strstr(d.hint, hint_part))
		fail_msg("hint '%s' lacks '%s'", d.hint, hint_part);
}

static void test_signatures(void **state)
{
	struct err d;
	(void)state;
	expect_diag("ModuleNotFoundError: No module named 'torch'", "missing-dependency",
		    "pip install torch");
	expect_diag("ImportError: libcudnn.so.8: cannot open shared object file",
		    "missing-dependency", "import failed");
	expect_diag("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
		    "gpu-out-of-memory", NULL);
	expect_diag("Error: listen EADDRINUSE: address already in use :::7860", "port-in-use",
		    NULL);
	expect_diag("OSError: [Errno 98] Address already in use", "port-in-use", NULL);
	/* uvicorn, gunicorn and gradio word it their own way */
	expect_diag("ERROR:    [Errno 98] error while attempting to bind on address "
		    "('0.0.0.0', 7860): address already in use",
		    "port-in-use", NULL);
	expect_diag("[2026-12-01 19:55:00 +0000] [7] [ERROR] Connection in use: ('0.0.0.0', 7860)",
		    "port-in-use", NULL);
	expect_diag("OSError: Cannot find empty port in range: 7860-7860. You can specify a "
		    "different port by setting the GRADIO_SERVER_PORT environment variable",
		    "port-in-use", NULL);
	expect_diag("OSError: [Errno 98] error while attempting to bind", "port-in-use", NULL);
	expect_diag("Error: Cannot find module '/app/dist/index.js'", "node-module-missing",
		    "/app/dist/index.js");
	expect_diag("requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url",
		    "hub-auth", "HF_TOKEN");
	expect_diag("huggingface_hub.utils._errors.GatedRepoError: 403 Client Error", "hub-auth",
		    NULL);
	expect_diag("OSError: [Errno 28] No space left on device", "disk-full", NULL);
	expect_diag("PermissionError: [Errno 13] Permission denied: '/.cache/huggingface'",
		    "permission-denied", "/.cache/huggingface");
	expect_diag("RuntimeError: CUDA error: out of memory", "gpu-out-of-memory", NULL);
	expect_diag("Invalid user token. The token from HF_TOKEN is invalid", "hub-auth", NULL);
	expect_diag("Invalid credentials in Authorization header", "hub-auth", NULL);
	expect_diag("Access to model x is restricted and you are not in the authorized list",
		    "hub-auth", NULL);
	expect_diag("write failed: ENOSPC", "disk-full", NULL);
	expect_diag("Error: EACCES: open '/data/x'", "permission-denied", "/data/x");
	assert_false(diagnose_line("all good", 8, &d));
}

/* Every text either function looks for stops classify_next where it begins,
 * at any offset in a read, and a read of plain lines passes whole; near
 * misses (three of the four bytes, or cut by the read's end) do not stop
 * it. */
static void test_classify_next(void **state)
{
	static const char *const texts[] = {"Traceback (most recent call last):",
					    "Error",
					    "Exception",
					    "ERROR",
					    "CRITICAL",
					    "FATAL",
					    "Fatal",
					    "Segmentation fault",
					    "Warning",
					    "WARN",
					    "WARNING",
					    "warning",
					    "ModuleNotFoundError",
					    "No module named",
					    "ImportError",
					    "Cannot find module",
					    "Permission denied",
					    "EACCES",
					    "CUDA out of memory",
					    "OutOfMemoryError",
					    "CUDA error: out of memory",
					    "EADDRINUSE",
					    "Address already in use",
					    "address already in use",
					    "Connection in use",
					    "Cannot find empty port in range",
					    "[Errno 98]",
					    "401 Client Error",
					    "403 Client Error",
					    "GatedRepoError",
					    "Invalid user token",
					    "Invalid credentials in Authorization header",
					    "is restricted and you are not in the authorized list",
					    "No space left on device",
					    "ENOSPC"};
	char buf[512];
	(void)state;

	assert_true(classify_texts() <= CLASSIFY_TEXTS_MAX);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (size_t at = 0; at < 40; at += 13) {
			memset(buf, 'x', at);
			buf[at] = '\0';
			strcat(buf, texts[i]);
			assert_int_equal(classify_next(buf, 0, strlen(buf)), at);
			assert_int_equal(classify_next(buf, 0, at + 3), at + 3); /* cut */
			buf[at + 3] = buf[at + 3] == '#' ? '%' : '#';		 /* near miss */
			assert_int_equal(classify_next(buf, 0, at + 4), at + 4);
		}
	snprintf(buf, sizeof(buf), "step 1 loss 0.3\ninfo: loaded model\nGET / 200\nx");
	assert_int_equal(classify_next(buf, 0, strlen(buf)), strlen(buf));
}

/* The exit-code table: the hints, word for word. */
static void test_exit_code_hints(void **state)
{
	struct err d = {0};
	char text[64];
	(void)state;

	assert_true(describe_exit(126 << 8, false, NULL, text, sizeof(text), &d));
	assert_string_equal(text, "exited 126");
	assert_string_equal(d.hint, "exit 126: the command is not executable (chmod +x, or a "
				    "script without a valid #! line)");
	assert_true(describe_exit(127 << 8, false, NULL, text, sizeof(text), &d));
	assert_string_equal(d.hint, "exit 127: the command or its interpreter was not found "
				    "(check PATH and the #! line)");
	assert_false(describe_exit(128 << 8, false, NULL, text, sizeof(text), &d));
}

static void test_describe_exit(void **state)
{
	struct err d = {0};
	char text[64];
	(void)state;

	assert_false(describe_exit(3 << 8, false, NULL, text, sizeof(text), &d));
	assert_string_equal(text, "exited 3");
	assert_true(describe_exit(127 << 8, false, NULL, text, sizeof(text), &d));
	assert_string_equal(d.category, "not-found");
	assert_true(describe_exit(126 << 8, false, NULL, text, sizeof(text), &d));
	assert_string_equal(d.category, "not-executable");
	assert_true(describe_exit(137 << 8, false, NULL, text, sizeof(text), &d));
	assert_string_equal(d.category, "signal");
	assert_non_null(strstr(d.hint, "SIGKILL"));
	assert_true(describe_exit(SIGSYS, false, "worker", text, sizeof(text), &d));
	assert_string_equal(text, "killed by SIGSYS");
	assert_string_equal(d.category, "seccomp");
	assert_non_null(strstr(d.hint, "'worker'"));
	assert_false(describe_exit(SIGKILL, false, NULL, text, sizeof(text), &d));
	assert_string_equal(text, "killed by SIGKILL");
	assert_true(describe_exit(SIGKILL, true, NULL, text, sizeof(text), &d));
	assert_string_equal(d.category, "out-of-memory");
}

static void test_signame(void **state)
{
	(void)state;
	assert_string_equal(signame(SIGTERM), "TERM");
	assert_string_equal(signame(SIGRTMIN + 2), "RTMIN+2");
	assert_null(signame(0));
	assert_int_equal(signum("TERM"), SIGTERM);
	assert_int_equal(signum("SIGTERM"), SIGTERM);
	assert_int_equal(signum("sigusr1"), SIGUSR1);
	assert_int_equal(signum("9"), SIGKILL);
	assert_int_equal(signum("RTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(signum("RTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(signum("IOT"), SIGABRT);
	assert_int_equal(signum("0"), -1);
	assert_int_equal(signum("99"), -1);
	assert_int_equal(signum("TERMINATE"), -1);
	assert_int_equal(signum("9x"), -1);
	assert_int_equal(signum(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_lines),	      cmocka_unit_test(test_traceback_is_one_error),
	    cmocka_unit_test(test_chained_traceback), cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_classify_next),     cmocka_unit_test(test_describe_exit),
	    cmocka_unit_test(test_exit_code_hints),   cmocka_unit_test(test_signame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
