/* `hfinit health` and `hfinit status`: both read the status dir
 * (docs/status.md). */
#include "cmd/cmd_status.h"
#include "cmd/cmd_version.h"

#include "base/fdio.h"
#include "base/fmt.h"
#include "base/jsonread.h"
#include "conf/config.h"
#include "plan/statusdir.h"
#include "status/status.h"
#include "status/status_read.h"
#include "status/status_render.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* hfinit health */

static int health_usage(void)
{
	(void)usage_print("health", stderr);
	return 1;
}

static int health_say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int health_say(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	(void)fflush(stdout); /* the exit code carries the verdict */
	return code;
}

/* The word getopt stopped at: it may point past a missing option argument. */
static const char *bad_arg(int argc, char **argv)
{
	return argv[(optind > argc ? argc : optind) - 1];
}

enum health_what { H_READY, H_STARTED, H_LIVE };

static const struct option health_opts[] = {
    {"ready", no_argument, NULL, 'R'},
    {"started", no_argument, NULL, 'S'},
    {"live", no_argument, NULL, 'L'},
    {"dir", required_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Where to read: -d DIR, and -c FILE for its status_dir. */
struct dir_opts {
	const char *dir, *config;
};

/* The status_dir of the config at file (-c FILE) into buf, *conf NULL when
 * it has none (automatic); 0, or -1 with why. Only that key is used: the
 * readers need no valid services to read the files. */
static int config_dir(const char *file, char *buf, size_t n, const char **conf, char *why,
		      size_t wn)
{
	struct config_location loc;
	struct config *cfg;
	struct err e;

	config_locate(file, &loc);
	cfg = config_load(&loc, &e);
	if (!cfg) {
		fmt_trunc(why, wn, "%s", e.msg);
		return -1;
	}
	*conf = NULL;
	if (cfg->status_dir) {
		fmt_trunc(buf, n, "%s", cfg->status_dir);
		*conf = buf;
	}
	config_free(cfg);
	return 0;
}

int status_dir_locate(const char *dir, const char *config, char *out, size_t n, char *why,
		      size_t wn)
{
	char cdir[PATH_MAX];
	const char *conf = NULL;

	if (config && config_dir(config, cdir, sizeof(cdir), &conf, why, wn) < 0)
		return -1;
	return statusdir_find(dir, conf, out, n, why, wn) < 0 ? -2 : 0;
}

/* 0: parsed; 1: -h, usage said; -1: bad usage, said why. */
static int health_args(int argc, char **argv, enum health_what *what, const char **flag,
		       struct dir_opts *o)
{
	int c;

	optind = 0; /* from the start, whatever ran getopt before (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:d:h", health_opts, NULL)) != -1) {
		switch (c) {
		case 'R':
		case 'S':
		case 'L':
			*what = c == 'R' ? H_READY : c == 'S' ? H_STARTED : H_LIVE;
			*flag = c == 'R' ? "--ready" : c == 'S' ? "--started" : "--live";
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'h':
			(void)health_usage();
			return 1;
		default:
			fprintf(stderr, "hfinit health: unexpected argument \"%s\"\n",
				bad_arg(argc, argv));
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hfinit health: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

int cmd_health(int argc, char **argv)
{
	enum health_what what = H_READY;
	struct dir_opts o = {NULL, NULL};
	const char *flag = "--ready", *conf = NULL;
	char dir[PATH_MAX], cdir[PATH_MAX], looked[STATUSDIR_LOOKED_MAX], state[16];
	struct stat st;
	int dirfd, live, rc;

	switch (health_args(argc, argv, &what, &flag, &o)) {
	case 1:
		return 0;
	case -1:
		return health_usage();
	}
	if (o.config && config_dir(o.config, cdir, sizeof(cdir), &conf, looked, sizeof(looked)) < 0)
		return health_say(1, "unhealthy (%s): %s", flag, looked);
	if (statusdir_find(o.dir, conf, dir, sizeof(dir), looked, sizeof(looked)) < 0)
		return health_say(1, "unhealthy (%s): no hfinit status files in %s", flag, looked);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return health_say(1, "unhealthy (%s): %s: %s", flag, dir, strerror(errno));
	live = status_writer_live(dirfd);
	if (live <= 0) {
		if (live < 0 && errno == ENOENT)
			rc = health_say(1,
					"unhealthy (%s): no hfinit has run with %s (no lock file)",
					flag, dir);
		else if (live < 0)
			rc = health_say(1, "unhealthy (%s): %s/lock: %s", flag, dir,
					strerror(errno));
		else
			rc = health_say(
			    1,
			    "unhealthy (%s): hfinit is not running (nobody holds %s/lock: "
			    "the status files are stale)",
			    flag, dir);
		(void)close(dirfd); /* read-only */
		return rc;
	}
	if (status_read_state(dirfd, state, sizeof(state)) < 0) {
		rc = health_say(1, "unhealthy (%s): %s/state: %s", flag, dir,
				errno == EINVAL ? "not a state word" : strerror(errno));
		(void)close(dirfd); /* read-only */
		return rc;
	}
	switch (what) {
	case H_LIVE:
		rc = strcmp(state, "failed") == 0
			 ? health_say(1, "not live: hfinit is running but its state is failed")
			 : health_say(0, "live: hfinit is running, state %s", state);
		break;
	case H_STARTED:
		rc = strcmp(state, "ready") == 0 || strcmp(state, "degraded") == 0
			 ? health_say(0, "started: state %s", state)
			 : health_say(1, "not started: state %s", state);
		break;
	default:
		if (fstatat(dirfd, "ready", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			rc = health_say(0, "ready: every required service is ready (state %s)",
					state);
		else
			rc = health_say(1, "not ready: state %s", state);
		break;
	}
	(void)close(dirfd); /* read-only */
	return rc;
}

/* ------------------------------------------------------------------------- */
/* hfinit status */

static void fmt_dur_ms(long long ms, char *buf, size_t n)
{
	long long s = ms / 1000;

	if (ms < 0)
		fmt_trunc(buf, n, "-");
	else if (ms < 1000)
		fmt_trunc(buf, n, "%lldms", ms);
	else if (s < 60)
		fmt_trunc(buf, n, "%lld.%llds", s, (ms % 1000) / 100);
	else if (s < 3600)
		fmt_trunc(buf, n, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		fmt_trunc(buf, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else
		fmt_trunc(buf, n, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
}

/* ms from the RFC 3339 time in o[key] to now, or -1. */
static long long ago_ms(const struct jr *o, const char *key, const struct timespec *now)
{
	struct timespec t;

	if (status_parse_rfc3339(jr_str(o, key), &t) < 0)
		return -1;
	return (long long)(now->tv_sec - t.tv_sec) * 1000 + (now->tv_nsec - t.tv_nsec) / 1000000;
}

static void one_line(const char *s, char *buf, size_t n, size_t maxw)
{
	size_t o = 0;

	for (; s && *s && o + 1 < n && o < maxw; s++)
		/* no control characters reach the terminal (escape sequences) */
		buf[o++] = *s == '\n' || *s == '\r' || *s == '\t'   ? ' '
			   : (unsigned char)*s < 0x20 || *s == 0x7f ? '?'
								    : *s;
	if (s && *s && o >= 3 && o >= maxw) {
		/* cut on a UTF-8 boundary, then mark it */
		o -= 3;
		while (o > 0 && ((unsigned char)buf[o] & 0xc0) == 0x80)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* The services' own words (sd_notify STATUS=), one line each, under the table. */
static void print_notify_status(const struct jr *svcs)
{
	char name[48], t[400];

	printf("\nstatus (sd_notify STATUS=):\n");
	for (size_t r = 0; r < svcs->n; r++) {
		const char *st = jr_str(&svcs->items[r], "notify_status");
		if (!st)
			continue;
		one_line(svcs->keys[r], name, sizeof(name), 40);
		one_line(st, t, sizeof(t), 300);
		printf("  %s: %s\n", name, t);
	}
}

#define COLS 8
static const char *const col_names[COLS] = {"SERVICE", "STATE",	   "PID",      "UPTIME",
					    "ATTEMPT", "RESTARTS", "READY IN", "LAST ERROR"};

/* The lines above the table: who wrote the file, its state, the dir, Python. */
static void print_header(const struct jr *doc, const char *dir, int live,
			 const struct timespec *now)
{
	const struct jr *py = jr_get(doc, "python");
	char buf[64], buf2[64];
	long long pid = 0, stage = 0, code;

	(void)jr_num(doc, "pid", &pid);
	(void)jr_num(doc, "stage", &stage);
	fmt_dur_ms(ago_ms(doc, "started_at", now), buf, sizeof(buf));
	fmt_dur_ms(ago_ms(doc, "updated_at", now), buf2, sizeof(buf2));
	printf("hfinit %s (pid %lld): %s, stage %lld%s%s, updated %s ago\n",
	       jr_str(doc, "hfinit") ? jr_str(doc, "hfinit") : "?", pid,
	       jr_str(doc, "state") ? jr_str(doc, "state") : "?", stage, live > 0 ? ", up " : "",
	       live > 0 ? buf : "", buf2);
	if (jr_num(doc, "exit_code", &code))
		printf("exit code: %lld\n", code);
	printf("status dir: %s (%s)\n", dir,
	       live > 0 ? "writer running"
			: "writer gone: these files are stale, hfinit is not running");
	if (py && py->type == JR_OBJ) {
		if (jr_str(py, "path"))
			printf("python: %s %s (%s)\n", jr_str(py, "path"),
			       jr_str(py, "version") ? jr_str(py, "version") : "",
			       jr_str(py, "source") ? jr_str(py, "source") : "?");
		else
			printf("python: none works: %s\n",
			       jr_str(py, "error") ? jr_str(py, "error") : "?");
	}
}

typedef char row_cells[COLS][200];

/* The LAST ERROR cell: the error text (with its category), else how it
 * ended. 1 when the service has a hint to show under the table. */
static int last_error_cell(const struct jr *s, char *cell, size_t n)
{
	const struct jr *le = jr_get(s, "last_error"), *lx = jr_get(s, "last_exit");
	long long v;

	if (jr_str(le, "text")) {
		char t[200];
		one_line(jr_str(le, "text"), t, sizeof(t), 80);
		if (jr_str(le, "category"))
			fmt_trunc(cell, n, "[%s] %s", jr_str(le, "category"), t);
		else
			fmt_trunc(cell, n, "%s", t);
		return jr_str(le, "hint") != NULL;
	}
	if (jr_num(lx, "signal", &v))
		fmt_trunc(cell, n, "killed by %s",
			  jr_str(lx, "signal_name") ? jr_str(lx, "signal_name") : "a signal");
	else if (jr_num(lx, "code", &v) && v != 0)
		fmt_trunc(cell, n, "exited %lld", v);
	else
		fmt_trunc(cell, n, "-");
	return 0;
}

/* One service's row; 1 when it has a hint. */
static int service_row(const struct jr *s, const char *key, row_cells cells,
		       const struct timespec *now)
{
	const struct jr *req = jr_get(s, "required");
	const char *st = jr_str(s, "state");
	long long v, a = 0, as = 0, rs = 0;
	char name[48];

	one_line(key, name, sizeof(name), 40);
	fmt_trunc(cells[0], sizeof(cells[0]), "%s%s", name,
		  req && req->type == JR_BOOL && !req->b ? "" : "*");
	fmt_trunc(cells[1], sizeof(cells[1]), "%s", st ? st : "?");
	if (jr_num(s, "pid", &v))
		fmt_trunc(cells[2], sizeof(cells[2]), "%lld", v);
	else
		fmt_trunc(cells[2], sizeof(cells[2]), "-");
	if (jr_num(s, "pid", &v))
		fmt_dur_ms(ago_ms(s, "started_at", now), cells[3], sizeof(cells[3]));
	else
		fmt_trunc(cells[3], sizeof(cells[3]), "-");
	(void)jr_num(s, "attempt", &a);
	(void)jr_num(s, "attempts", &as);
	(void)jr_num(s, "restarts", &rs);
	fmt_trunc(cells[4], sizeof(cells[4]), "%lld/%lld", a, as);
	fmt_trunc(cells[5], sizeof(cells[5]), "%lld", rs);
	if (jr_num(s, "ready_ms", &v))
		fmt_dur_ms(v, cells[6], sizeof(cells[6]));
	else
		fmt_trunc(cells[6], sizeof(cells[6]), "-");
	return last_error_cell(s, cells[7], sizeof(cells[7]));
}

/* The services' hints (last_error.hint), one line each, under the table. */
static void print_hints(const struct jr *svcs)
{
	printf("\nhints:\n");
	for (size_t r = 0; r < svcs->n; r++) {
		const char *h = jr_str(jr_get(&svcs->items[r], "last_error"), "hint");
		char t[400];
		if (!h)
			continue;
		one_line(h, t, sizeof(t), 300);
		printf("  %s: %s\n", svcs->keys[r], t);
	}
}

static void print_table(const struct jr *doc, const char *dir, int live)
{
	const struct jr *svcs = jr_get(doc, "services");
	struct timespec now;
	size_t nrows = svcs && svcs->type == JR_OBJ ? svcs->n : 0, w[COLS];
	row_cells *cells = NULL;
	int hints = 0, notes = 0;

	status_now(&now);
	print_header(doc, dir, live, &now);
	if (nrows == 0) {
		printf("no services yet\n");
		return;
	}
	cells = calloc(nrows, sizeof(*cells));
	if (!cells) {
		printf("(out of memory)\n");
		return;
	}
	for (size_t c = 0; c < COLS; c++)
		w[c] = strlen(col_names[c]);
	for (size_t r = 0; r < nrows; r++) {
		hints += service_row(&svcs->items[r], svcs->keys[r], cells[r], &now);
		notes += jr_str(&svcs->items[r], "notify_status") != NULL;
		for (size_t c = 0; c < COLS; c++)
			if (strlen(cells[r][c]) > w[c])
				w[c] = strlen(cells[r][c]);
	}
	putchar('\n');
	for (size_t c = 0; c < COLS; c++)
		printf("%-*s%s", c + 1 < COLS ? (int)w[c] : 0, col_names[c],
		       c + 1 < COLS ? "  " : "\n");
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < COLS; c++)
			printf("%-*s%s", c + 1 < COLS ? (int)w[c] : 0, cells[r][c],
			       c + 1 < COLS ? "  " : "\n");
	printf("(* required)\n");
	if (notes)
		print_notify_status(svcs);
	if (hints)
		print_hints(svcs);
	free(cells);
}

static int status_usage(int code)
{
	(void)usage_print("status", code ? stderr : stdout);
	return code;
}

static const struct option status_opts[] = {
    {"json", no_argument, NULL, 'j'},
    {"dir", required_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_status(int argc, char **argv)
{
	const char *opt_dir = NULL, *opt_config = NULL, *conf = NULL;
	char dir[PATH_MAX], cdir[PATH_MAX], looked[STATUSDIR_LOOKED_MAX];
	char *buf = NULL;
	size_t len = 0, at = 0;
	int as_json = 0, live, c;
	struct jr doc;

	optind = 0; /* from the start, whatever ran getopt before (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:d:h", status_opts, NULL)) != -1) {
		if (c == 'j') {
			as_json = 1;
		} else if (c == 'd') {
			opt_dir = optarg;
		} else if (c == 'c') {
			opt_config = optarg;
		} else if (c == 'h') {
			return status_usage(0);
		} else {
			fprintf(stderr, "hfinit status: unexpected argument \"%s\"\n",
				bad_arg(argc, argv));
			return status_usage(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hfinit status: unexpected argument \"%s\"\n", argv[optind]);
		return status_usage(2);
	}
	if (opt_config &&
	    config_dir(opt_config, cdir, sizeof(cdir), &conf, looked, sizeof(looked)) < 0) {
		fprintf(stderr, "hfinit status: %s\n", looked);
		return 1;
	}
	if (statusdir_find(opt_dir, conf, dir, sizeof(dir), looked, sizeof(looked)) < 0) {
		fprintf(stderr,
			"hfinit status: no status.json in %s (is hfinit running? use -d DIR or "
			"$HFINIT_STATUS_DIR)\n",
			looked);
		return 1;
	}
	if (status_load(dir, &buf, &len, &live) < 0) {
		fprintf(stderr, "hfinit status: %s/status.json: %s\n", dir, strerror(errno));
		return 1;
	}
	if (as_json) {
		int rc = write_full(STDOUT_FILENO, buf, len) == 0 ? 0 : 1;
		free(buf);
		return rc;
	}
	if (jr_parse(buf, len, &doc, &at) < 0 || doc.type != JR_OBJ) {
		fprintf(stderr, "hfinit status: %s/status.json: not valid JSON (at byte %zu)\n",
			dir, at);
		jr_free(&doc);
		free(buf);
		return 1;
	}
	print_table(&doc, dir, live);
	(void)fflush(stdout); /* the table is all there is to say */
	jr_free(&doc);
	free(buf);
	return ferror(stdout) ? 1 : 0;
}
