#include "base/signame.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	int sig;
	const char *name;
} table[] = {
    {SIGHUP, "HUP"},   {SIGINT, "INT"},	      {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"},     {SIGBUS, "BUS"},	 {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},     {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},     {SIGTERM, "TERM"}, {SIGSTKFLT, "STKFLT"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},     {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},     {SIGURG, "URG"},	 {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},     {SIGPWR, "PWR"},	      {SIGSYS, "SYS"},
};

const char *signame(int sig)
{
	static char rt[16];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].sig == sig)
			return table[i].name;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			return "RTMIN";
		snprintf(rt, sizeof(rt), "RTMIN+%d", sig - SIGRTMIN);
		return rt;
	}
	return NULL;
}

static int parse_small(const char *s, int max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > max)
		return -1;
	return (int)v;
}

int signum(const char *name)
{
	int n;

	if (!name || !*name)
		return -1;
	if ((n = parse_small(name, SIGRTMAX)) > 0)
		return n;
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(table[i].name, name) == 0)
			return table[i].sig;
	if (strcasecmp(name, "IOT") == 0)
		return SIGABRT;
	if (strcasecmp(name, "POLL") == 0)
		return SIGIO;
	if (strncasecmp(name, "RTMIN", 5) == 0) {
		if (name[5] == '\0')
			return SIGRTMIN;
		if (name[5] == '+' && (n = parse_small(name + 6, SIGRTMAX - SIGRTMIN)) > 0)
			return SIGRTMIN + n;
	}
	if (strncasecmp(name, "RTMAX", 5) == 0) {
		if (name[5] == '\0')
			return SIGRTMAX;
		if (name[5] == '-' && (n = parse_small(name + 6, SIGRTMAX - SIGRTMIN)) > 0)
			return SIGRTMAX - n;
	}
	return -1;
}
