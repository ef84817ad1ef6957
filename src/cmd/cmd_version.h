/* `hfinit version` and `hfinit --help`. */
#ifndef HFINIT_CMD_VERSION_H
#define HFINIT_CMD_VERSION_H

/* Prints version, libseccomp version and build facts to stdout; 0, or 2 on
 * unexpected arguments. */
int cmd_version(int argc, char **argv);
/* The usage text, to stdout (ok) or stderr (after bad usage). */
void print_usage(int to_stderr);
/* true when this executable has no ELF interpreter (statically linked). */
int binary_is_static(void);

#endif
