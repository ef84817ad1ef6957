/* Scope-bound release for parent-side code (bubblewrap's utils.h idiom): a
 * variable declared `cleanup_free char *p = NULL;` is freed when it goes out
 * of scope, on every return path, so a function with several early exits
 * needs no goto ladder. Initialise every such variable (NULL, -1) at its
 * declaration. Never between fork and exec: a child leaves through exec or
 * _exit, where no cleanup runs, and free() is not async-signal-safe anyway.
 * CLEANUP(fn) makes one for any type: fn gets a pointer to the variable. */
#ifndef HFINIT_CLEANUP_H
#define HFINIT_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

#include "base/strv.h"

#define CLEANUP(fn) __attribute__((cleanup(fn)))

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd); /* a failed close of an fd we are done with: nothing to do */
}

static inline void cleanup_strvp(char ***v)
{
	strv_free(*v);
}

#define cleanup_free CLEANUP(cleanup_freep)
#define cleanup_fd   CLEANUP(cleanup_closep)
#define cleanup_strv CLEANUP(cleanup_strvp)

#endif
