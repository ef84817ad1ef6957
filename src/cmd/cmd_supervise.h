#ifndef HFINIT_CMD_SUPERVISE_H
#define HFINIT_CMD_SUPERVISE_H

/* `hfinit [-c FILE] [-v]`: load the config, resolve, supervise. Returns the
 * exit code: 0 clean shutdown, 1 a required service failed, 2 bad usage or
 * config, 3 resolution failed. */
int cmd_supervise(int argc, char **argv);

#endif
