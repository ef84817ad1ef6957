/* Reading the status dir (status_read.c), for `hfinit status` and `health`. */
#ifndef HFINIT_STATUS_READ_H
#define HFINIT_STATUS_READ_H

#include <stddef.h>

/* 0 when buf[0..len) is one valid JSON value (RFC 8259, nesting up to
 * JSON_MAX_DEPTH), else -1 with *err_at the byte offset of the problem. The
 * parser is the one `hfinit status` reads status.json with. */
int status_json_check(const char *buf, size_t len, size_t *err_at);
/* 1: a writer holds dir/lock; 0: nobody does (a stale or never-written
 * dir); -1 with errno when the lock file cannot be opened (ENOENT: none). */
int status_writer_live(int dirfd);
/* The `state` file's word; 0, or -1 (missing, unreadable, not a state word). */
int status_read_state(int dirfd, char *state, size_t n);
/* DIR/status.json (at most 16 MiB), and whether its writer is alive
 * (*live as status_writer_live says). 0 with *buf, NUL-terminated, and *len
 * (caller frees), or -1 with errno. */
int status_load(const char *dir, char **buf, size_t *len, int *live);

#endif
