/* `hfinit notify`: one sd_notify datagram to $NOTIFY_SOCKET, then a barrier. */
#include "cmd/cmd_notify.h"
#include "cmd/cmd_version.h"

#include "run/notify.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define NOTIFY_SEND_MS 5000 /* `hfinit notify`: bound on a full receiver queue */

/* ------------------------------------------------------------------------- */
/* hfinit notify */

static int notify_usage(int code)
{
	(void)usage_print("notify", code ? stderr : stdout);
	return code;
}

static const struct option notify_opts[] = {
    {"ready", no_argument, NULL, 'r'},	   {"status", required_argument, NULL, 's'},
    {"pid", optional_argument, NULL, 'p'}, {"no-block", no_argument, NULL, 'n'},
    {"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
};

/* A --pid=PID value: 1 to 9 digits, no leading 0. */
static bool pid_ok(const char *v)
{
	return v[0] >= '1' && v[0] <= '9' && strspn(v, "0123456789") == strlen(v) && strlen(v) < 10;
}

/* One option or word into msg[*n..cap); false when it is not one. */
static bool notify_add(int c, const char *a, char *msg, size_t cap, size_t *n, bool *wait)
{
	const char *eq = a ? strchr(a, '=') : NULL;

	if (c == 'n')
		*wait = false;
	else if (c == 'p' && !a)
		*n += (size_t)snprintf(msg + *n, cap - *n, "MAINPID=%d\n", (int)getppid());
	else if (c == 'p' && pid_ok(a))
		*n += (size_t)snprintf(msg + *n, cap - *n, "MAINPID=%s\n", a);
	else if (c == 'r')
		*n += (size_t)snprintf(msg + *n, cap - *n, "READY=1\n");
	else if (c == 's' && !strchr(a, '\n'))
		*n += (size_t)snprintf(msg + *n, cap - *n, "STATUS=%s\n", a);
	else if (c == 1 && a[0] != '-' && eq && eq != a && !strchr(a, '\n'))
		*n += (size_t)snprintf(msg + *n, cap - *n, "%s\n", a);
	else
		return false;
	return true;
}

/* The options and KEY=VALUE words, in their order, into msg. 0: parsed;
 * 1: -h; -1: bad usage, said why. */
static int notify_args(int argc, char **argv, char *msg, size_t cap, size_t *n, bool *wait)
{
	int c;
	bool ok = true;

	optind = 0; /* from the start, whatever ran getopt before (tests) */
	opterr = 0;
	/* "-": words come back in order as 1, so the message keeps the order */
	while (ok && (c = getopt_long(argc, argv, "-h", notify_opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		ok = c != '?' && notify_add(c, optarg, msg, cap, n, wait);
	}
	for (; ok && optind < argc; optind++) /* the words after "--" */
		ok = notify_add(1, argv[optind], msg, cap, n, wait);
	if (ok)
		return 0;
	fprintf(stderr,
		"hfinit notify: \"%s\" is not KEY=VALUE (one line, non-empty KEY) "
		"or a known option\n",
		argv[(optind > argc ? argc : optind) - 1]);
	return -1;
}

int cmd_notify(int argc, char **argv)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t cap = 64, n = 0;
	char *msg;
	int fd, rc;
	bool wait = true;

	for (int i = 1; i < argc; i++)
		cap += strlen(argv[i]) + 16;
	msg = malloc(cap);
	if (!msg) {
		perror("hfinit notify");
		return 1;
	}
	switch (notify_args(argc, argv, msg, cap, &n, &wait)) {
	case 1:
		free(msg);
		return notify_usage(0);
	case -1:
		free(msg);
		return notify_usage(2);
	}
	if (n == 0) {
		fprintf(stderr, "hfinit notify: nothing to send\n");
		free(msg);
		return notify_usage(2);
	}
	if (!sock || !sock[0]) {
		fprintf(stderr, "hfinit notify: NOTIFY_SOCKET is not set (not run by hfinit with "
				"ready = notify, nor by systemd): nothing sent\n");
		free(msg);
		return 1;
	}
	if (notify_sockaddr(sock, &sa, &salen) < 0) {
		fprintf(stderr,
			"hfinit notify: NOTIFY_SOCKET=\"%s\": not an \"@abstract\" or "
			"\"/path\" address\n",
			sock);
		free(msg);
		return 1;
	}
	fd = notify_connect(&sa, salen);
	rc = fd < 0 || notify_send(fd, NULL, 0, msg, n, NOTIFY_SEND_MS) < 0 ? 1 : 0;
	if (rc)
		fprintf(stderr, "hfinit notify: %s: %s\n", sock, strerror(errno));
	else if (wait)
		notify_barrier(fd, NOTIFY_SEND_MS);
	if (fd >= 0)
		(void)close(fd); /* datagram already sent or failed */
	free(msg);
	return rc;
}
