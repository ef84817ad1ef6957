/* `hfinit status` and `hfinit health` (cmd_status.c). */
#ifndef HFINIT_CMD_STATUS_H
#define HFINIT_CMD_STATUS_H

#include <stddef.h>

/* Modes (main.c table): `hfinit status [--json] [-d DIR]`,
 * `hfinit health [--started|--ready|--live] [-d DIR]`. */
int cmd_status(int argc, char **argv);
int cmd_health(int argc, char **argv);
/* The status dir a reader (and the control client) uses: -d DIR, else
 * $HFINIT_STATUS_DIR, else the status_dir of -c FILE, else the first default
 * candidate with a status.json (statusdir_find). 0; -1: the config cannot be
 * read (why); -2: none found (why lists where it looked:
 * STATUSDIR_LOOKED_MAX bytes). */
int status_dir_locate(const char *dir, const char *config, char *out, size_t n, char *why,
		      size_t wn);

#endif
