#include "base/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
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
