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

size_t leftover_parse_pids(const char *buf, size_t n, bool eof, size_t *used, pid_t *out,
			   size_t max)
{
	size_t i = 0, found = 0;

	for (;;) {
		while (i < n && (buf[i] < '0' || buf[i] > '9'))
			i++;
		size_t j = i;
		long v = 0;
		while (j < n && buf[j] >= '0' && buf[j] <= '9' && v < 0x40000000)
			v = v * 10 + (buf[j++] - '0');
		if (j == i || (j == n && !eof))
			break; /* nothing left, or a number the next read ends */
		if (found < max)
			out[found] = (pid_t)v;
		found++;
		i = j;
	}
	*used = i;
	return found;
}

/* The walk: the candidates so far (the queue, breadth first), what to skip
 * among self's children, the bound. */
struct walk {
	const char *proc;
	const pid_t *tracked;
	size_t ntracked;
	pid_t *pids;
	size_t n, max;
	bool over; /* past max: the caller falls back to the full scan */
};

int leftover_pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static void walk_add(struct walk *w, pid_t pid, bool top)
{
	if (pid <= 1)
		return;
	if (top && w->ntracked &&
	    bsearch(&pid, w->tracked, w->ntracked, sizeof(pid), leftover_pid_cmp))
		return;
	if (w->n == w->max)
		w->over = true;
	else
		w->pids[w->n++] = pid;
}

/* Add every pid one children file lists, read 4 KiB at a time (hfinit's own
 * lists a thousand services). -1 when it cannot be opened or read. */
static int walk_file(struct walk *w, const char *path, bool top)
{
	char buf[4096];
	pid_t got[sizeof(buf) / 2 + 1]; /* "1 " is the shortest entry */
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		have += (size_t)r;
		size_t used, k = leftover_parse_pids(buf, have, r == 0, &used, got,
						     sizeof(got) / sizeof(got[0]));
		for (size_t i = 0; i < k; i++)
			walk_add(w, got[i], top);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (r == 0) {
			(void)close(fd); /* read-only */
			return 0;
		}
	}
	(void)close(fd); /* read-only */
	return -1;
}

/* Add the children of pid, from the children file of each of its tasks (a
 * threaded program forks from any thread). -1 when there is no task
 * directory or a task's children file cannot be read. */
static int walk_children(struct walk *w, pid_t pid, bool top)
{
	char path[320];
	struct dirent *d;
	int rc = 0, tasks = 0;
	DIR *dir;

	(void)snprintf(path, sizeof(path), "%s/%d/task", w->proc, (int)pid);
	if (!(dir = opendir(path)))
		return -1;
	while ((d = readdir(dir)) && rc == 0) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		(void)snprintf(path, sizeof(path), "%s/%d/task/%.16s/children", w->proc, (int)pid,
			       d->d_name);
		rc = walk_file(w, path, top);
		tasks++;
	}
	(void)closedir(dir); /* directory stream: nothing to lose */
	return tasks ? rc : -1;
}

int leftover_walk(const char *proc, pid_t self, const pid_t *tracked, size_t ntracked, pid_t *pids,
		  size_t max)
{
	struct walk w = {proc, tracked, ntracked, pids, 0, max, false};
	size_t from = 0;

	if (walk_children(&w, self, true) < 0)
		return -1; /* no children files: the full scan */
	/* Generation by generation: [from, to) is the one being expanded. A
	 * descendant that is gone, or whose files are unreadable, has none. */
	for (int depth = 1; from < w.n && !w.over; depth++) {
		size_t to = w.n;
		if (depth > LEFTOVER_WALK_DEPTH)
			return -1;
		for (size_t i = from; i < to && !w.over; i++)
			(void)walk_children(&w, pids[i], false);
		from = to;
	}
	return w.over ? -1 : (int)w.n;
}

/* Whether pid's environment holds the marker (the first variable of a
 * service's environment). */
static bool marked(pid_t pid, const char *name)
{
	char env[4096], path[48];
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	n = pid1_read_file(path, env, sizeof(env));
	return n > 0 && leftover_env_has(env, (size_t)n, name);
}

static void signal_one(pid_t pid, int sig, pid_t *pids, size_t max, int *count)
{
	if (kill(pid, sig) == 0) {
		if ((size_t)*count < max)
			pids[*count] = pid;
		(*count)++;
	}
}

/* The fallback: every process of /proc, each one's environment read. */
static int scan_all(const char *name, int sig, pid_t *pids, size_t max)
{
	pid_t self = getpid();
	struct dirent *d;
	int count = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char *endp;
		long pid = strtol(d->d_name, &endp, 10);

		if (!isdigit((unsigned char)d->d_name[0]) || *endp || pid <= 1 || pid == self)
			continue;
		if (!marked((pid_t)pid, name) || (self != 1 && !descends((pid_t)pid, self)))
			continue;
		signal_one((pid_t)pid, sig, pids, max, &count);
	}
	(void)closedir(dir); /* directory stream: nothing to lose */
	return count;
}

/* Leftovers of a run are reparented to hfinit (PID 1, or the subreaper), so
 * each one is a child of hfinit that hfinit does not track, or descends from
 * one: only those are read, which costs what the leftovers cost and not what
 * the machine runs. The race is the one readdir of /proc has too: a process
 * forked while the walk reads its parent's children file may be missed (and
 * children files are a snapshot, per task); the SIGKILL pass before the next
 * start is the second chance. Past the bound (a fork bomb under a leftover:
 * LEFTOVER_WALK_MAX processes or LEFTOVER_WALK_DEPTH generations), or on a
 * kernel without the children files, the full scan of /proc runs instead. */
int leftover_signal(const char *name, int sig, const pid_t *tracked, size_t ntracked, pid_t *pids,
		    size_t max)
{
	pid_t *cand = tracked ? malloc(LEFTOVER_WALK_MAX * sizeof(*cand)) : NULL;
	int n = cand ? leftover_walk("/proc", getpid(), tracked, ntracked, cand, LEFTOVER_WALK_MAX)
		     : -1;
	int count = 0;

	if (n < 0) {
		free(cand);
		return scan_all(name, sig, pids, max);
	}
	for (int i = 0; i < n; i++)
		if (marked(cand[i], name))
			signal_one(cand[i], sig, pids, max, &count);
	free(cand);
	return count;
}
