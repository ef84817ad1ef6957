/* Shared by the status unit tests: a fresh temp dir per test, file helpers,
 * a mode run with stdout captured, a snapshot to render, a datagram listener. */
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

#include "status_fixture.h"

char tdir[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

int setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/hfinit-test-status-XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("HFINIT_STATUS_DIR");
	return 0;
}

int teardown(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("HFINIT_STATUS_DIR");
	return nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, 256, "%s/%s", tdir, name);
	return b;
}

char *slurp(const char *p)
{
	FILE *f = fopen(p, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

void put_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Run a mode with stdout captured; returns its exit code, *out the text. */
int capture(int (*fn)(int, char **), char **out, int argc, ...)
{
	char *argv[16];
	va_list ap;
	int saved, fd, rc;

	assert_true(argc < 16);
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(1);
	fd = open(path("stdout"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 1), 1);
	close(fd);
	rc = fn(argc, argv);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	*out = slurp(path("stdout"));
	assert_non_null(*out);
	return rc;
}

/* --- a snapshot to render ------------------------------------------------- */

static struct py_candidate cands[2];
static struct python_plan plan;
struct status_service svcs[2];
static struct status_stage stages[2];

void fill(struct status_snapshot *s)
{
	memset(cands, 0, sizeof(cands));
	snprintf(cands[0].source, sizeof(cands[0].source), "venv");
	snprintf(cands[0].path, sizeof(cands[0].path), "/app/.venv/bin/python3");
	cands[0].verdict = PV_DANGLING;
	snprintf(cands[0].detail, sizeof(cands[0].detail), "-> /root/.local/bin/python3");
	snprintf(cands[1].source, sizeof(cands[1].source), "system");
	snprintf(cands[1].path, sizeof(cands[1].path), "/usr/bin/python3");
	cands[1].verdict = PV_OK;
	snprintf(cands[1].version, sizeof(cands[1].version), "3.11.2");
	snprintf(cands[1].executable, sizeof(cands[1].executable), "/usr/bin/python3.11");
	cands[1].elapsed_ms = 21;
	memset(&plan, 0, sizeof(plan));
	plan.cands = cands;
	plan.ncands = 2;
	plan.chosen = 1;

	memset(svcs, 0, sizeof(svcs));
	svcs[0] = (struct status_service){
	    .name = "web",
	    .state = "ready",
	    .stage = 1,
	    .required = true,
	    .pid = 7,
	    .attempt = 1,
	    .attempts = 3,
	    .started_at = {1795738643, 5000000},
	    .ready_at = {1795738643, 817000000},
	    .ready_ms = 812,
	    .exit_code = -1,
	    .command = "node dist/index.js",
	    .ready_spec = "tcp:7860",
	};
	svcs[1] = (struct status_service){
	    .name = "tts",
	    .state = "failed",
	    .stage = 2,
	    .required = false,
	    .pid = 0,
	    .attempt = 3,
	    .attempts = 3,
	    .restarts = 0,
	    .ready_ms = -1,
	    .has_exit = true,
	    .exit_code = -1,
	    .exit_signal = 9,
	    .last_error = "ModuleNotFoundError: No module named \"torch\"\n\tat <x>\x01\xff",
	    .error_category = "missing dependency",
	    .error_hint = "pip install torch",
	    .errors = 4,
	    .warnings = 1,
	    .script = "/app/server/worker_pool.py",
	    .sandbox = "worker",
	    .sandbox_rules = 57,
	    .notify_status = "loading model",
	};
	stages[0] = (struct status_stage){1, 815};
	stages[1] = (struct status_stage){2, -1};
	memset(s, 0, sizeof(*s));
	s->state = "degraded";
	s->stage = 2;
	s->started_at = (struct timespec){1795738643, 0};
	s->exit_code = -1;
	s->all_required_ready = true;
	s->python = &plan;
	s->services = svcs;
	s->nservices = 2;
	s->stages = stages;
	s->nstages = 2;
}

/* --- upward sd_notify -------------------------------------------------------- */

int listener(const char *name, int abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (abstract) {
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "%s", name);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
		len = sizeof(sa);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

/* The next datagram (sends are synchronous on AF_UNIX), or NULL. */
char *next_msg(int fd)
{
	static char buf[1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}
