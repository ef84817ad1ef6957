/* The service life cycle as a [state][event] action table (fsm.h).
 *
 *   pending --start--> starting --ready--> ready --exit--> restarting --delay--> starting
 *                        |  exit / timeout                 | no restart, clean exit: stopped
 *                        v                                 | burst exceeded: failed
 *                     retrying --delay--> starting         | no restart, failure: failed
 *                        | last attempt
 *                        v
 *                      failed (required: the container stops with 1; optional: degraded)
 *
 *   A one-shot: starting --clean exit--> done (its stage passes); other exits
 *   and timeouts are failed attempts, as above. A watchdog miss is a failure
 *   of a ready service, handled by the restart policy.
 *
 * Every transition that ends a process goes through teardown() and the
 * internal state stopping: the service's process group gets its stop_signal,
 * then SIGKILL after stop_timeout, and the step s->after names (retry,
 * restart, fail, stop) is taken in down() once the main process is reaped and
 * the group is empty. An action never dispatches another event and never
 * calls back into the supervisor: what follows from it (the stage gate, the
 * shutdown, the status files) runs at the end of the loop turn. */
#include "sup/sv.h"

#include "base/fmt.h"
#include "base/log.h"
#include "base/signame.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

typedef void svc_action(struct svc *s);

/* ------------------------------------------------------------------------- */
/* helpers of the actions */

/* The config's format ("1h", "90s", "1500ms"). */
static const char *fmt_ns(char *buf, size_t n, int64_t ns)
{
	return fmt_duration((uint64_t)(ns / NS_PER_MS), buf, n);
}

static void set_state(struct svc *s, enum svc_state st)
{
	s->state = st; /* published: svc_event marks s changed after every action */
	if (s->sv->stopping)
		s->sv->stopping[s - s->sv->svcs] = st == S_STOPPING;
}

/* The processes are gone: take the step the teardown was for. */
static void down(struct svc *s)
{
	struct sv *sv = s->sv;
	const struct svc_ops *o = sv->ops;
	enum after a = s->after;
	char d[32];

	o->cancel(s, T_KILL);
	o->probe_stop(s);
	o->release(s);
	s->pgid = 0;
	s->after = AFTER_NONE;
	if ((a == AFTER_RETRY || a == AFTER_RESTART || a == AFTER_START) && sv->shutting_down)
		a = AFTER_STOP;
	switch (a) {
	case AFTER_RETRY:
		o->leftovers(s, s->pol->stop_signal);
		set_state(s, S_RETRYING);
		o->arm(s, T_DELAY, s->pol->retry_delay_ns);
		break;
	case AFTER_RESTART:
		o->leftovers(s, s->pol->stop_signal);
		set_state(s, S_RESTARTING);
		fmt_ns(d, sizeof(d), s->backoff_ns);
		log_info("[%s] restarting in %s (restart %u)", s->name, d, s->restarts);
		o->arm(s, T_DELAY, s->backoff_ns);
		break;
	case AFTER_START: /* requested: at once (from the loop), fresh attempts */
		o->leftovers(s, s->pol->stop_signal);
		s->attempt = 0;
		s->stopped_by = NULL;
		set_state(s, S_RESTARTING);
		o->arm(s, T_DELAY, 0);
		break;
	case AFTER_FAIL:
		set_state(s, S_FAILED);
		if (sv->shutting_down)
			break;
		if (s->pol->required) {
			log_error("[%s] required service failed: stopping everything", s->name);
			sv->exit_code = 1;
			sv_request_shutdown(sv, "a required service failed");
		} else {
			log_warn("[%s] optional service failed: continuing degraded", s->name);
		}
		break;
	case AFTER_STOP:
	case AFTER_NONE:
		set_state(s, S_STOPPED);
		break;
	}
}

/* End the service's processes, then take step `after` (down()). Only from
 * starting and ready. */
static void teardown(struct svc *s, enum after after)
{
	const struct svc_ops *o = s->sv->ops;

	o->cancel(s, T_READY);
	o->cancel(s, T_WATCHDOG);
	o->probe_stop(s);
	s->health_active = false;
	s->shown = s->state;
	set_state(s, S_STOPPING);
	s->after = after;
	if (!o->up(s)) {
		down(s);
		return;
	}
	o->signal(s, s->pol->stop_signal);
	/* A stopped process would never see the signal. */
	o->signal(s, SIGCONT);
	o->arm(s, T_KILL, s->pol->stop_timeout_ns);
}

static void attempt_failed(struct svc *s)
{
	char delay[32];

	if (s->setup_failed) {
		log_error(
		    "[%s] attempt %u of %u failed: %s; not retried (it would fail the same way)",
		    s->name, s->attempt, s->pol->retries, s->error.msg);
		teardown(s, AFTER_FAIL);
		return;
	}
	if (s->attempt < s->pol->retries) {
		fmt_ns(delay, sizeof(delay), s->pol->retry_delay_ns);
		log_warn("[%s] attempt %u of %u failed: %s; next attempt in %s", s->name,
			 s->attempt, s->pol->retries, s->error.msg, delay);
		teardown(s, AFTER_RETRY);
		return;
	}
	log_error("[%s] attempt %u of %u failed: %s; no attempts left", s->name, s->attempt,
		  s->pol->retries, s->error.msg);
	teardown(s, AFTER_FAIL);
}

static void restart_after_failure(struct svc *s)
{
	const struct svc_policy *r = s->pol;
	int64_t now = s->sv->ops->now();
	unsigned burst = s->restart_times ? r->restart_burst : 0;
	char d[32];

	if (restart_burst_hit(s->restart_times, &s->nrestart_times, burst, r->restart_window_ns,
			      now)) {
		fmt_ns(d, sizeof(d), r->restart_window_ns);
		log_error("[%s] restarted %u times within %s: giving up", s->name,
			  s->nrestart_times, d);
		char keep[sizeof(s->error.msg)];
		snprintf(keep, sizeof(keep), "%s", s->error.msg); /* also the destination */
		set_error(s, "crash-loop", "the service keeps failing: see its log above",
			  "gave up after %u restarts within %s; last: %.400s", s->nrestart_times, d,
			  keep);
		teardown(s, AFTER_FAIL);
		return;
	}
	s->restart_times[s->nrestart_times++] = now;
	s->restarts++;
	/* Back-off: doubles per restart; starts again once the service stayed up for
	 * a whole window. */
	s->backoff_ns = backoff_next(s->backoff_ns, r->restart_delay_ns, r->restart_max_delay_ns,
				     s->ready_ns && now - s->ready_ns >= r->restart_window_ns);
	s->attempt = 0;
	teardown(s, AFTER_RESTART);
}

/* last_error for an exit: what happened, then this attempt's own error line
 * (an earlier attempt's must not pile up); the category and hint stay. */
static void exit_error(struct svc *s, const char *when)
{
	char keep[sizeof(s->error.msg)];

	snprintf(keep, sizeof(keep), "%s", s->error_line ? s->error.msg : ""); /* also the dest */
	set_error(s, NULL, NULL, "%s%s%s%.400s", s->exit_text, when, keep[0] ? ": " : "", keep);
}

/* The exit's diagnosis becomes the error's category, unless a better one
 * (from an error line) is there already and this is a mere signal. */
static void exit_diagnosis(struct svc *s)
{
	if (!s->exit_has_diag)
		return;
	if (!s->error.category || strcmp(s->exit_diag.category, "signal") != 0) {
		s->error.category = s->exit_diag.category;
		snprintf(s->error.hint, sizeof(s->error.hint), "%s", s->exit_diag.hint);
	}
	log_warn("[%s] %s: %s", s->name, s->exit_diag.category, s->exit_diag.hint);
}

static void become_ready(struct svc *s, const char *how)
{
	const struct svc_ops *o = s->sv->ops;
	int64_t now = o->now();

	o->cancel(s, T_READY);
	o->probe_stop(s);
	/* A one-shot's clean exit: done; its ready time is its run's length. */
	set_state(s, s->pol->oneshot ? S_DONE : S_READY);
	s->became_ready = true;
	s->ready_ns = now;
	s->ready_ms = (now - s->started_ns) / NS_PER_MS;
	clock_gettime(CLOCK_REALTIME, &s->ready_wall);
	log_info("[%s] %s in %" PRId64 " ms (%s), attempt %u", s->name, svc_state_name(s->state),
		 s->ready_ms, how, s->attempt);
	if (s->pol->oneshot) {
		/* Like a clean stop, it keeps what it left behind. */
		s->pgid = 0;
		return;
	}
	if (s->pol->watchdog_ns)
		o->arm(s, T_WATCHDOG, s->pol->watchdog_ns);
	if (s->pol->health.spec->kind != PROBE_NONE) {
		s->health_active = true;
		s->health_fail = 0;
		o->arm(s, T_PROBE, s->pol->health_interval_ns);
	}
}

/* ------------------------------------------------------------------------- */
/* the actions */

static void nop(struct svc *s)
{
	(void)s;
}

static void act_start(struct svc *s)
{
	const struct svc_ops *o = s->sv->ops;

	if (s->sv->shutting_down)
		return;
	if (s->started_before) {
		o->leftovers(s, SIGKILL);
		/* A done one-shot or a clean stop kept its pipes while what it
		 * left ran: their last lines go out as the earlier run's (no
		 * ready line of this one), then they close. */
		o->release(s);
	}
	s->started_before = true;
	s->attempt++;
	set_state(s, S_STARTING);
	s->has_exit = false;
	s->error_line = false;
	s->port_taken = false;
	s->started_ns = o->now();
	s->ready_ns = 0;
	s->killed = false;
	s->setup_failed = false;
	s->after = AFTER_NONE;
	if (s->p->error) { /* found by the planner: cannot be set up */
		set_error(s, "setup", s->p->hint, "%s", s->p->error);
		s->setup_failed = true;
	}
	if (s->setup_failed || o->spawn(s) < 0) {
		log_error("[%s] cannot start: %s", s->name, s->error.msg);
		if (s->error.hint[0])
			log_info("[%s] hint: %s", s->name, s->error.hint);
		attempt_failed(s);
		return;
	}
	log_info("[%s] started pid %d (attempt %u of %u)", s->name, (int)s->pid, s->attempt,
		 s->pol->retries);
	o->arm(s, T_READY, s->pol->ready_timeout_ns);
	if (s->pol->oneshot)
		return; /* done at its exit */
	switch (s->pol->ready.spec->kind) {
	case PROBE_STARTED:
		become_ready(s, "started");
		break;
	case PROBE_TCP:
	case PROBE_HTTP:
	case PROBE_FILE:
	case PROBE_EXEC:
		/* The first attempt runs from the loop, like every later one. */
		s->health_active = false;
		o->arm(s, T_PROBE, 0);
		break;
	default:
		break; /* line, regex, notify, fd: event-driven */
	}
}

/* The stage opened (or an exec: condition ended): the conditions, then the
 * first start; a failed one disables the service (docs/supervise.md). */
static void act_begin(struct svc *s)
{
	int r = 0;

	if (s->sv->shutting_down)
		return;
	if (s->pol->disabled)
		snprintf(s->disabled_reason, sizeof(s->disabled_reason), "enabled = no");
	else
		r = s->pol->nconds ? s->sv->ops->conditions(s) : 1;
	if (r < 0)
		return;
	if (r > 0) {
		act_start(s);
		return;
	}
	set_state(s, S_DISABLED);
	log_info("[%s] disabled: %s", s->name, s->disabled_reason);
}

static void act_ready(struct svc *s)
{
	become_ready(s, s->ready_how ? s->ready_how : "ready");
}

static void act_timeout(struct svc *s)
{
	char d[32];

	fmt_ns(d, sizeof(d), s->pol->ready_timeout_ns);
	s->sv->ops->probe_stop(s);
	if (s->port_taken) {
		set_error(s, "port-in-use", PORT_HINT, "not ready within %s: %s", d, s->port_msg);
		attempt_failed(s);
		return;
	}
	if (s->pol->oneshot)
		set_error(s, "ready-timeout",
			  "the one-shot did not finish in time: check its log, or raise "
			  "ready_timeout",
			  "not done within %s (type = oneshot)", d);
	else
		set_error(s, "ready-timeout",
			  "the service did not signal readiness in time: check its ready = setting "
			  "and its log, or raise ready_timeout",
			  "not ready within %s (ready = %s)", d, s->pol->ready.spec->spec);
	attempt_failed(s);
}

/* Exit while starting: the attempt failed. */
static void act_attempt_exit(struct svc *s)
{
	if (s->sv->shutting_down) {
		log_info("[%s] %s", s->name, s->exit_text);
		teardown(s, AFTER_STOP);
		return;
	}
	if (s->pol->oneshot && exit_clean(s->pol, s->last_status)) {
		become_ready(s, s->exit_text);
		return;
	}
	exit_diagnosis(s);
	exit_error(s, s->pol->oneshot ? "" : " before it was ready");
	attempt_failed(s);
}

/* Exit once ready: restart, done, or failed. */
static void act_exited(struct svc *s)
{
	bool clean = exit_clean(s->pol, s->last_status);

	if (s->sv->shutting_down) {
		log_info("[%s] %s", s->name, s->exit_text);
		teardown(s, AFTER_STOP);
		return;
	}
	exit_diagnosis(s);
	if (restart_wanted(s->pol->restart, clean)) {
		if (clean)
			log_info("[%s] %s", s->name, s->exit_text);
		else
			log_warn("[%s] %s", s->name, s->exit_text);
		if (!clean)
			exit_error(s, "");
		restart_after_failure(s);
		return;
	}
	if (clean) {
		log_info("[%s] %s: done (restart = %s)", s->name, s->exit_text,
			 restart_policy_name(s->pol->restart));
		/* A finished service keeps what it left behind (a daemon): no kill,
		 * and its pipes stay open until the last writer closes them (closing
		 * the read ends would kill a daemon with SIGPIPE at its next log
		 * line). A stopped service is never started again. */
		s->sv->ops->cancel(s, T_WATCHDOG);
		set_state(s, S_STOPPED);
		s->pgid = 0;
		return;
	}
	log_error("[%s] %s (restart = no)", s->name, s->exit_text);
	exit_error(s, "");
	teardown(s, AFTER_FAIL);
}

static void act_unhealthy(struct svc *s)
{
	s->health_fail = 0;
	s->health_active = false;
	/* Treated as a crash: restarted under the restart limits. */
	restart_after_failure(s);
}

/* No WATCHDOG=1 in time, or WATCHDOG=trigger (s->error says which): a
 * failure; the restart policy applies, under its limits. Before ready (a
 * trigger): the attempt failed. */
static void act_watchdog(struct svc *s)
{
	log_warn("[%s] %s", s->name, s->error.msg);
	if (s->state == S_STARTING)
		attempt_failed(s);
	else if (restart_wanted(s->pol->restart, false))
		restart_after_failure(s);
	else
		teardown(s, AFTER_FAIL);
}

/* Stopping on purpose: the exit is expected. */
static void act_note_exit(struct svc *s)
{
	log_info("[%s] %s", s->name, s->exit_text);
	if (!s->sv->ops->up(s))
		down(s);
}

static void act_gone(struct svc *s)
{
	if (!s->sv->ops->up(s))
		down(s);
}

static void act_kill(struct svc *s)
{
	const struct svc_ops *o = s->sv->ops;
	char d[32];

	if (!o->up(s))
		return;
	fmt_ns(d, sizeof(d), s->pol->stop_timeout_ns);
	log_warn("[%s] still running %s after SIG%s: sending SIGKILL", s->name, d,
		 signame(s->pol->stop_signal) ? signame(s->pol->stop_signal) : "?");
	s->killed = true;
	o->signal(s, SIGKILL);
}

static void act_stop(struct svc *s)
{
	teardown(s, AFTER_STOP);
}

/* Already on the way down: a shutdown overrides a retry or restart. */
static void act_restop(struct svc *s)
{
	if (s->after != AFTER_FAIL)
		s->after = AFTER_STOP;
}

/* hfinit is stopping: no timer starts anything again, no probe runs. */
static void act_quiet(struct svc *s)
{
	const struct svc_ops *o = s->sv->ops;

	o->cancel(s, T_DELAY);
	o->cancel(s, T_READY);
	o->cancel(s, T_WATCHDOG);
	o->probe_stop(s);
}

/* Not running: it never starts again. */
static void act_stopped(struct svc *s)
{
	act_quiet(s);
	if (!s->sv->ops->up(s))
		set_state(s, S_STOPPED);
}

/* ------------------------------------------------------------------------- */
/* requests (issue 12): never counted toward restart_burst, the back-off stays */

/* Start now with fresh attempts, or once the teardown under way is over. A
 * start (forget) also forgets the restart window and the back-off. A teardown
 * for a failure is left alone: the request sees the failure, as it would a
 * moment later. */
static void req_start(struct svc *s, bool forget)
{
	if (s->state == S_STOPPING && s->after == AFTER_FAIL)
		return;
	if (forget) {
		s->nrestart_times = 0;
		s->backoff_ns = 0;
	}
	if (s->state == S_STOPPING) {
		s->after = AFTER_START;
		return;
	}
	s->sv->ops->cancel(s, T_DELAY);
	s->attempt = 0;
	s->stopped_by = NULL;
	act_start(s);
}

static void act_req_start(struct svc *s)
{
	req_start(s, true);
}

static void act_req_restart(struct svc *s)
{
	s->requested_restarts++;
	if (s->state == S_STARTING || s->state == S_READY)
		teardown(s, AFTER_START);
	else
		req_start(s, false);
}

/* It stays down until a requested start; a required one does not stop the
 * container (down() fails nothing for AFTER_STOP). */
static void act_req_stop(struct svc *s)
{
	if (s->state == S_STOPPING && s->after == AFTER_FAIL)
		return; /* it failed: that stays the outcome */
	s->stopped_by = "request";
	if (s->state == S_STARTING || s->state == S_READY)
		teardown(s, AFTER_STOP);
	else if (s->state == S_STOPPING)
		s->after = AFTER_STOP;
	else
		act_stopped(s);
}

/* clang-format off */
static svc_action *const fsm[S_NSTATES][E_NEVENTS] = {
/*                 START      READY      EXIT              TIMEOUT      UNHEALTHY      GONE      KILLTIME  STOP        SHUTDOWN     REQ_STOP        REQ_START       REQ_RESTART      WATCHDOG */
[S_PENDING]    = { act_begin, nop,       nop,              nop,         nop,           nop,      nop,      nop,        act_stopped, act_req_stop,   nop,            nop,             nop },
[S_STARTING]   = { nop,       act_ready, act_attempt_exit, act_timeout, nop,           nop,      nop,      act_stop,   act_quiet,   act_req_stop,   nop,            act_req_restart, act_watchdog },
[S_READY]      = { nop,       nop,       act_exited,       nop,         act_unhealthy, nop,      nop,      act_stop,   act_quiet,   act_req_stop,   nop,            act_req_restart, act_watchdog },
[S_STOPPING]   = { nop,       nop,       act_note_exit,    nop,         nop,           act_gone, act_kill, act_restop, act_quiet,   act_req_stop,   act_req_start,  act_req_restart, nop },
[S_RETRYING]   = { act_start, nop,       nop,              nop,         nop,           nop,      nop,      nop,        act_stopped, act_req_stop,   act_req_start,  act_req_restart, nop },
[S_RESTARTING] = { act_start, nop,       nop,              nop,         nop,           nop,      nop,      nop,        act_stopped, act_req_stop,   act_req_start,  act_req_restart, nop },
[S_FAILED]     = { nop,       nop,       nop,              nop,         nop,           nop,      nop,      nop,        nop,         nop,            act_req_start,  act_req_restart, nop },
[S_STOPPED]    = { nop,       nop,       nop,              nop,         nop,           nop,      nop,      nop,        nop,         nop,            act_req_start,  act_req_restart, nop },
[S_DONE]       = { nop,       nop,       nop,              nop,         nop,           nop,      nop,      nop,        nop,         nop,            act_req_start,  act_req_restart, nop },
[S_DISABLED]   = { nop,       nop,       nop,              nop,         nop,           nop,      nop,      nop,        nop,         nop,            act_req_start,  act_req_restart, nop },
};
/* clang-format on */

void svc_event(struct svc *s, enum svc_event ev)
{
	svc_action *a;

	if (s->state >= S_NSTATES || ev >= E_NEVENTS)
		return;
	a = fsm[s->state][ev];
	if (a == nop)
		return;
	a(s);
	svc_changed(s); /* what an action changes is published */
	s->sv->progress_due = true;
}

const char *svc_request(struct svc *s, enum svc_event ev, const char *by)
{
	if (ev != E_REQ_STOP && ev != E_REQ_START && ev != E_REQ_RESTART)
		return "not a request";
	if (s->sv->shutting_down || s->sv->shutdown_why)
		return "hfinit is stopping";
	s->req_by = by;
	log_info("[%s] %s requested (%s)", s->name,
		 ev == E_REQ_STOP    ? "stop"
		 : ev == E_REQ_START ? "start"
				     : "restart",
		 by);
	svc_event(s, ev);
	return NULL;
}
