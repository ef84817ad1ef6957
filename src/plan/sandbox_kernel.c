/* What this kernel gives the sandbox (docs/design.md, "Sandbox"): whether it
 * takes a seccomp filter (a test child, for `hfinit check`), and what the
 * log and check say when Landlock is missing. */
#include "plan/sandbox.h"

#include "run/landlock.h"
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- kernel check ---------------------------------------------------------- */

#define KCHECK_TIMEOUT_MS 2000

int sandbox_kernel_check(struct err *e)
{
	/* A filter that allows everything: enough to prove the kernel takes one. */
	static struct sock_filter allow_all[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	static const struct sock_fprog prog = {.len = 1, .filter = allow_all};
	int pfd[2], status = 0, child_err = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_sys(e, "seccomp check: pipe");
	pid = fork();
	if (pid < 0) {
		err_sys(e, "seccomp check: fork");
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		/* Async-signal-safe only: prctl, write, _exit. */
		int err = 0;
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			err = errno;
		else if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
			err = errno + 1000;
		if (write(pfd[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
			_exit(2);
		_exit(0);
	}
	(void)close(pfd[1]); /* the child holds its own copy */

	struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
	struct timespec t0, now;
	ssize_t got = 0;
	int left = KCHECK_TIMEOUT_MS;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0); /* CLOCK_MONOTONIC cannot fail */
	while (got < (ssize_t)sizeof(child_err)) {
		int n = poll(&pf, 1, left);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0) {
			ssize_t r =
			    read(pfd[0], (char *)&child_err + got, sizeof(child_err) - (size_t)got);
			if (r <= 0 && !(r < 0 && errno == EINTR))
				break;
			if (r > 0)
				got += r;
		}
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		long el = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= KCHECK_TIMEOUT_MS)
			break;
		left = KCHECK_TIMEOUT_MS - (int)el;
	}
	(void)close(pfd[0]);
	if (got < (ssize_t)sizeof(child_err))
		(void)kill(pid, SIGKILL); /* late or broken: it must not outlive the check */
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			if (errno == ECHILD) /* reaped elsewhere (a PID 1 reaper) */
				break;
			return err_sys(e, "seccomp check: waitpid");
		}
	}
	if (got < (ssize_t)sizeof(child_err))
		return err_set(e, ETIMEDOUT,
			       "seccomp check: the test process gave no answer within %d ms",
			       KCHECK_TIMEOUT_MS);
	if (child_err >= 1000) {
		errno = child_err - 1000;
		return err_sys(e, "the kernel refuses seccomp filters (prctl PR_SET_SECCOMP)");
	}
	if (child_err) {
		errno = child_err;
		return err_sys(e, "the kernel refuses no_new_privs (prctl PR_SET_NO_NEW_PRIVS)");
	}
	return 0;
}

/* --- Landlock: what the log and `check` say ---------------------------------- */

static bool any_filtered(const struct config *cfg)
{
	for (size_t i = 0; cfg && i < cfg->nservices; i++)
		if (cfg->services[i].seccomp)
			return true;
	return false;
}

void sandbox_landlock_warn(const struct config *cfg)
{
	const char *why;

	if (any_filtered(cfg) && landlock_abi(&why) == 0)
		log_warn("landlock: not available (%s): filtered services run without a domain",
			 why);
}

void sandbox_landlock_check(FILE *f, const char *ind, const struct sandbox_svc *svcs, size_t n)
{
	const char *why;
	bool filtered = false;

	for (size_t i = 0; i < n; i++)
		filtered |= svcs[i].filtered;
	if (!filtered || landlock_abi(&why) > 0)
		return;
	fprintf(f,
		"warn  landlock         not available (%s): filtered services run without a "
		"domain\n",
		why);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; svcs[i].filtered && k < n; k++)
			if (!svcs[k].filtered && svcs[k].uid == svcs[i].uid)
				fprintf(
				    f,
				    "%sservice %s (uid %u) shares its uid with unfiltered %s: it "
				    "can write its memory (/proc/PID/mem)\n",
				    ind, svcs[i].name, (unsigned)svcs[i].uid, svcs[k].name);
}
