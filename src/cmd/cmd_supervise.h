#ifndef HFINIT_CMD_SUPERVISE_H
#define HFINIT_CMD_SUPERVISE_H

/* `hfinit [-c FILE] [-n] [-v]`: load the config, resolve, supervise (or with
 * -n only check the config). Returns the exit code: 0 clean shutdown (-n: the
 * config is OK), 1 a required service failed, 2 bad usage or config (-n:
 * anything wrong), 3 resolution failed. */
int cmd_supervise(int argc, char **argv);

#endif
