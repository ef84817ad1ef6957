/* Atomic files in the status dir (status.h, status_write_atomic): a temp
 * file in the same dir, created with O_CREAT|O_EXCL|O_NOFOLLOW, renamed over
 * the target, so a reader sees the old file or the new one, never a mix, and
 * nothing is written through a planted link. */
#include "status/status.h"

#include "base/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* All of iov[0..n) to fd, IOV_MAX at a time. 0 or -1 with errno. */
static int writev_full(int fd, const struct iovec *iov, size_t n)
{
	while (n > 0) {
		ssize_t r = writev(fd, iov, n < IOV_MAX ? (int)n : IOV_MAX);
		size_t done = (size_t)r;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && iov->iov_len)) {
			errno = r < 0 ? errno : EIO;
			return -1;
		}
		for (; n > 0 && done >= iov->iov_len; iov++, n--)
			done -= iov->iov_len;
		/* cut inside an element: the rest of it, then on */
		if (done > 0) {
			if (write_full(fd, (const char *)iov->iov_base + done, iov->iov_len - done))
				return -1;
			iov++;
			n--;
		}
	}
	return 0;
}

int status_write_atomicv(int dirfd, const char *name, const struct iovec *iov, size_t n)
{
	char tmp[NAME_MAX + 1];
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_EXCL|O_NOFOLLOW: whatever sits at the temp path (a symlink, a file
	 * left by a crash) is never opened; it is removed (the entry itself)
	 * and the creation tried once more. */
	for (int tries = 0;; tries++) {
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0)
			break;
		if (errno != EEXIST || tries > 0 || unlinkat(dirfd, tmp, 0) != 0) {
			if (errno == EISDIR || errno == EPERM)
				errno = EEXIST;
			return -1;
		}
	}
	/* 0644 whatever the umask: uid 1000 reads these files. */
	if (fchmod(fd, 0644) != 0 || writev_full(fd, iov, n) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);       /* already failing; the first error is the one to report */
	(void)unlinkat(dirfd, tmp, 0); /* best effort: a leftover is replaced next time */
	errno = saved;
	return -1;
}

int status_write_atomic(int dirfd, const char *name, const char *data, size_t len)
{
	struct iovec v = {(void *)data, len};

	return status_write_atomicv(dirfd, name, &v, 1);
}
