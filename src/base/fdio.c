#include "base/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = read(fd, (char *)buf + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		off += (size_t)r;
	}
	return (ssize_t)off;
}

int write_full(int fd, const void *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = write(fd, (const char *)buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int read_file_at(int dirfd, const char *name, char **out, size_t *outlen, size_t max)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	int saved;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r;
		size_t want;
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > max + 1) {
				cap = max + 1;
				if (len + 1 >= cap) {
					errno = EFBIG;
					goto fail;
				}
			}
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		want = cap - len - 1;
		r = read_full(fd, buf + len, want);
		if (r < 0)
			goto fail;
		len += (size_t)r;
		if ((size_t)r < want)
			break; /* end of file */
	}
	(void)close(fd); /* read-only */
	buf[len] = '\0';
	*out = buf;
	if (outlen)
		*outlen = len;
	return 0;
fail:
	saved = errno;
	(void)close(fd); /* read-only */
	free(buf);
	errno = saved;
	return -1;
}
