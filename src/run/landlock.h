/* Landlock domains for filtered services (docs/sandbox.md, "Landlock"): raw
 * system calls, no library. Every service with a seccomp profile, and every
 * exec probe of such a service, enters a Landlock domain of its own between
 * fork and exec (after no_new_privs, before the seccomp filter). The domain
 * handles no file system access (file access is not restricted); being in a
 * domain already denies ptrace of, and /proc/PID/mem of, processes outside
 * it, and on ABI 6+ the scopes deny signals to them and connections to their
 * abstract unix sockets. */
#ifndef HFINIT_LANDLOCK_H
#define HFINIT_LANDLOCK_H

#include <stdbool.h>

/* The Landlock ABI version hfinit uses: the running kernel's (>= 2), or 0
 * when there is none it can use; then *why (if non-NULL) says why (not in the
 * kernel or denied by a container runtime's seccomp profile, disabled at
 * boot, or ABI 1 only, whose domains refuse renames across directories).
 * Asked once, then cached. */
int landlock_abi(const char **why);

/* Enter a new domain (in a forked child; async-signal-safe: raw system calls
 * only). abi is landlock_abi() (> 0). abstract_scope: on ABI 6+, also
 * deny connecting to abstract unix sockets made outside the domain (hfinit
 * turns it off for `ready = notify` services: their notify socket is
 * abstract and belongs to hfinit). no_new_privs must be set already.
 * Returns 0 or an errno value. */
int landlock_enter(int abi, bool abstract_scope);

#endif
