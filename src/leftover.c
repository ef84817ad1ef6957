#include "leftover.h"

#include "pid1.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_READ_MAX (4 << 20) /* bytes of /proc/PID/environ looked at */

bool leftover_env_has(const char *env, size_t n, const char *name)
{
	size_t vl = strlen(LEFTOVER_VAR), nl = strlen(name);
	const char *p = env, *end = env + n;

	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
		if (z && len == vl + 1 + nl && memcmp(p, LEFTOVER_VAR, vl) == 0 && p[vl] == '=' &&
		    memcmp(p + vl + 1, name, nl) == 0)
			return true;
		p += len + 1;
	}
	return false;
}

/* Read "/proc/PID/FILE" into buf (at most cap - 1 bytes); length or -1. */
static ssize_t read_proc(const char *pid, const char *file, char *buf, size_t cap)
{
	char path[64];
	size_t got = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/%s", pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < cap - 1) {
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd); /* read-only */
	buf[got] = '\0';
	return (ssize_t)got;
}

/* pid descends from hfinit (self): its parent chain reaches it. */
static bool descends(pid_t pid, pid_t self)
{
	pid_t ids[3];

	for (int hop = 0; hop < 64 && pid > 1; hop++) {
		if (pid1_stat_ids(pid, ids) < 0)
			return false;
		pid = ids[0];
		if (pid == self)
			return true;
	}
	return false;
}

int leftover_signal(const char *name, int sig, pid_t *pids, size_t max)
{
	pid_t self = getpid();
	size_t cap = 64 * 1024;
	char *env = malloc(cap);
	struct dirent *d;
	int count = 0;
	DIR *dir;

	if (!env)
		return -1;
	dir = opendir("/proc");
	if (!dir) {
		free(env);
		return -1;
	}
	while ((d = readdir(dir))) {
		char *endp;
		long pid = strtol(d->d_name, &endp, 10);
		ssize_t n;

		if (!isdigit((unsigned char)d->d_name[0]) || *endp || pid <= 1 || pid == self)
			continue;
		n = read_proc(d->d_name, "environ", env, cap);
		while (n >= 0 && (size_t)n == cap - 1 && cap < ENV_READ_MAX) {
			char *bigger = realloc(env, cap * 4);
			if (!bigger)
				break;
			env = bigger;
			cap *= 4;
			n = read_proc(d->d_name, "environ", env, cap);
		}
		if (n <= 0 || !leftover_env_has(env, (size_t)n, name))
			continue;
		if (self != 1 && !descends((pid_t)pid, self))
			continue;
		if (kill((pid_t)pid, sig) == 0) {
			if ((size_t)count < max)
				pids[count] = (pid_t)pid;
			count++;
		}
	}
	(void)closedir(dir); /* directory stream: nothing to lose */
	free(env);
	return count;
}
