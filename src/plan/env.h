/* The services' environment (docs/design.md, "Plan"): NAME=VALUE vectors,
 * the env_file format, a writable HOME and HF_HOME, and the one rule for
 * showing environment values in diagnostics: the values of
 * secret-named variables (redact.h) are shown as `***`, and other values
 * are shown with anything shaped like a secret (a Hub token, a Bearer
 * token, a URL password) replaced by `***`. */
#ifndef HFINIT_ENV_H
#define HFINIT_ENV_H

#include "base/err.h"
#include "run/runcmd.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ENV_REDACTED "***"

/* 1 if the variable name looks like it holds a secret. */
int env_is_secret(const char *name);
/* value, or "***" when name is a secret (value NULL stays NULL). */
const char *env_shown(const char *name, const char *value);
/* Copy "NAME=value" to buf with the value redacted when NAME is a secret,
 * and secret-shaped parts of any other value redacted. */
void env_redact_assignment(const char *assignment, char *buf, size_t bufsz);

/* What services get for HOME / HF_HOME, decided for one user. */
struct envsane {
	char home[PATH_MAX];	/* HOME services get */
	int home_replaced;	/* the inherited HOME was unusable */
	char home_reason[256];	/* why ("HOME is unset", "HOME=/ is not writable", ...) */
	int home_create;	/* home must be created (mode 0700) before use */
	char hf_home[PATH_MAX]; /* HF_HOME services get */
	int hf_home_default;	/* we chose it ($HOME/.cache/huggingface) */
	char hf_home_warning[PATH_MAX + 128]; /* HF_HOME was set but is not writable */
};

/* Decide HOME and HF_HOME. home / hf_home: the values services would
 * inherit (NULL when unset); pw_home: the user's passwd home (NULL if none);
 * as: the user the services run as (NULL or !switch_ids: ourselves).
 * Nothing is created. 0, or -1 with e set when a check could not run. */
int envsane_plan(struct envsane *p, const char *home, const char *hf_home, const char *pw_home,
		 const struct runas *as, struct err *e);
/* When p->home_create: create p->home (0700, owned by uid/gid) through
 * fds (safedir.h). One that is a symlink, belongs to a third uid or is
 * writable by others is not used: a fresh p->home + ".XXXXXX" replaces it
 * (p->home and a default p->hf_home are updated; one warning says so). */
int envsane_apply(struct envsane *p, uid_t uid, gid_t gid, struct err *e);

/* 1 if dir exists as a directory the user can write into, or does not
 * exist and its nearest existing ancestor is such a directory. */
int dir_writable_or_creatable(const char *dir, const struct runas *as, struct err *e);

/* Append or replace NAME=VALUE in a NULL-terminated, malloc'd environment. */
int env_set(char ***envp, const char *name, const char *value);
/* The value of name in envp, or NULL. */
const char *env_get(char *const *envp, const char *name);
/* env_set with a "NAME=VALUE" string (copied). */
int env_set_kv(char ***envp, const char *kv);
/* A variable of hfinit's own that services do not inherit (HFINIT_CONFIG, NOTIFY_SOCKET, ...). */
bool env_is_own(const char *kv);
/* Add the K=V lines of file to envp: blank lines and # comments skipped, an
 * "export " prefix allowed, values may be quoted. -1 with e naming file:line. */
int env_file_load(const char *file, char ***envp, struct err *e);

#endif
