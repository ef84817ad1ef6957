/* Single-child mode: `hfinit [-s] [-g] [-e CODE]... [-t DURATION] [-v] --
 * CMD ARG...`, a drop-in for `tini --`. */
#ifndef HFINIT_CMD_SINGLE_H
#define HFINIT_CMD_SINGLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define SINGLE_DEFAULT_GRACE_NS (5 * INT64_C(1000000000))

struct single_opts {
	bool group;	  /* -g: forward signals to the child's process group */
	int verbose;	  /* -v count */
	int64_t grace_ns; /* -t: SIGTERM -> SIGKILL for leftovers */
	bool remap[256];  /* -e CODE: these exit codes become 0 */
	char **argv;	  /* CMD ARG..., NULL-terminated (the caller's argv) */
	bool want_help;	  /* -h/--help */
	bool no_command;  /* options but no `--`: supervision mode */
};

/* Parse argv (argv[0] = program name). 0, or -1 with e set (bad usage). */
int single_parse_args(int argc, char **argv, struct single_opts *o, struct err *e);
/* "500ms", "5s", "2m", "1h", plain digits = seconds. 0, or -1 (EINVAL/ERANGE). */
int parse_duration_ns(const char *s, int64_t *out);
/* hfinit's exit status for the child's wait status, -e applied. */
int single_exit_code(const struct single_opts *o, int status);

/* The mode: runs until the child and everything left behind are gone;
 * returns the exit status (2 on bad usage). */
int cmd_single(int argc, char **argv);

#endif
