/* Conditions (docs/supervise.md, "Conditions"): evaluated once, when the
 * service's stage opens, in file order. path: and env: on the spot, by the
 * test `hfinit check` uses (plan_cond_test). An exec: condition runs from
 * the loop like an exec probe: as the service (its user, sandbox,
 * environment and workdir), in its own session, its output in the service's
 * log, bounded by condition_timeout; its end comes back to the table as
 * E_START, which goes on from that condition. */
#include "sup/sv.h"

#include "base/fmt.h"
#include "base/redact.h"
#include "run/spawn.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RAN_NOT, RAN_RUNNING, RAN_HELD, RAN_FAILED };

/* The command with its output on the service's pipes. 0, or -1 with
 * cond_why set. */
static int cond_spawn(struct svc *s, const struct condition *c)
{
	struct spawn_req r;
	struct err e;
	int p[4] = {-1, -1, -1, -1}, hint, rc = -1; /* stdout's pipe, stderr's */

	if (svc_spawn_req(s, &r, &e) < 0) {
	} else if (make_pipe(p) < 0 || make_pipe(p + 2) < 0) {
		err_sys(&e, "pipe");
	} else {
		r.file = c->argv[0];
		r.argv = c->argv;
		r.stdout_fd = p[1];
		r.stderr_fd = p[3];
		rc = spawn(&r, &s->probe_pid, &hint, &e);
	}
	for (int i = 0; i < 4; i++)
		if (p[i] >= 0 && (i % 2 || rc < 0))
			(void)close(p[i]); /* the write ends are the child's */
	if (rc < 0) {
		s->probe_pid = 0;
		fmt_trunc(s->cond_why, sizeof(s->cond_why), "%s", e.msg);
		return -1;
	}
	s->out.fd = p[0];
	s->err.fd = p[2];
	pipe_watch(s->sv, &s->out);
	pipe_watch(s->sv, &s->err);
	s->cond_ran = RAN_RUNNING;
	loop_timer_arm_in(&s->sv->loop, &s->t_probe, s->pol->condition_timeout_ns);
	return 0;
}

int cond_check(struct svc *s)
{
	const struct svc_policy *pol = s->pol;
	char why[sizeof(s->cond_why)];

	for (; s->cond_at < pol->nconds; s->cond_at++) {
		const struct condition *c = &pol->conds[s->cond_at];
		bool t;

		if (c->kind != COND_EXEC) {
			t = plan_cond_test(c, why, sizeof(why));
		} else if (s->p->error) {
			return 1; /* it cannot run as the service: the start says why, loudly */
		} else if (s->cond_ran == RAN_RUNNING) {
			return -1;
		} else if (s->cond_ran == RAN_NOT && cond_spawn(s, c) == 0) {
			return -1;
		} else {
			t = s->cond_ran == RAN_HELD;
			s->cond_ran = RAN_NOT;
			memcpy(why, s->cond_why, sizeof(why));
		}
		if (t == c->negate) {
			fmt_trunc(s->disabled_reason, sizeof(s->disabled_reason),
				  "condition %s failed (%s)", c->spec, why);
			redact_str(s->disabled_reason, sizeof(s->disabled_reason));
			svc_changed(s);
			return 0;
		}
	}
	return 1;
}

/* The exec: condition is over: its last lines, then the table goes on. */
static void cond_over(struct svc *s, bool held)
{
	loop_timer_cancel(&s->sv->loop, &s->t_probe);
	s->probe_pid = 0;
	pipe_close_all(s);
	s->cond_ran = held ? RAN_HELD : RAN_FAILED;
	svc_event(s, E_START);
}

void cond_stop(struct svc *s)
{
	if (s->cond_ran != RAN_RUNNING)
		return;
	pipe_close_all(s); /* what it wrote; a process it left cannot hold them */
	s->cond_ran = RAN_NOT;
}

void cond_exit(struct svc *s, int status)
{
	struct err d;

	if (s->cond_ran != RAN_RUNNING)
		return;
	(void)describe_exit(status, false, NULL, s->cond_why, sizeof(s->cond_why), &d);
	cond_over(s, WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void cond_timeout(struct svc *s)
{
	char d[32];

	if (s->cond_ran != RAN_RUNNING)
		return;
	probe_kill(s);
	fmt_duration((uint64_t)(s->pol->condition_timeout_ns / NS_PER_MS), d, sizeof(d));
	fmt_trunc(s->cond_why, sizeof(s->cond_why), "timed out after %s", d);
	cond_over(s, false);
}
