/* `hfinit notify`: one sd_notify datagram to $NOTIFY_SOCKET, then a barrier. */
#include "cmd/cmd_notify.h"

#include "run/notify.h"

#include <errno.h>
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
	fprintf(code ? stderr : stdout,
		"usage: hfinit notify [--pid[=PID]] [--ready] [--status=TEXT] [--no-block] "
		"[KEY=VALUE]...\n"
		"Sends one sd_notify datagram to $NOTIFY_SOCKET (\"@abstract\" or \"/path\"),\n"
		"e.g. `hfinit notify READY=1 STATUS=listening`. --pid adds MAINPID=<the\n"
		"parent's pid> (the calling shell); --ready is READY=1. Then waits (at most 5 s)\n"
		"until the receiver has read it (BARRIER=1, as systemd-notify does; not with\n"
		"--no-block).\n"
		"Exit 0 sent, 1 not sent (no $NOTIFY_SOCKET, send failed), 2 bad usage.\n");
	return code;
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
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			free(msg);
			return notify_usage(0);
		}
		if (strcmp(a, "--no-block") == 0) {
			wait = false;
		} else if (strcmp(a, "--pid") == 0) {
			n += (size_t)snprintf(msg + n, cap - n, "MAINPID=%d\n", (int)getppid());
		} else if (strncmp(a, "--pid=", 6) == 0 && a[6] >= '1' && a[6] <= '9' &&
			   strspn(a + 6, "0123456789") == strlen(a + 6) && strlen(a + 6) < 10) {
			n += (size_t)snprintf(msg + n, cap - n, "MAINPID=%s\n", a + 6);
		} else if (strcmp(a, "--ready") == 0) {
			n += (size_t)snprintf(msg + n, cap - n, "READY=1\n");
		} else if (strncmp(a, "--status=", 9) == 0 && !strchr(a, '\n')) {
			n += (size_t)snprintf(msg + n, cap - n, "STATUS=%s\n", a + 9);
		} else if (a[0] != '-' && eq && eq != a && !strchr(a, '\n')) {
			n += (size_t)snprintf(msg + n, cap - n, "%s\n", a);
		} else {
			fprintf(stderr,
				"hfinit notify: \"%s\" is not KEY=VALUE (one line, non-empty KEY) "
				"or a known option\n",
				a);
			free(msg);
			return notify_usage(2);
		}
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
