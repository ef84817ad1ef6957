/* Reading the status dir, for `hfinit status` and `hfinit health`: where it
 * is, whether its writer is alive, the state word (docs/status.md). */
#include "status/status_read.h"

#include "base/fmt.h"
#include "base/jsonread.h"
#include "base/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char *const overall_states[] = {"starting", "ready",   "degraded",
					     "stopping", "stopped", "failed"};

int status_json_check(const char *buf, size_t len, size_t *err_at)
{
	struct jr v;
	size_t at = 0;
	int rc = jr_parse(buf, len, &v, &at);

	if (rc == 0)
		jr_free(&v);
	else if (err_at)
		*err_at = at;
	return rc;
}

/* ------------------------------------------------------------------------- */
/* reading the status dir */

/* Where `hfinit status/health` look: -d DIR, else $HFINIT_STATUS_DIR, else the
 * writer's automatic order, the first dir holding a status.json. 0 with dir
 * filled, or -1 with `looked` listing the dirs tried. */
int status_find_dir(const char *opt, char *dir, size_t n, char *looked, size_t ln)
{
	const char *env = getenv("HFINIT_STATUS_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char cand[3][PATH_MAX];
	int nc = 0;

	if (opt || (env && env[0])) {
		fmt_trunc(dir, n, "%s", opt ? opt : env);
		fmt_trunc(looked, ln, "%s", dir);
		return 0;
	}
	fmt_trunc(cand[nc++], PATH_MAX, "/run/hfinit");
	if (xdg && xdg[0])
		fmt_trunc(cand[nc++], PATH_MAX, "%s/hfinit", xdg);
	fmt_trunc(cand[nc++], PATH_MAX, "/tmp/hfinit");
	looked[0] = '\0';
	for (int i = 0; i < nc; i++) {
		char f[PATH_MAX + 16];
		size_t used = strlen(looked);
		fmt_trunc(f, sizeof(f), "%s/status.json", cand[i]);
		if (access(f, F_OK) == 0) {
			fmt_trunc(dir, n, "%s", cand[i]);
			return 0;
		}
		fmt_trunc(looked + used, ln - used, "%s%s", i ? ", " : "", cand[i]);
	}
	return -1;
}

/* 1: a writer holds dir/lock; 0: nobody does (a stale or never-written
 * dir); -1 with errno when the lock file cannot be opened (ENOENT: none). */
int status_writer_live(int dirfd)
{
	int fd = openat(dirfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int live;

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		live = 0; /* released by the close below */
	} else if (errno == EWOULDBLOCK) {
		live = 1;
	} else {
		int saved = errno;
		(void)close(fd); /* read-only */
		errno = saved;
		return -1;
	}
	(void)close(fd); /* read-only */
	return live;
}

/* The `state` file's word; 0, or -1 (missing, unreadable, not a state word). */
int status_read_state(int dirfd, char *state, size_t n)
{
	char *buf;
	size_t len;

	if (read_file_at(dirfd, "state", &buf, &len, 64) < 0)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (size_t i = 0; i < sizeof(overall_states) / sizeof(overall_states[0]); i++) {
		if (strcmp(buf, overall_states[i]) == 0) {
			fmt_trunc(state, n, "%s", buf);
			free(buf);
			return 0;
		}
	}
	free(buf);
	errno = EINVAL;
	return -1;
}

/* ------------------------------------------------------------------------- */
