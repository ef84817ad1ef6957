/* Signal names <-> numbers ("TERM", "SIGTERM", "15"). */
#ifndef HFINIT_SIGNAME_H
#define HFINIT_SIGNAME_H

/* "TERM" for SIGTERM, "RTMIN+3" for real-time signals, NULL when unknown. The
 * real-time names use a static buffer: not reentrant. */
const char *signame(int sig);
/* Accepts "TERM", "SIGTERM", "sigterm", "15", "RTMIN+2"; returns the number or -1. */
int signum(const char *name);

#endif
