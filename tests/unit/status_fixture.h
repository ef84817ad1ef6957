/* The status tests' shared fixture (status_fixture.c). */
#ifndef HFINIT_STATUS_FIXTURE_H
#define HFINIT_STATUS_FIXTURE_H

#include "status/status.h"

extern char tdir[64];
int setup(void **state);
int teardown(void **state);
char *path(const char *name);
char *slurp(const char *p);
void put_file(const char *p, const char *text);
/* Run a mode with stdout captured; returns its exit code, *out the text. */
int capture(int (*fn)(int, char **), char **out, int argc, ...);
extern struct status_service svcs[2];
/* The snapshot every render test starts from: two services, Python, two stages. */
void fill(struct status_snapshot *s);
/* A datagram socket bound to name (abstract, or a path). */
int listener(const char *name, int abstract);
/* The next datagram (sends are synchronous on AF_UNIX), or NULL. */
char *next_msg(int fd);

#endif
