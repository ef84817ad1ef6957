#include "sup/portown.h"
#include "base/fdio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NET_FILE_MAX (16u << 20) /* a /proc/net/tcp larger than this is not read */

/* --- /proc/net/tcp{,6} --------------------------------------------------------- */

/* n hex digits at *p as a 32-bit word; advances *p. -1 when not hex. */
static int hex_word(const char **p, int n, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < n; i++) {
		int c = (unsigned char)(*p)[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*p += n;
	*out = v;
	return 0;
}

static const char *skip_field(const char *p)
{
	while (*p == ' ')
		p++;
	while (*p && *p != ' ' && *p != '\n')
		p++;
	while (*p == ' ')
		p++;
	return p;
}

/* The probe's target as the kernel routes it: IPv4 (v4-mapped IPv6 too) or
 * IPv6; a connection to 0.0.0.0 / :: reaches loopback. */
struct target {
	int v6;
	uint32_t a[4]; /* raw words, as the kernel prints them */
	unsigned port;
};

static void target_of(const struct sockaddr_storage *sa, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		memcpy(&t->a[0], &in->sin_addr, 4);
		t->port = ntohs(in->sin_port);
		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			t->a[0] = htonl(INADDR_LOOPBACK);
		return;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	t->port = ntohs(in6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memcpy(&t->a[0], in6->sin6_addr.s6_addr + 12, 4);
		return;
	}
	t->v6 = 1;
	memcpy(t->a, &in6->sin6_addr, 16);
	if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
		memcpy(t->a, &in6addr_loopback, 16);
}

/* How a listener bound to addr (4 words; IPv4 in a[0] when !v6) matches t:
 * 3 the same address, 2 the family's wildcard, 1 `::` reached over IPv4
 * (a dual-stack socket), 0 not at all. */
static int tier_of(const struct target *t, int v6, const uint32_t *a)
{
	static const uint32_t any6[4];
	uint32_t mapped[4] = {0, 0, htonl(0xffff), 0};

	if (!v6)
		return t->v6 ? 0 : a[0] == t->a[0] ? 3 : a[0] == 0 ? 2 : 0;
	if (t->v6)
		return memcmp(a, t->a, 16) == 0 ? 3 : memcmp(a, any6, 16) == 0 ? 2 : 0;
	mapped[3] = t->a[0];
	return memcmp(a, mapped, 16) == 0 ? 3 : memcmp(a, any6, 16) == 0 ? 1 : 0;
}

static void add_inode(struct portown *po, int tier, unsigned long ino)
{
	if (tier == 0 || tier < po->tier)
		return;
	if (tier > po->tier) {
		po->tier = tier;
		po->ninodes = 0;
	}
	if (po->ninodes < PORTOWN_MAX_INODES)
		po->inode[po->ninodes++] = ino;
}

/* One line: "  N: ADDR:PORT REMOTE ST TXQ:RXQ TR:WHEN RETR UID TIMEOUT INODE ..." */
static void scan_line(struct portown *po, const char *p, int v6, const struct target *t)
{
	uint32_t a[4] = {0}, port, st;
	unsigned long ino;
	char *end;

	p = skip_field(p); /* "N:" */
	for (int i = 0; i < (v6 ? 4 : 1); i++)
		if (hex_word(&p, 8, &a[i]) < 0)
			return;
	if (*p != ':')
		return;
	p++;
	if (hex_word(&p, 4, &port) < 0 || *p != ' ')
		return;
	p = skip_field(p); /* remote address */
	if (hex_word(&p, 2, &st) < 0 || st != 0x0A || port != t->port)
		return;		    /* 0A: TCP_LISTEN */
	for (int i = 0; i < 5; i++) /* queues, timer, retransmits, uid, timeout */
		p = skip_field(p);
	ino = strtoul(p, &end, 10);
	if (end == p || ino == 0)
		return;
	add_inode(po, tier_of(t, v6, a), ino);
}

void portown_scan(struct portown *po, const char *text, int v6, const struct sockaddr_storage *sa)
{
	struct target t;
	const char *nl;

	target_of(sa, &t);
	if (t.v6 && !v6)
		return;
	nl = strchr(text, '\n'); /* the header line */
	while (nl && nl[1]) {
		const char *line = nl + 1;
		nl = strchr(line, '\n');
		scan_line(po, line, v6, &t);
	}
}

/* --- processes ------------------------------------------------------------------- */

/* A whole small file (NUL-terminated, caller frees), or NULL with errno. */
static char *read_all(const char *path, size_t max, size_t *lenp)
{
	char *buf;

	return read_file_at(AT_FDCWD, path, &buf, lenp, max) == 0 ? buf : NULL;
}

/* The session id from PROC/PID/stat ("pid (comm) state ppid pgrp session"),
 * or -1 (gone, unreadable). */
static pid_t session_of(const char *proc, const char *pid)
{
	char path[256], *buf, *p, *end;
	long v = -1;

	if (snprintf(path, sizeof(path), "%s/%s/stat", proc, pid) >= (int)sizeof(path))
		return -1;
	buf = read_all(path, 4096, NULL);
	if (!buf)
		return -1;
	p = strrchr(buf, ')');
	if (p && p[1] == ' ') {
		p = (char *)skip_field(skip_field(skip_field(p + 2))); /* state ppid pgrp */
		v = strtol(p, &end, 10);
		if (end == p)
			v = -1;
	}
	free(buf);
	return (pid_t)v;
}

/* 1: PROC/PID/fd holds one of po's inodes; 0: not; -1: cannot read it. */
static int holds(const char *proc, const char *pid, const struct portown *po)
{
	char path[256], link[64];
	struct dirent *d;
	int found = 0;
	DIR *dir;

	if (snprintf(path, sizeof(path), "%s/%s/fd", proc, pid) >= (int)sizeof(path))
		return -1;
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -1; /* ENOENT: gone meanwhile */
	while (!found && (d = readdir(dir)) != NULL) {
		ssize_t n = readlinkat(dirfd(dir), d->d_name, link, sizeof(link) - 1);
		unsigned long ino;
		char *end;
		if (n <= 8 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[n] = '\0';
		ino = strtoul(link + 8, &end, 10);
		for (size_t i = 0; *end == ']' && i < po->ninodes; i++)
			found |= po->inode[i] == ino;
	}
	(void)closedir(dir); /* directory stream: nothing to lose */
	return found;
}

/* A command line for a person: arguments joined by spaces, cut at a word
 * boundary ("...") when it does not fit. */
static void command_of(const char *proc, const char *pid, char *out, size_t n)
{
	char path[256], *buf;
	size_t len = 0;

	out[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/%s/cmdline", proc, pid) >= (int)sizeof(path))
		return;
	buf = read_all(path, 4096, &len);
	if (!buf)
		return;
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0' || buf[i] == '\n')
			buf[i] = ' ';
	buf[len] = '\0';
	if (len >= n) {
		size_t cut = n - 4; /* room for "..." and the NUL */
		while (cut > 0 && buf[cut] != ' ')
			cut--;
		memcpy(buf + cut, "...", 4);
	}
	snprintf(out, n, "%s", buf);
	free(buf);
}

static int is_pid(const char *s)
{
	if (!isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* Go through PROC: does the session sid hold po's socket? Sets po->holder
 * (and cmd) when another process does. */
static enum portown_verdict owner(const char *proc, pid_t sid, struct portown *po)
{
	int ours = 0, members = 0, unreadable = 0;
	struct dirent *d;
	DIR *dir = opendir(proc);

	if (!dir) {
		snprintf(po->why, sizeof(po->why), "%s: %s", proc, strerror(errno));
		return PORTOWN_UNKNOWN;
	}
	while (!ours && (d = readdir(dir)) != NULL) {
		int h;
		if (!is_pid(d->d_name) || session_of(proc, d->d_name) != sid)
			continue;
		members++;
		h = holds(proc, d->d_name, po);
		ours = h > 0;
		unreadable += h < 0;
	}
	if (ours || members == 0 || unreadable > 0) {
		(void)closedir(dir); /* directory stream: nothing to lose */
		if (ours)
			return PORTOWN_OURS;
		if (members)
			snprintf(po->why, sizeof(po->why),
				 "the service's open files cannot be read");
		else
			snprintf(po->why, sizeof(po->why),
				 "the service's processes are not visible in %s", proc);
		return PORTOWN_UNKNOWN;
	}
	/* Taken: name the holder when it is visible (same PID namespace, and
	 * its fds readable). */
	rewinddir(dir);
	while (!po->holder && (d = readdir(dir)) != NULL) {
		if (is_pid(d->d_name) && holds(proc, d->d_name, po) > 0) {
			po->holder = (pid_t)strtol(d->d_name, NULL, 10);
			command_of(proc, d->d_name, po->cmd, sizeof(po->cmd));
		}
	}
	(void)closedir(dir); /* directory stream: nothing to lose */
	return PORTOWN_FOREIGN;
}

enum portown_verdict portown_check(const char *proc, const struct sockaddr_storage *sa, pid_t sid,
				   struct portown *po)
{
	static const char *const files[2] = {"net/tcp", "net/tcp6"};
	char path[256];
	int readable = 0;

	memset(po, 0, sizeof(*po));
	for (int v6 = 0; v6 < 2; v6++) {
		char *text;
		snprintf(path, sizeof(path), "%s/%s", proc, files[v6]);
		text = read_all(path, NET_FILE_MAX, NULL);
		if (!text)
			continue; /* no IPv6, or not readable: the other one may do */
		readable++;
		portown_scan(po, text, v6, sa);
		free(text);
	}
	if (!readable) {
		snprintf(po->why, sizeof(po->why), "%s/net/tcp and tcp6 cannot be read", proc);
		return PORTOWN_UNKNOWN;
	}
	if (po->ninodes == 0) {
		snprintf(po->why, sizeof(po->why),
			 "no listener on that port in %s/net/tcp{,6} (another network namespace?)",
			 proc);
		return PORTOWN_UNKNOWN;
	}
	return owner(proc, sid, po);
}
