/* Directories that hfinit creates or adopts where other users can write
 * (/tmp): the name is created and opened relative to its parent's fd with
 * O_NOFOLLOW, checked (fstat) and changed (fchown, fchmod) only through the
 * fd, so a symlink swapped in is never followed and a directory that a
 * third uid prepared is never adopted (docs/supervise.md, docs/status.md). */
#ifndef HFINIT_SAFEDIR_H
#define HFINIT_SAFEDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Open the parent directory of the absolute path (links in the parent are
 * followed: they are the image's own) and refuse one that others may write
 * into unless it is sticky. *name: the last component (inside path).
 * Returns the fd, or -1 with why. */
int safedir_parent(const char *path, const char **name, char *why, size_t whysz);

/* Create name in parentfd (mode, when missing) and open it for uid:gid.
 * Refused (-1, why: "a symlink or not a directory", "owned by uid N,
 * neither root nor uid M", ... naming no path): a symlink or anything
 * but a directory, a directory owned by neither root nor uid, one writable
 * by group or others. A directory owned by root is given to uid:gid (when we
 * are root); one we created gets exactly mode. Returns an O_DIRECTORY fd. */
int safedir_openat(int parentfd, const char *name, mode_t mode, uid_t uid, gid_t gid, char *why,
		   size_t whysz);

/* A fresh "PREFIX.XXXXXX" in parentfd (random letters, created with
 * mkdirat, so never one that existed), then as safedir_openat. The name is
 * written to name. Returns the fd, or -1 with why. */
int safedir_mktemp(int parentfd, const char *prefix, char *name, size_t namesz, mode_t mode,
		   uid_t uid, gid_t gid, char *why, size_t whysz);

#endif
