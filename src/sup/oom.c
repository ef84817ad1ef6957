#include "sup/oom.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The value of `oom_kill` in a memory.events / memory.oom_control file, or -1. Parsed
 * by hand: a few short "key value" lines, and no scanf in the binary. */
static long long oom_kill_in(const char *file)
{
	char buf[1024];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (const char *p = buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		long long v = 0;
		if (strncmp(p, "oom_kill ", 9) != 0)
			continue;
		for (p += 9; *p >= '0' && *p <= '9'; p++) {
			if (v > (LLONG_MAX - 9) / 10)
				return -1;
			v = v * 10 + (*p - '0');
		}
		return *p == '\n' || *p == '\0' ? v : -1;
	}
	return -1;
}

/* DIR + CG + "/" + NAME, then the same with CG's leading components dropped one at
 * a time, down to DIR/NAME: the value of the first file that has oom_kill. */
static long long oom_kill_under(const char *dir, const char *cg, const char *name)
{
	char path[PATH_MAX + 64];

	for (;;) {
		if (strcmp(cg, "/") == 0)
			cg = "";
		if ((size_t)snprintf(path, sizeof(path), "%s%s/%s", dir, cg, name) < sizeof(path)) {
			long long v = oom_kill_in(path);
			if (v >= 0)
				return v;
		}
		if (!*cg)
			return -1;
		const char *next = strchr(cg + 1, '/');
		cg = next ? next : "";
	}
}

long long oom_kills_at(const char *proc_cgroup, const char *cgroot)
{
	char line[512], dir[PATH_MAX];
	long long v = -1;
	FILE *f = fopen(proc_cgroup, "re");

	if (!f)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *cg;
		if (!ctl || !(cg = strchr(ctl + 1, ':')))
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		if (*cg != '/')
			continue;
		if (strcmp(ctl + 1, "") == 0) /* v2: "0::/path" */
			v = oom_kill_under(cgroot, cg, "memory.events");
		else if (strstr(ctl + 1, "memory") && /* v1: "N:memory:/path" */
			 (size_t)snprintf(dir, sizeof(dir), "%s/memory", cgroot) < sizeof(dir))
			v = oom_kill_under(dir, cg, "memory.oom_control");
	}
	fclose(f);
	return v;
}

long long oom_kills(void)
{
	return oom_kills_at("/proc/self/cgroup", "/sys/fs/cgroup");
}
