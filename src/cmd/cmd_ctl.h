/* `hfinit restart|stop|start|signal|wait` (cmd_ctl.c): the control socket's client. */
#ifndef HFINIT_CMD_CTL_H
#define HFINIT_CMD_CTL_H

/* Modes (main.c table); argv[0] names the command. Exit 0 when the outcome
 * is what was asked, 1 when not (the reason printed), 2 on bad usage, 3 when
 * no hfinit answers (docs/control.md). */
int cmd_ctl(int argc, char **argv);

#endif
