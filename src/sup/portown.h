/* Who listens on a probed port: a tcp:/http: probe that connected counts only
 * when the listening socket belongs to a process of the service
 * (docs/supervise.md, "Readiness probes and a port already taken").
 *
 * The socket inode of the LISTEN entry a connection to the probe's address
 * would reach is taken from PROC/net/tcp and PROC/net/tcp6; the service's
 * processes are every PROC/PID whose session id is the service's (each
 * service runs in a session of its own, led by its main process), and the
 * inode is looked for among their PROC/PID/fd links (`socket:[INODE]`).
 * PROC is "/proc" in hfinit; the unit tests pass a fixture tree. */
#ifndef HFINIT_PORTOWN_H
#define HFINIT_PORTOWN_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define PORTOWN_MAX_INODES 16

enum portown_verdict {
	PORTOWN_OURS,	 /* the listener belongs to the service's session */
	PORTOWN_FOREIGN, /* it belongs to another process: the port is taken */
	PORTOWN_UNKNOWN, /* cannot tell (why says why): count the probe as before */
};

struct portown {
	unsigned long inode[PORTOWN_MAX_INODES]; /* the best-matching listeners */
	size_t ninodes;
	int tier;      /* how they match: 3 the address, 2 the wildcard, 1 `::` for IPv4 */
	pid_t holder;  /* FOREIGN: the pid holding the socket, 0 when not visible */
	char cmd[96];  /* FOREIGN: its command line (cut at a word), "" when not visible */
	char why[160]; /* UNKNOWN: the reason */
};

/* Add the LISTEN entries of one /proc/net/tcp (v6 = 0) or tcp6 (v6 = 1) text
 * that a connection to sa would reach, keeping only the best tier seen.
 * Entries of a lower tier are dropped; a higher tier replaces the list. */
void portown_scan(struct portown *po, const char *text, int v6, const struct sockaddr_storage *sa);

/* The verdict for a probe that reached sa, for the service whose session id
 * is sid. po is filled (holder and cmd for FOREIGN, why for UNKNOWN). */
enum portown_verdict portown_check(const char *proc, const struct sockaddr_storage *sa, pid_t sid,
				   struct portown *po);

#endif
