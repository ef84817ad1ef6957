/* `hfinit check [-c FILE] [--json]`: validate the config, resolve Python and
 * every script, check the status dir, seccomp support, users and the Python
 * modules services require, and print a report a person can act on. Starts
 * nothing long-lived. Exit 0 when everything would start, 1 when something
 * would not, 2 on config errors or bad usage. */
#ifndef HFINIT_CMD_CHECK_H
#define HFINIT_CMD_CHECK_H

/* argv[0] is "check". */
int cmd_check(int argc, char **argv);

#endif
