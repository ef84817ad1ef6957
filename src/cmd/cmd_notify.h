/* `hfinit notify` (cmd_notify.c). */
#ifndef HFINIT_CMD_NOTIFY_H
#define HFINIT_CMD_NOTIFY_H

/* Mode (main.c table): `hfinit notify [--pid] KEY=VALUE...`. */
int cmd_notify(int argc, char **argv);

#endif
