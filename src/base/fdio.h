/* The one reader of whole small files (status files, /proc entries). */
#ifndef HFINIT_FDIO_H
#define HFINIT_FDIO_H

#include <stddef.h>

/* Read the file name relative to dirfd (AT_FDCWD for a path), without
 * following a symlink in its last component, up to max bytes. 0 with *out
 * (NUL-terminated, caller frees) and *outlen (when not NULL), or -1 with
 * errno (EFBIG when it is larger than max). */
int read_file_at(int dirfd, const char *name, char **out, size_t *outlen, size_t max);

#endif
