/* The users services run as: looked up once at start (name or number, the
 * primary and supplementary groups), with what switching to one needs. */
#ifndef HFINIT_USER_H
#define HFINIT_USER_H

#include "base/err.h"
#include "run/runcmd.h"

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define RESOLVE_MAX_GROUPS 64

/* A user the services run as, with what switching to it needs. */
struct resolve_user {
	char name[64]; /* as configured ("app", "1000"), or "" for ourselves */
	struct runas as;
	gid_t groups[RESOLVE_MAX_GROUPS];
	char home[PATH_MAX]; /* passwd home, "" if unknown */
};

/* Look up `user` (name or number) and optional `group` (name or number; NULL:
 * the user's primary group). Supplementary groups from /etc/group. A numeric
 * uid without a passwd entry is accepted (primary group = gid given, or the
 * same number). 0, or -1 with e ("user app does not exist"). */
int resolve_user_lookup(const char *user, const char *group, struct resolve_user *u, struct err *e);
/* Ourselves, without an id switch. */
void resolve_user_self(struct resolve_user *u);

#endif
