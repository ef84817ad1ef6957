/* hfinit: argument dispatch. The only caller of exit() (by returning from
 * main): every mode is a function that returns the process exit status. */
#include <string.h>

#include "check.h"
#include "log.h"
#include "single.h"
#include "status.h"
#include "supmode.h"
#include "version.h"

struct mode {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the mode name */
};

/* `hfinit NAME ARG...` runs NAME's function. Add a mode with one line. */
static const struct mode modes[] = {
    {"version", cmd_version}, {"status", cmd_status}, {"health", cmd_health},
    {"notify", cmd_notify},   {"check", cmd_check},
};

int main(int argc, char **argv)
{
	const char *first = argc > 1 ? argv[1] : NULL;

	if (!first)
		return cmd_supervise(argc, argv);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(first, modes[i].name) == 0)
			return modes[i].fn(argc - 1, argv + 1);
	if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0 ||
	    strcmp(first, "help") == 0) {
		print_usage(0);
		return 0;
	}
	if (first[0] == '-') {
		/* `--` marks single-child mode (hfinit [opts] -- CMD); without it the
		 * options are the supervisor's (hfinit -c FILE). */
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--") == 0)
				return cmd_single(argc, argv);
		return cmd_supervise(argc, argv);
	}
	log_error("unknown mode \"%s\"; to run it as a command use: hfinit -- %s ...", first,
		  first);
	return 2;
}
