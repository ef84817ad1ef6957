/* hfinit: argument dispatch. The only caller of exit() (by returning from
 * main): every mode is a function that returns the process exit status. */
#include <string.h>

#include "plan/check.h"
#include "base/log.h"
#include "cmd/cmd_single.h"
#include "cmd/cmd_notify.h"
#include "cmd/cmd_status.h"
#include "cmd/cmd_supervise.h"
#include "cmd/cmd_version.h"

struct mode {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the mode name */
};

/* `hfinit NAME ARG...` runs NAME's function. Add a mode with one line. */
static const struct mode modes[] = {
    {"version", cmd_version}, {"status", cmd_status}, {"health", cmd_health},
    {"notify", cmd_notify},   {"check", cmd_check},
};

static const struct mode *find_mode(const char *name)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(name, modes[i].name) == 0)
			return &modes[i];
	return NULL;
}

/* With ENTRYPOINT ["/usr/local/bin/hfinit"], `docker run IMAGE hfinit check`
 * gives argv = {hfinit, "hfinit", "check"}: an argument that names this
 * program again ("hfinit", any path ending in /hfinit, or argv[0]) is not a
 * mode and is skipped, so both `docker run IMAGE check` and `docker run IMAGE
 * hfinit check` work. */
static int names_self(const char *arg, const char *argv0)
{
	const char *base = strrchr(arg, '/');

	base = base ? base + 1 : arg;
	return strcmp(base, "hfinit") == 0 || (argv0 && strcmp(arg, argv0) == 0);
}

/* `hfinit -c FILE MODE ARG...` is `hfinit MODE -c FILE ARG...`: the config
 * option may come before the mode. Rotates argv[1..] in place so that the
 * mode comes first; returns the number of leading option words moved (0
 * when argv[1] is not such an option followed by a mode). */
static int config_before_mode(int argc, char **argv)
{
	int n = 0;

	if (argc > 2 && strncmp(argv[1], "--config=", 9) == 0)
		n = 1;
	else if (argc > 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--config") == 0))
		n = 2;
	if (n == 0 || !find_mode(argv[1 + n]))
		return 0;
	char *mode = argv[1 + n];
	for (int i = n; i > 0; i--)
		argv[i + 1] = argv[i];
	argv[1] = mode;
	return n;
}

int main(int argc, char **argv)
{
	const struct mode *m;
	const char *first;

	if (argc > 1 && names_self(argv[1], argv[0])) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	(void)config_before_mode(argc, argv);
	first = argc > 1 ? argv[1] : NULL;
	if (!first)
		return cmd_supervise(argc, argv);
	if ((m = find_mode(first)))
		return m->fn(argc - 1, argv + 1);
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
