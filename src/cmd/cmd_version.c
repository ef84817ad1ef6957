#include "cmd/cmd_version.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <seccomp.h>
#include <stdio.h>
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

static const char usage[] =
    "usage: hfinit [-c FILE] [-v]                      supervise the services of a config\n"
    "       hfinit [-s] [-g] [-e CODE]... [-t DURATION] [-v] -- CMD [ARG]...\n"
    "       hfinit check [-c FILE] [--json]             validate config, resolve Python/scripts\n"
    "       hfinit status [--json] [-d DIR]             show the status files\n"
    "       hfinit health [--started|--ready|--live] [-d DIR]   exit 0/1 for probes\n"
    "       hfinit notify [--pid] KEY=VALUE...          send sd_notify messages\n"
    "       hfinit version\n"
    "\n"
    "A first word that names hfinit itself is skipped (`docker run IMAGE hfinit\n"
    "check` works with ENTRYPOINT [\"/usr/local/bin/hfinit\"]), and -c FILE may\n"
    "come before the mode (hfinit -c FILE check).\n"
    "\n"
    "Supervision mode: the config comes from -c FILE, else $HFINIT_CONFIG, else\n"
    "/etc/hfinit/hfinit.ini. Exit 0 on a clean shutdown, 1 when a required service\n"
    "failed, 2 on bad usage or config, 3 when resolution failed.\n"
    "\n"
    "Single-child mode (a drop-in for `tini --`): run CMD as the only child,\n"
    "forward signals to it, reap every process, exit with CMD's status\n"
    "(128+N when it was killed by signal N).\n"
    "\n"
    "  -s            accepted for tini compatibility: hfinit always registers as\n"
    "                child subreaper when it is not PID 1\n"
    "  -g            forward signals to CMD's process group, not only to CMD\n"
    "  -e CODE       map CMD's exit code CODE (0..255, 128+N for signal N) to 0;\n"
    "                may be repeated\n"
    "  -t DURATION   grace period between SIGTERM and SIGKILL for the processes\n"
    "                left after CMD exits (500ms, 5s, 2m; plain number = seconds;\n"
    "                default 5s)\n"
    "  -v            more log output (debug)\n"
    "  -h, --help    this text\n"
    "\n"
    "Documentation: README.md and docs/ (config.md, supervise.md, check.md,\n"
    "status.md, sandbox.md).\n";

void print_usage(int to_stderr)
{
	/* dprintf: unbuffered, nothing left in a stdio buffer at exit */
	if (dprintf(to_stderr ? STDERR_FILENO : STDOUT_FILENO, "%s", usage) < 0)
		log_errno(LOG_LVL_ERROR, errno, "cannot write usage");
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
	const struct scmp_version *v = seccomp_version();

	(void)argv;
	if (argc > 1) {
		log_error("version: unexpected argument \"%s\"", argv[1]);
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
