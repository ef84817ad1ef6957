/* Placeholder so the tree links until the status writer lands (issue 5):
 * no status files; the modes say they are not built yet. */
#include "status.h"

#include "log.h"

#include <stddef.h>

struct status_writer *status_open(const char *conf_status_dir)
{
	(void)conf_status_dir;
	return NULL;
}

const char *status_dir(const struct status_writer *w)
{
	(void)w;
	return NULL;
}

void status_publish(struct status_writer *w, const struct status_snapshot *snap)
{
	(void)w;
	(void)snap;
}

void status_close(struct status_writer *w)
{
	(void)w;
}

static int not_built(void)
{
	log_error("status files are not built yet");
	return 2;
}

int cmd_status(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_built();
}

int cmd_health(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_built();
}

int cmd_notify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return not_built();
}
