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

/* The bounds of the walk (leftover_walk): past them, the full scan. */
#define LEFTOVER_WALK_MAX   4096 /* processes */
#define LEFTOVER_WALK_DEPTH 32	 /* generations below hfinit */

/* Parse the pids of a /proc/PID/task/TID/children buffer ("12 34 ") into
 * out (up to max; the rest are counted, not stored). A number cut by the end
 * of buf is left for the next read unless eof: *used says how many bytes were
 * consumed. Returns how many pids were found. */
size_t leftover_parse_pids(const char *buf, size_t n, bool eof, size_t *used, pid_t *out,
			   size_t max);

/* qsort/bsearch order of pid_t: ascending (the order of tracked below). */
int leftover_pid_cmp(const void *a, const void *b);

/* The candidates for what earlier runs left, from the tree under proc
 * ("/proc"; a fake root in the tests): self's direct children (from every
 * task's children file) that are not in tracked (sorted ascending, ntracked
 * of them: the main processes and probes hfinit runs), and all of their
 * descendants, breadth first. Up to max into pids. Returns how many, or -1
 * when the walk cannot stand in for the full scan: self's children files do
 * not exist (a kernel without CONFIG_PROC_CHILDREN) or cannot be read, or
 * the walk went past max processes or LEFTOVER_WALK_DEPTH generations. */
int leftover_walk(const char *proc, pid_t self, const pid_t *tracked, size_t ntracked, pid_t *pids,
		  size_t max);

/* Send sig to every process that has LEFTOVER_VAR=name in the first 4 KiB of
 * its environment (services get it as their first variable) and descends
 * from hfinit through a child it does not track (tracked, ntracked as in
 * leftover_walk); hfinit itself excluded. tracked NULL, or a walk that
 * returns -1: every process of /proc is read instead (its descendants; any
 * process of the namespace when hfinit is PID 1). Up to max of their pids go
 * into pids. Returns how many were signalled, or -1 when /proc cannot be
 * read. */
int leftover_signal(const char *name, int sig, const pid_t *tracked, size_t ntracked, pid_t *pids,
		    size_t max);

#endif
