/* `hfinit version`, `hfinit help [MODE]`, and the one usage table: every
 * mode's synopsis and options. */
#ifndef HFINIT_CMD_VERSION_H
#define HFINIT_CMD_VERSION_H

#include <stdio.h>

/* Prints version, libseccomp version and build facts to stdout; 0, or 2 on
 * unexpected arguments. */
int cmd_version(int argc, char **argv);
/* `hfinit help [MODE]`, `hfinit -h`: every mode's synopsis, or MODE's usage;
 * 0, or 2 for an unknown MODE. */
int cmd_help(int argc, char **argv);
/* The usage of one mode ("supervise", "single", "check", "status", "health",
 * "notify", "version", "help") to f: "usage: SYNOPSIS" and its options. NULL:
 * the overview of every mode. 0, or -1 for an unknown mode (nothing printed). */
int usage_print(const char *mode, FILE *f);
/* true when this executable has no ELF interpreter (statically linked). */
int binary_is_static(void);

#endif
