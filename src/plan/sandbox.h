/* Seccomp sandbox (docs/design.md, "Sandbox"): with plan/syscalls.c (names),
 * the only user of libseccomp.
 * Every profile a service names is compiled to a BPF program once, before
 * any fork; spawn() applies it in the child (no_new_privs, then
 * PR_SET_SECCOMP) as the last step before execve, so the child never calls
 * into libseccomp. */
#ifndef HFINIT_SANDBOX_H
#define HFINIT_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "conf/config.h"
#include "base/err.h"

struct sandbox_profile {
	char *name;		/* "worker" or a [seccomp:NAME] */
	struct sock_fprog prog; /* the compiled filter (owned) */
	unsigned rules;		/* syscall rules in the profile (for check and status) */
};

struct sandbox_set {
	struct sandbox_profile *profiles;
	size_t n;
};

/* Compile every profile named by a service of cfg (and only those). -1 with e
 * naming the profile and the call that failed: a profile that cannot be built
 * is a failed start, never an unsandboxed one. */
int sandbox_compile(const struct config *cfg, struct sandbox_set *set, struct err *e);
/* Compile one profile (the built-in worker or a [seccomp:NAME] of cfg; cfg may
 * be NULL for worker) into *out; sandbox_compile calls it for each name. The
 * caller frees out->name and out->prog.filter (or puts it in a set). */
int sandbox_compile_one(const struct config *cfg, const char *name, struct sandbox_profile *out,
			struct err *e);
const struct sandbox_profile *sandbox_find(const struct sandbox_set *set, const char *name);
void sandbox_free(struct sandbox_set *set);

/* The built-in worker deny list, entry i (NULL past the end): for tests (each
 * entry's reason is its row in docs/sandbox.md). */
const char *sandbox_worker_entry(size_t i);

/* Whether this kernel accepts seccomp filters (for `hfinit check`): a forked
 * child sets no_new_privs and loads a trivial filter. 0, or -1 with e. */
int sandbox_kernel_check(struct err *e);

/* Landlock (landlock.h) as the log and `check` report it. At start-up: one
 * warning when a service is filtered and the kernel (or a container runtime's
 * seccomp profile) gives no usable Landlock. */
void sandbox_landlock_warn(const struct config *cfg);

/* For `check`: the same condition as a "warn landlock" row on f, then one
 * line (indented by ind) per filtered service that shares its uid with an
 * unfiltered one. Nothing when Landlock is usable or no service is filtered. */
struct sandbox_svc {
	const char *name;
	uid_t uid; /* the uid it runs as */
	bool filtered;
};
void sandbox_landlock_check(FILE *f, const char *ind, const struct sandbox_svc *svcs, size_t n);

#endif
