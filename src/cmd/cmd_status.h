/* `hfinit status` and `hfinit health` (cmd_status.c). */
#ifndef HFINIT_CMD_STATUS_H
#define HFINIT_CMD_STATUS_H

/* Modes (main.c table): `hfinit status [--json] [-d DIR]`,
 * `hfinit health [--started|--ready|--live] [-d DIR]`. */
int cmd_status(int argc, char **argv);
int cmd_health(int argc, char **argv);

#endif
