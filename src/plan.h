/* The plan: what each service will run, decided once at start-up from the
 * config and the resolution (DESIGN.md §3), and never changed after. The
 * supervisor only reads it. */
#ifndef HFINIT_PLAN_H
#define HFINIT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "resolve.h"

struct svc_plan {
	const struct service_conf *conf;
	char *file;   /* what to execute (a path, or a name searched on path) */
	char **argv;  /* NULL-terminated */
	char **envp;  /* the complete environment, NULL-terminated (NOTIFY_SOCKET added at spawn) */
	char *path;   /* the PATH value of envp, for the exec search (points into envp) */
	bool python;  /* a script service run by the resolved interpreter */
	char *script; /* resolved script path (python services) */
	bool set_ids;
	uid_t uid;
	gid_t gid;
	gid_t groups[RESOLVE_MAX_GROUPS];
	size_t ngroups;
};

struct plan {
	struct svc_plan *svcs; /* in config order */
	size_t nsvcs;
	char **app_dirs;
	struct python_plan python; /* chosen < 0 and no candidates when no service needs it */
	bool python_needed;
};

/* 0 with plan filled; -1 with e: the message says what could not be resolved
 * (python, a script, a user, an env_file) with every path tried, and a hint. */
int plan_build(const struct config *cfg, struct plan *plan, struct err *e);
void plan_free(struct plan *plan);

/* Append or replace NAME=VALUE in a NULL-terminated, malloc'd environment. */
int env_set(char ***envp, const char *name, const char *value);
/* The value of name in envp, or NULL. */
const char *env_get(char *const *envp, const char *name);

#endif
