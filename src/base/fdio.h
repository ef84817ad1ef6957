/* File-descriptor I/O of base: the one reader of whole small files (status
 * files, /proc entries), and read/write loops that retry EINTR and short
 * counts, so callers never write that loop again (docs/design.md, "Base"). */
#ifndef HFINIT_FDIO_H
#define HFINIT_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Read the file name relative to dirfd (AT_FDCWD for a path), without
 * following a symlink in its last component, up to max bytes. 0 with *out
 * (NUL-terminated, caller frees) and *outlen (when not NULL), or -1 with
 * errno (EFBIG when it is larger than max). */
int read_file_at(int dirfd, const char *name, char **out, size_t *outlen, size_t max);

/* Read up to n bytes, retrying EINTR and short reads; stops early only at end
 * of file. Returns the bytes read (less than n: end of file), or -1 with errno
 * (EAGAIN included) when a read fails. */
ssize_t read_full(int fd, void *buf, size_t n);

/* Write all n bytes, retrying EINTR and short writes. 0 when all were written,
 * -1 with errno otherwise (EAGAIN on a full non-blocking fd; EIO when write(2)
 * returns 0). What was written before the failure stays written. */
int write_full(int fd, const void *buf, size_t n);

#endif
