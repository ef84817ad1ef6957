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

#define STATUS_MAX_READ (16u << 20) /* a status.json larger than this is refused */

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

int status_load(const char *dir, char **buf, size_t *len, int *live)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), saved;

	if (dirfd < 0)
		return -1;
	if (read_file_at(dirfd, "status.json", buf, len, STATUS_MAX_READ) < 0) {
		saved = errno;
		(void)close(dirfd); /* read-only */
		errno = saved;
		return -1;
	}
	*live = status_writer_live(dirfd);
	(void)close(dirfd); /* read-only */
	return 0;
}
