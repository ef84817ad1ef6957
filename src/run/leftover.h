/* Processes an earlier run of a service left behind outside its process
 * group (a daemon that double-forked with setsid): found by the marker
 * HFINIT_SERVICE=NAME that every service gets in its environment and its
 * descendants inherit (docs/supervise.md, "Restarts and what a run left"). */
#ifndef HFINIT_LEFTOVER_H
#define HFINIT_LEFTOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LEFTOVER_VAR "HFINIT_SERVICE"

/* Whether the environment block env (n bytes of NUL-separated K=V, as in
 * /proc/PID/environ, possibly cut short) holds exactly LEFTOVER_VAR=name. */
bool leftover_env_has(const char *env, size_t n, const char *name);

/* Send sig to every process that has LEFTOVER_VAR=name in the first 4 KiB of
 * its environment (services get it as their first variable) and
 * descends from hfinit (any process of the namespace when hfinit is PID 1),
 * hfinit itself excluded. Up to max of their pids go into pids. Returns how
 * many were signalled, or -1 when /proc cannot be read. */
int leftover_signal(const char *name, int sig, pid_t *pids, size_t max);

#endif
