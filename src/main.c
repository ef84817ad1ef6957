/* hfinit: argument dispatch. The only caller of exit() (by returning from
 * main): every mode is a function that returns the process exit status.
 *
 * One argv convention for every mode: the mode's function gets argv[0] = the
 * mode's name and its own options from argv[1] on, parsed with getopt_long;
 * -h/--help there prints the mode's usage (cmd_version.c's table). */
#include <stdbool.h>
#include <string.h>

#include "base/log.h"
#include "cmd/cmd_check.h"
#include "cmd/cmd_ctl.h"
#include "cmd/cmd_single.h"
#include "cmd/cmd_notify.h"
#include "cmd/cmd_status.h"
#include "cmd/cmd_supervise.h"
#include "cmd/cmd_version.h"
#include "conf/config.h"
#include "plan/syscalls.h"

/* How a mode is chosen from the first word after hfinit. */
enum pick {
	BY_WORD,     /* the word is the mode's name (or one of its aliases) */
	BY_DASHDASH, /* no mode word, and "--" is among the words */
	BY_DEFAULT,  /* no mode word: no words at all, or options first */
};

struct mode {
	const char *name;
	enum pick pick;
	int (*fn)(int argc, char **argv); /* argv[0] is the mode's name */
	const char *alias[2];
};

/* Every mode: add one with one line (and its usage in cmd_version.c). */
static const struct mode modes[] = {
    {"single", BY_DASHDASH, cmd_single, {NULL}},      /* hfinit [OPTS] -- CMD */
    {"supervise", BY_DEFAULT, cmd_supervise, {NULL}}, /* hfinit [-c FILE] [-v] */
    {"check", BY_WORD, cmd_check, {NULL}},
    {"status", BY_WORD, cmd_status, {NULL}},
    {"health", BY_WORD, cmd_health, {NULL}},
    {"notify", BY_WORD, cmd_notify, {NULL}},
    {"restart", BY_WORD, cmd_ctl, {NULL}},
    {"stop", BY_WORD, cmd_ctl, {NULL}},
    {"start", BY_WORD, cmd_ctl, {NULL}},
    {"signal", BY_WORD, cmd_ctl, {NULL}},
    {"wait", BY_WORD, cmd_ctl, {NULL}},
    {"version", BY_WORD, cmd_version, {NULL}},
    {"help", BY_WORD, cmd_help, {"-h", "--help"}},
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

static bool named(const struct mode *m, const char *word, bool aliases)
{
	if (strcmp(word, m->name) == 0)
		return true;
	for (size_t k = 0; aliases && k < 2 && m->alias[k]; k++)
		if (strcmp(word, m->alias[k]) == 0)
			return true;
	return false;
}

/* The mode a word names: its name, or with aliases one of those too. */
static const struct mode *by_word(const char *word, bool aliases)
{
	for (size_t i = 0; i < NMODES; i++)
		if (modes[i].pick == BY_WORD && named(&modes[i], word, aliases))
			return &modes[i];
	return NULL;
}

static const struct mode *by_rule(enum pick pick)
{
	for (size_t i = 0; i < NMODES; i++)
		if (modes[i].pick == pick)
			return &modes[i];
	return NULL; /* not reached: the table has both rules */
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
 * mode comes first. */
static void config_before_mode(int argc, char **argv)
{
	int n = 0;

	if (argc > 2 && strncmp(argv[1], "--config=", 9) == 0)
		n = 1;
	else if (argc > 3 && (strcmp(argv[1], "-c") == 0 || strcmp(argv[1], "--config") == 0))
		n = 2;
	if (n == 0 || !by_word(argv[1 + n], false))
		return;
	char *mode = argv[1 + n];
	for (int i = n; i > 0; i--)
		argv[i + 1] = argv[i];
	argv[1] = mode;
}

static bool has_dashdash(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct mode *m;

	if (argc > 1 && names_self(argv[1], argv[0])) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	/* deny = / allow = names are checked at their line with libseccomp,
	 * which conf/ does not use: the plan layer's check */
	config_set_syscall_check(syscall_name_check);
	config_before_mode(argc, argv);
	if (argc > 1 && (m = by_word(argv[1], true)))
		return m->fn(argc - 1, argv + 1);
	if (argc > 1 && argv[1][0] != '-') {
		log_error("unknown mode \"%s\"; to run it as a command use: hfinit -- %s ...",
			  argv[1], argv[1]);
		return 2;
	}
	/* Options first, or nothing: `--` marks single-child mode (hfinit [opts]
	 * -- CMD); without it the options are the supervisor's (hfinit -c FILE). */
	m = by_rule(argc > 1 && has_dashdash(argc, argv) ? BY_DASHDASH : BY_DEFAULT);
	argv[0] = (char *)m->name;
	return m->fn(argc, argv);
}
