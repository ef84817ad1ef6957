#include "run/leftover.h"

#include "run/pid1.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	char env[4096], path[48];
	struct dirent *d;
	int count = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char *endp;
		long pid = strtol(d->d_name, &endp, 10);
		ssize_t n;

		if (!isdigit((unsigned char)d->d_name[0]) || *endp || pid <= 1 || pid == self)
			continue;
		/* The marker is the first variable of a service's environment. */
		(void)snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
		n = pid1_read_file(path, env, sizeof(env));
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
	return count;
}
