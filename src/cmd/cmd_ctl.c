/* The control client: `hfinit restart|stop|start|signal|wait` send one
 * request line to the `control` socket in the status dir (found as `status`
 * finds it) and print the replies (status/ctlmsg.h, docs/control.md). The
 * waiting happens in hfinit: the client blocks on its socket and never polls. */
#include "cmd/cmd_ctl.h"
#include "cmd/cmd_status.h"
#include "cmd/cmd_version.h"

#include "base/signame.h"
#include "conf/config.h"
#include "conf/value.h"
#include "plan/statusdir.h"
#include "status/ctlmsg.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const struct option opts[] = {
    {"no-wait", no_argument, NULL, 'n'},   {"started", no_argument, NULL, 'S'},
    {"ready", no_argument, NULL, 'R'},	   {"timeout", required_argument, NULL, 't'},
    {"dir", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
};

static int usage(const char *mode, int code)
{
	(void)usage_print(mode, code ? stderr : stdout);
	return code;
}

/* The options and words into r; 0, 1 (-h: said), or 2 (bad usage: said). */
static int args(int argc, char **argv, struct ctl_req *r, const char **dir, const char **config)
{
	const char *mode = argv[0];
	bool waits = r->verb == CTL_WAIT, acts = r->verb <= CTL_START;
	struct err e;
	uint64_t ms;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:d:h", opts, NULL)) != -1) {
		if (c == 'h')
			return usage(mode, 0), 1;
		else if (c == 'd' || c == 'c')
			*(c == 'd' ? dir : config) = optarg;
		else if (c == 'n' && acts)
			r->no_wait = true;
		else if ((c == 'S' || c == 'R') && waits)
			r->started = c == 'S';
		else if (c == 't' && waits && parse_duration_ms(optarg, &ms, &e) == 0)
			r->timeout_ms = (long long)ms;
		else if (c == 't' && waits)
			return fprintf(stderr, "hfinit %s: --timeout: %s\n", mode, e.msg), 2;
		else
			return fprintf(stderr, "hfinit %s: unexpected argument \"%s\"\n", mode,
				       argv[(optind > argc ? argc : optind) - 1]),
			       2;
	}
	for (; optind < argc; optind++) {
		const char *w = argv[optind];
		if (r->verb == CTL_SIGNAL && r->nnames == 1) {
			r->sig = signum(w);
			if (r->sig < 1 || r->sig > 64 || optind + 1 < argc)
				return fprintf(stderr, "hfinit signal: \"%s\" is not a signal\n",
					       w),
				       2;
			continue;
		}
		if (!conf_name_ok(w) || r->nnames == CTL_NAMES_MAX)
			return fprintf(stderr, "hfinit %s: \"%s\" is not a service name\n", mode,
				       w),
			       2;
		r->names[r->nnames++] = w;
	}
	if ((r->nnames == 0 && !waits) || (r->verb == CTL_SIGNAL && !r->sig))
		return usage(mode, 2);
	return 0;
}

/* Connected to DIR/control, or -1 (said; *code 3 no hfinit, 1 refused). */
static int dial(const char *mode, const char *dir, int *code)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	*code = 3;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", dir) >=
	    sizeof(sa.sun_path))
		return fprintf(stderr, "hfinit %s: %s/control: path too long\n", mode, dir), -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno == EACCES || errno == EPERM)
		*code = 1;
	fprintf(stderr, "hfinit %s: %s: %s%s\n", mode, sa.sun_path, strerror(errno),
		*code == 1 ? " (only root and the uid hfinit runs as may control it)"
			   : " (is hfinit running? use -d DIR or $HFINIT_STATUS_DIR)");
	if (fd >= 0)
		(void)close(fd);
	return -1;
}

/* One reply line; its exit code at "end", else -1 to read on. */
static int show(const char *mode, char *line, size_t len)
{
	struct ctl_reply o;

	if (ctl_reply_parse(line, len, &o) < 0) {
		fprintf(stderr, "hfinit %s: not a reply from hfinit\n", mode);
		return 1;
	}
	if (o.kind == CTL_END)
		return o.code;
	if (o.kind == CTL_OK && strcmp(o.name, "-") == 0) /* wait without names */
		printf("%s\n", o.text);
	else if (o.kind == CTL_OK)
		printf("%s: %s\n", o.name, o.text);
	else if (o.kind == CTL_FAIL)
		fprintf(stderr, "hfinit %s: %s: %s\n", mode, o.name, o.text);
	else
		fprintf(stderr, "hfinit %s: %s\n", mode, o.text);
	(void)fflush(stdout);
	return -1;
}

/* The replies until "end": its code; 3 when hfinit closes before it. */
static int replies(const char *mode, int fd)
{
	char buf[CTL_MAX + 1];
	size_t len = 0;
	ssize_t n;
	char *nl;
	int rc;

	for (;;) {
		while ((nl = memchr(buf, '\n', len))) {
			rc = show(mode, buf, (size_t)(nl - buf));
			if (rc >= 0)
				return rc;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (len == CTL_MAX)
			return fprintf(stderr, "hfinit %s: not a reply from hfinit\n", mode), 1;
		n = read(fd, buf + len, CTL_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				"hfinit %s: hfinit closed the connection without an answer\n",
				mode);
			return 3;
		}
		len += (size_t)n;
	}
}

int cmd_ctl(int argc, char **argv)
{
	struct ctl_req r = {.timeout_ms = -1};
	const char *dir_opt = NULL, *config = NULL, *mode = argv[0];
	char dir[PATH_MAX], why[STATUSDIR_LOOKED_MAX], line[CTL_MAX];
	int rc, fd, n, v = ctl_verb_of(mode);

	if (v < 0)
		return 2;
	r.verb = (enum ctl_verb)v;
	rc = args(argc, argv, &r, &dir_opt, &config);
	if (rc)
		return rc == 1 ? 0 : rc;
	n = ctl_format(&r, line, sizeof(line));
	if (n < 0)
		return fprintf(stderr, "hfinit %s: the request is longer than %d bytes\n", mode,
			       CTL_MAX),
		       2;
	rc = status_dir_locate(dir_opt, config, dir, sizeof(dir), why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "hfinit %s: %s%s\n", mode,
			rc == -2 ? "no hfinit status dir in " : "", why);
		return rc == -2 ? 3 : 1;
	}
	fd = dial(mode, dir, &rc);
	if (fd < 0)
		return rc;
	/* A refusal may close before reading: its reply is still there to read. */
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n && errno != EPIPE) {
		fprintf(stderr, "hfinit %s: %s/control: %s\n", mode, dir, strerror(errno));
		(void)close(fd);
		return 3;
	}
	rc = replies(mode, fd);
	(void)close(fd);
	return rc;
}
