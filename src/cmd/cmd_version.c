#include "cmd/cmd_version.h"

#include <elf.h>
#include <errno.h>
#include <getopt.h>
#include <link.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "base/log.h"

#ifndef HFINIT_VERSION
#define HFINIT_VERSION "unknown"
#endif

#ifdef __GLIBC__
#define LIBC_NAME "glibc"
#else
#define LIBC_NAME "musl" /* the only other libc we build with */
#endif

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown compiler"
#endif

#ifdef __OPTIMIZE__
#define OPT "optimized"
#else
#define OPT "not optimized"
#endif

/* The control commands' common lines (once in the binary). */
static const char ctl_foot[] =
    "  --no-wait    (restart, stop, start) return once hfinit accepted it\n"
    "  -d DIR, -c FILE  where the control socket is, found as for `hfinit status`\n"
    "Exit 0 the outcome asked for, 1 not (the reason printed), 2 bad usage, 3 no\n"
    "hfinit answers (docs/control.md).\n";

/* The usage table: what `hfinit help`, `-h` in every mode and bad usage
 * print. The synopsis is the line after "usage: "; the text follows it. */
struct usage {
	const char *mode;
	const char *synopsis;
	const char *summary; /* one line, for the overview */
	const char *text;
	const char *foot; /* more text, shared by several modes; NULL: none */
};

static const struct usage usages[] = {
    {"supervise", "hfinit [-c FILE] [-n] [-v]", "supervise the services of a config",
     "  -c, --config FILE  the config; default $HFINIT_CONFIG, else\n"
     "                     /etc/hfinit/hfinit.ini\n"
     "  -n                 check the config and exit: \"configuration OK\" and 0, or\n"
     "                     the errors and 2 (nothing is started)\n"
     "  -v                 more log output (debug)\n"
     "  -h, --help         this text (hfinit help: every mode)\n"
     "Exit 0 on a clean shutdown, 1 when a required service failed, 2 on bad usage\n"
     "or config, 3 when resolution failed.\n",
     NULL},
    {"single", "hfinit [-s] [-g] [-e CODE]... [-t DURATION] [-v] -- CMD [ARG]...",
     "run CMD as the only child (tini --)",
     "Single-child mode (a drop-in for `tini --`): run CMD as the only child,\n"
     "forward signals to it, reap every process, exit with CMD's status\n"
     "(128+N when it was killed by signal N).\n"
     "  -s            accepted for tini compatibility: hfinit always registers as\n"
     "                child subreaper when it is not PID 1\n"
     "  -g            forward signals to CMD's process group, not only to CMD\n"
     "  -e CODE       map CMD's exit code CODE (0..255, 128+N for signal N) to 0;\n"
     "                may be repeated\n"
     "  -t DURATION   grace period between SIGTERM and SIGKILL for the processes\n"
     "                left after CMD exits (500ms, 5s, 2m; plain number = seconds;\n"
     "                default 5s)\n"
     "  -v            more log output (debug)\n"
     "  -h, --help    this text\n",
     NULL},
    {"check", "hfinit check [-c FILE] [--json]", "validate config, resolve Python/scripts",
     "  validate the config, resolve Python and every script, check the status\n"
     "  dir, seccomp, users and required Python modules; exit 0 when everything\n"
     "  would start, 1 when something would not, 2 on config errors\n",
     NULL},
    {"status", "hfinit status [--json] [-d DIR] [-c FILE]", "show the status files",
     "  --json   print status.json as it is\n"
     "  -d DIR, --dir DIR\n"
     "           status dir (default $HFINIT_STATUS_DIR, else the first of\n"
     "           /run/hfinit, $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit with a status.json)\n"
     "  -c FILE, --config FILE\n"
     "           the dir is FILE's status_dir, when it has one (after -d DIR and\n"
     "           $HFINIT_STATUS_DIR, as for the writer)\n"
     "  -h, --help  this text\n"
     "Exit 0, 1 when there is no readable status, 2 on bad usage.\n",
     NULL},
    {"health", "hfinit health [--ready|--started|--live] [-d DIR] [-c FILE]", "exit 0/1 for probes",
     "  --ready    (default) every required service is ready (degraded counts)\n"
     "  --started  start-up is over: state is ready or degraded\n"
     "  --live     hfinit is running (holds DIR/lock) and its state is not failed\n"
     "  -d DIR, --dir DIR\n"
     "             status dir (default $HFINIT_STATUS_DIR, else the first of\n"
     "             /run/hfinit, $XDG_RUNTIME_DIR/hfinit, /tmp/hfinit with a\n"
     "             status.json)\n"
     "  -c FILE, --config FILE\n"
     "             the dir is FILE's status_dir, when it has one (after -d DIR\n"
     "             and $HFINIT_STATUS_DIR, as for the writer)\n"
     "  -h, --help this text\n"
     "Exit 0 healthy, 1 otherwise (also for bad usage: Docker reserves 2).\n",
     NULL},
    {"notify", "hfinit notify [--pid[=PID]] [--ready] [--status=TEXT] [--no-block] [KEY=VALUE]...",
     "send sd_notify messages",
     "Sends one sd_notify datagram to $NOTIFY_SOCKET (\"@abstract\" or \"/path\"),\n"
     "e.g. `hfinit notify READY=1 STATUS=listening`. --pid adds MAINPID=<the\n"
     "parent's pid> (the calling shell); --ready is READY=1. Then waits (at most 5 s)\n"
     "until the receiver has read it (BARRIER=1, as systemd-notify does; not with\n"
     "--no-block).\n"
     "Exit 0 sent, 1 not sent (no $NOTIFY_SOCKET, send failed), 2 bad usage.\n",
     NULL},
    {"restart", "hfinit restart [--no-wait] [-d DIR] [-c FILE] NAME...",
     "restart services of a running hfinit",
     "  stop each (stop_signal, stop_timeout), start it again with fresh attempts;\n"
     "  returns once ready again, or failed. Not counted toward restart_burst.\n",
     ctl_foot},
    {"stop", "hfinit stop [--no-wait] [-d DIR] [-c FILE] NAME...", "stop services; they stay down",
     "  a required one does not stop the container; returns once they are down\n", ctl_foot},
    {"start", "hfinit start [--no-wait] [-d DIR] [-c FILE] NAME...",
     "start stopped, failed or disabled services",
     "  with fresh attempts; returns once ready, or failed\n", ctl_foot},
    {"signal", "hfinit signal [-d DIR] [-c FILE] NAME SIG", "send SIG to a service's process group",
     "  SIG: TERM, SIGHUP, 10, RTMIN+1 ...\n", ctl_foot},
    {"wait", "hfinit wait [--started|--ready] [--timeout D] [-d DIR] [-c FILE] [NAME...]",
     "wait until services are ready (or started)",
     "  --ready     (default) each NAME is ready; no NAME: as health --ready\n"
     "  --started   each NAME is starting or ready; no NAME: as health --started\n"
     "  --timeout D give up after D (500ms, 30s, 2m)\n",
     ctl_foot},
    {"version", "hfinit version", "print the version and build facts",
     "  prints hfinit's and libseccomp's versions and how hfinit was built\n", NULL},
    {"help", "hfinit help [MODE]", "this overview, or MODE's usage",
     "  MODE: supervise, single, check, status, health, notify, restart, stop,\n"
     "  start, signal, wait, version\n",
     NULL},
};

static const char overview_notes[] =
    "\n"
    "A first word that names hfinit itself is skipped (`docker run IMAGE hfinit\n"
    "check` works with ENTRYPOINT [\"/usr/local/bin/hfinit\"]), and -c FILE may\n"
    "come before the mode (hfinit -c FILE check). -h or --help after a mode\n"
    "prints that mode's usage.\n"
    "\n"
    "Supervision mode: the config comes from -c FILE, else $HFINIT_CONFIG, else\n"
    "/etc/hfinit/hfinit.ini. Exit 0 on a clean shutdown, 1 when a required service\n"
    "failed, 2 on bad usage or config, 3 when resolution failed.\n"
    "\n"
    "Documentation: README.md and docs/ (config.md, supervise.md, check.md,\n"
    "status.md, control.md, sandbox.md).\n";

static void overview(FILE *f)
{
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
		const struct usage *u = &usages[i];

		/* a synopsis too long for the column gets its summary below */
		if (strlen(u->synopsis) > 50)
			fprintf(f, "%s%s\n%58s%s\n", i ? "       " : "usage: ", u->synopsis, "",
				u->summary);
		else
			fprintf(f, "%s%-50s %s\n", i ? "       " : "usage: ", u->synopsis,
				u->summary);
	}
	fputs(overview_notes, f);
}

int usage_print(const char *mode, FILE *f)
{
	if (!mode) {
		overview(f);
		return 0;
	}
	for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
		if (strcmp(usages[i].mode, mode) == 0) {
			fprintf(f, "usage: %s\n%s%s", usages[i].synopsis, usages[i].text,
				usages[i].foot ? usages[i].foot : "");
			return 0;
		}
	return -1;
}

int cmd_help(int argc, char **argv)
{
	if (argc > 2) {
		log_error("help: unexpected argument \"%s\"", argv[2]);
		return 2;
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		overview(stdout);
		return 0;
	}
	if (usage_print(argv[1], stdout) < 0) {
		log_error("help: unknown mode \"%s\"", argv[1]);
		(void)usage_print("help", stderr);
		return 2;
	}
	return 0;
}

int binary_is_static(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);

	if (!ph)
		return 0;
	for (unsigned long i = 0; i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			return 0;
	return 1;
}

int cmd_version(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	const struct scmp_version *v = seccomp_version();
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'h') {
			(void)usage_print("version", stdout);
			return 0;
		}
		log_error("version: unknown option \"%s\"", argv[optind - 1]);
		(void)usage_print("version", stderr);
		return 2;
	}
	if (optind < argc) {
		log_error("version: unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if (dprintf(STDOUT_FILENO,
		    "hfinit %s\n"
		    "libseccomp %u.%u.%u\n"
		    "build: %s, %s, %s, %s\n",
		    HFINIT_VERSION, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
		    binary_is_static() ? "static" : "dynamic", LIBC_NAME, COMPILER, OPT) < 0) {
		log_errno(LOG_LVL_ERROR, errno, "version: cannot write");
		return 1;
	}
	return 0;
}
