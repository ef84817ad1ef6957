/* The supervisor: one state machine per service (fsm.c), driven by the
 * event loop. The loop's callbacks turn signals, reaped children, timers and
 * I/O into events; at the end of every turn sv_settle() takes what they asked
 * for: a shutdown, the stage gate, the next shutdown step; then one status
 * write. No function here is called back by what it calls.
 *
 * The PID-1 rule (docs/design.md, "PID-1 rules"): once a service was
 * spawned, hfinit leaves only through the shutdown path. When the loop
 * itself fails, the shutdown runs without it (sv_loop_failed), and the exit
 * code is 1. */
#include "sup/sv.h"

#include "base/log.h"
#include "base/redact.h"
#include "base/signame.h"
#include "run/pid1.h"
#include "sup/oom.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* hfinit's own lines go through the stderr sink, in order with the services'. */
static void log_to_sink(const char *line, size_t len, void *data)
{
	struct sv *sv = data;
	(void)sink_put(&sv->err_sink, line, len);
}

/* ------------------------------------------------------------------------- */
/* stages */

static bool anything_left(struct sv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct svc *s = &sv->svcs[i];
		if (s->state != S_STOPPED && s->state != S_FAILED && s->state != S_DONE &&
		    s->state != S_DISABLED)
			return true;
		if (s->stopped_by) /* a requested stop: a requested start may follow */
			return true;
		if (sv->ops->up(s))
			return true;
	}
	return false;
}

/* The stage gate: while the current stage is done, start the next one. */
static void sv_progress(struct sv *sv)
{
	while (!sv->all_started && stage_done(sv->svcs, sv->n, sv->stage)) {
		unsigned next = next_stage(sv->svcs, sv->n, sv->stage);
		int64_t el = (sv->ops->now() - sv->t0) / NS_PER_MS;
		if (sv->stage)
			log_info("stage %u done after %" PRId64 " ms", sv->stage, el);
		for (size_t k = 0; k < sv->nstages; k++)
			if (sv->stages[k].stage == sv->stage && sv->stages[k].ready_ms < 0)
				sv->stages[k].ready_ms = el;
		sv->dirty = true;
		if (next == 0) {
			sv->all_started = true;
			bool degraded = false;
			for (size_t i = 0; i < sv->n; i++)
				degraded |= sv->svcs[i].state == S_FAILED;
			log_info("all stages up after %" PRId64 " ms%s", el,
				 degraded ? " (degraded: an optional service failed)" : "");
			break;
		}
		sv->stage = next;
		log_info("stage %u: starting", next);
		for (size_t i = 0; i < sv->n; i++)
			if (sv->svcs[i].pol->stage == next && sv->svcs[i].state == S_PENDING)
				svc_event(&sv->svcs[i], E_START);
		if (sv->shutdown_why)
			break;
	}
	for (size_t i = 0; i < sv->n; i++)
		sv->svcs[i].became_ready = false;
	if (!sv->shutdown_why && !anything_left(sv)) {
		log_info("every service has ended");
		sv_request_shutdown(sv, "every service has ended");
	}
}

/* ------------------------------------------------------------------------- */
/* shutdown */

void sv_request_shutdown(struct sv *sv, const char *why)
{
	if (!sv->shutdown_why)
		sv->shutdown_why = why;
	sv->progress_due = true;
}

/* Signal what is left: as PID 1 every process, else our children (the
 * reparented orphans included). */
static void kill_children(struct sv *sv, int sig)
{
	(void)sv;
	if (pid1_signal_leftovers(sig, 0) < 0)
		log_errno(LOG_LVL_WARN, errno, "signalling leftover processes");
}

static void on_final_timer(struct loop_timer *t, void *data)
{
	struct sv *sv = data;
	(void)t;
	log_warn("processes left after the grace period: sending SIGKILL");
	sv->final_killed = true;
	kill_children(sv, SIGKILL);
}

static bool have_children(void)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return !(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD);
}

static void shutdown_step(struct sv *sv)
{
	/* The highest stage that still has processes goes first (stages[] holds
	 * the distinct stage numbers in ascending order). */
	for (size_t k = sv->nstages; k-- > 0;) {
		unsigned stage = sv->stages[k].stage;
		bool any = false;
		for (size_t i = 0; i < sv->n; i++) {
			struct svc *s = &sv->svcs[i];
			if (s->pol->stage != stage || !sv->ops->up(s))
				continue;
			any = true;
			if (s->after != AFTER_STOP && s->after != AFTER_FAIL)
				svc_event(s, E_STOP);
		}
		if (any)
			return;
	}
	if (sv->final_phase)
		return;
	sv->final_phase = true;
	/* Whatever is left escaped its service's group: TERM, then KILL. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
		kill_children(sv, SIGTERM);
		kill_children(sv, SIGCONT);
		loop_timer_arm_in(&sv->loop, &sv->t_final, sv->stop_timeout_ns);
	}
}

static void sv_check_final(struct sv *sv)
{
	shutdown_step(sv);
	if (!sv->final_phase)
		return;
	/* Done when no child of ours is left. */
	if (!have_children()) {
		loop_stop(&sv->loop);
		return;
	}
	/* Not PID 1, a SIGKILLed leftover's own orphans come to us only now (a
	 * chain of escapes ignoring SIGTERM): they get SIGKILL too, or hfinit would
	 * wait for them for ever. */
	if (sv->final_killed)
		kill_children(sv, SIGKILL);
}

static void sv_shutdown(struct sv *sv, const char *why)
{
	sv->shutting_down = true;
	sv->dirty = true;
	log_info("stopping: %s", why);
	for (size_t i = 0; i < sv->n; i++)
		svc_event(&sv->svcs[i], E_SHUTDOWN);
}

/* The end of a loop turn: what its events asked for, until nothing more is
 * asked (a start may fail at once, a stop may find nothing to wait for). */
void sv_settle(struct sv *sv)
{
	while (sv->progress_due) {
		sv->progress_due = false;
		if (sv->shutdown_why && !sv->shutting_down)
			sv_shutdown(sv, sv->shutdown_why);
		if (sv->shutting_down)
			sv_check_final(sv);
		else
			sv_progress(sv);
	}
}

/* ------------------------------------------------------------------------- */
/* signals and reaping */

static struct svc *svc_by_pid(struct sv *sv, pid_t pid, bool *probe)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (sv->svcs[i].pid == pid && sv->svcs[i].running) {
			*probe = false;
			return &sv->svcs[i];
		}
		if (sv->svcs[i].probe_pid == pid) {
			*probe = true;
			return &sv->svcs[i];
		}
	}
	return NULL;
}

static void on_reaped(pid_t pid, int status, void *data)
{
	bool probe;
	struct svc *s = svc_by_pid(data, pid, &probe);

	if (!s)
		return; /* an orphan: reaped, nothing else to do */
	if (probe)
		on_probe_exit(s, status);
	else
		svc_exited(s, status);
}

static void reap(struct sv *sv)
{
	(void)pid1_reap(on_reaped, sv);
	for (size_t i = 0; i < sv->n; i++)
		if (!sv->stopping || sv->stopping[i]) /* S_STOPPING: the only E_GONE action */
			svc_event(&sv->svcs[i], E_GONE);
	sv->progress_due = true; /* the last child may be gone */
}

static void on_signal(const struct signalfd_siginfo *si, void *data)
{
	struct sv *sv = data;
	int sig = (int)si->ssi_signo;

	switch (sig) {
	case SIGCHLD:
		/* Datagrams queued before a child exited are read while it is still
		 * an unreaped zombie, so its group can be checked (STOPPING=1 from
		 * a main process that then exits). */
		for (size_t i = 0; i < sv->nnotifying; i++)
			on_notify(&sv->notifying[i]->w_notify, 0);
		reap(sv);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (sv->shutting_down || sv->shutdown_why) {
			log_info("SIG%s: already stopping", signame(sig));
			break;
		}
		snprintf(sv->why, sizeof(sv->why), "SIG%s", signame(sig));
		sv_request_shutdown(sv, sv->why);
		break;
	case SIGHUP:
	case SIGUSR1:
	case SIGUSR2:
	case SIGWINCH:
		for (size_t i = 0; i < sv->n; i++)
			if (sv->svcs[i].running)
				(void)kill(sv->svcs[i].pid, sig);
		break;
	default:
		break;
	}
	sinks_changed(sv);
}

/* The PID-1 rule when the event loop fails: the shutdown runs without it.
 * Each turn reaps and settles; every stop_timeout what is still up gets
 * SIGKILL. Returns once no child is left; the exit code is 1. */
void sv_loop_failed(struct sv *sv)
{
	int64_t deadline = sv->ops->now() + sv->stop_timeout_ns;
	const struct timespec tick = {0, 20 * NS_PER_MS};

	sv->exit_code = 1;
	sv_request_shutdown(sv, "the event loop failed");
	sv_settle(sv);
	while (!loop_stopped(&sv->loop)) {
		if (sv->ops->now() >= deadline) {
			for (size_t i = 0; i < sv->n; i++)
				svc_event(&sv->svcs[i], E_KILLTIME);
			if (sv->final_phase) {
				sv->final_killed = true;
				kill_children(sv, SIGKILL);
			}
			deadline = sv->ops->now() + sv->stop_timeout_ns;
		}
		(void)nanosleep(&tick, NULL);
		reap(sv);
		sv_settle(sv);
		sinks_changed(sv); /* the lines of this tick go out now */
	}
}

/* ------------------------------------------------------------------------- */
/* set-up and the loop */

/* A tcp/http probe whose address the planner could not resolve: nothing
 * starts (the error names the service). */
static int probe_unresolved(const struct plan_probe *pp, struct err *e)
{
	enum probe_kind k = pp->spec->kind;

	if ((k != PROBE_TCP && k != PROBE_HTTP) || pp->resolved)
		return 0;
	*e = pp->err;
	return -1;
}

static int svc_init(struct sv *sv, struct svc *s, const struct svc_plan *p, struct err *e)
{
	const struct svc_policy *pol = &p->policy;

	memset(s, 0, sizeof(*s));
	s->sv = sv;
	s->p = p;
	s->pol = pol;
	s->name = pol->name;
	s->out.s = s->err.s = s;
	s->out.fd = s->err.fd = -1;
	s->err.is_stderr = true;
	s->out.w.fd = s->err.w.fd = -1;
	s->w_notify.fd = s->w_fdready.fd = s->w_np.fd = -1;
	s->notify_fd = s->fdready_rd = -1;
	netprobe_init(&s->np);
	/* the exact values redacted from every line, status field and message */
	if (redact_add_env(p->envp) < 0)
		return err_set(e, ENOMEM, "service %s: out of memory", s->name);
	if (pol->log_prefix)
		snprintf(s->prefix, sizeof(s->prefix), "%s", pol->log_prefix);
	else
		snprintf(s->prefix, sizeof(s->prefix), "[%s] ", s->name);
	s->prefix_len = strlen(s->prefix);
	/* Bytes out per byte in, at most (an empty line): the prefix and newline,
	 * or the JSON frame with the escaped name; and the time stamp. */
	char tb[LOG_STAMP_LEN];
	size_t f = sv->plan->log_format == LOG_FMT_JSON ? 56 + 32 + 6 * strlen(s->name)
							: strlen(s->prefix) + 1 + log_stamp(tb);
	s->out.rmax = s->err.rmax =
	    (SINK_MAX - SINK_HIGH) / f < READ_CHUNK ? (SINK_MAX - SINK_HIGH) / f : READ_CHUNK;
	loop_timer_init(&s->t_ready, on_ready_timeout, s);
	loop_timer_init(&s->t_delay, on_delay, s);
	loop_timer_init(&s->t_kill, on_kill, s);
	loop_timer_init(&s->t_probe, on_probe_timer, s);
	loop_timer_init(&s->t_watchdog, on_watchdog, s);
	if (pol->restart_burst > 0) { /* health restarts count even with restart = no */
		s->restart_times = calloc(pol->restart_burst, sizeof(*s->restart_times));
		if (!s->restart_times)
			return err_set(e, ENOMEM, "service %s: out of memory", s->name);
	}
	if (pol->ready.spec->kind == PROBE_NOTIFY) {
		s->notify_fd =
		    notify_socket_open(s->name, s->notify_addr, sizeof(s->notify_addr), e);
		if (s->notify_fd < 0)
			return -1;
		if (loop_watch_add(&sv->loop, &s->w_notify, s->notify_fd, EPOLLIN, on_notify, s) <
		    0)
			return err_sys(e, "epoll");
	}
	/* Each probe has its own address: health may watch another port. */
	if (probe_unresolved(&pol->ready, e) < 0 || probe_unresolved(&pol->health, e) < 0)
		return -1;
	return 0;
}

/* Everything before the first spawn: the loop, the sinks, the services'
 * sockets and timers, the status set-up. -1 (logged): hfinit may still bail. */
static int sv_setup(struct sv *sv, const struct plan *plan, struct status_writer *status,
		    const struct pid1_signals *sigs)
{
	struct err e;

	memset(sv, 0, sizeof(*sv));
	sv->ops = &svc_world_ops;
	sv->stop_timeout_ns = plan->stop_timeout_ns;
	sv->oom_kills = oom_kills();
	sv->plan = plan;
	sv->status = status;
	clock_gettime(CLOCK_REALTIME, &sv->started_wall);
	sv->orig_mask = &sigs->orig_mask;
	sv->pid1 = getpid() == 1;
	sv->t0 = mono_now_ns();
	sv->w_out.fd = sv->w_err.fd = -1;
	sv->w_out.fn = sv->w_err.fn = on_sink_writable;
	sv->w_out.data = sv->w_err.data = sv;
	loop_timer_init(&sv->t_final, on_final_timer, sv);
	if (loop_init(&sv->loop, &sigs->blocked, on_signal, sv, &e) < 0) {
		log_error("%s", e.msg);
		return -1;
	}
	sv->readbuf = malloc(READ_CHUNK);
	sv->svcs = calloc(plan->nsvcs ? plan->nsvcs : 1, sizeof(*sv->svcs));
	if (!sv->readbuf || !sv->svcs || sink_init(&sv->out_sink, STDOUT_FILENO, SINK_CAP) < 0 ||
	    sink_init(&sv->err_sink, STDERR_FILENO, SINK_CAP) < 0) {
		log_errno(LOG_LVL_ERROR, errno, "cannot set up output");
		return -1;
	}
	sv->out_sink.max = sv->err_sink.max = SINK_MAX;
	sink_share(&sv->out_sink, &sv->err_sink); /* 2>&1: no line cut by the other stream */
	sv->out_sink.json = sv->err_sink.json = plan->log_format == LOG_FMT_JSON;
	sv->n = plan->nsvcs;
	sv->stopping = calloc(sv->n ? sv->n : 1, 1);
	sv->notifying = calloc(sv->n ? sv->n : 1, sizeof(*sv->notifying));
	if (!sv->stopping || !sv->notifying) {
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < sv->n; i++) {
		if (svc_init(sv, &sv->svcs[i], &plan->svcs[i], &e) < 0) {
			log_error("%s", e.msg);
			return -1;
		}
		if (sv->svcs[i].notify_fd >= 0)
			sv->notifying[sv->nnotifying++] = &sv->svcs[i];
	}
	devwatch_setup(sv);
	if (status_setup(sv) < 0) {
		log_errno(LOG_LVL_ERROR, errno, "cannot set up status");
		return -1;
	}
	if (control_open(sv) < 0) {
		log_errno(LOG_LVL_ERROR, errno, "cannot set up the control socket");
		return -1;
	}
	return 0;
}

/* The loop: one turn, then what it asked for, then one status write. */
static void sv_run(struct sv *sv)
{
	sv->progress_due = true;
	sv_settle(sv);
	/* What the first stage did is in status.json and the log before the
	 * first event. */
	if (sv->dirty)
		publish(sv, NULL);
	sinks_changed(sv);
	while (!loop_stopped(&sv->loop)) {
		if (loop_run_once(&sv->loop) < 0 && errno != EINTR) {
			log_errno(LOG_LVL_ERROR, errno, "event loop");
			sv_loop_failed(sv);
			break;
		}
		sv_settle(sv);
		/* One status write per turn, after the turn's last change. */
		if (sv->dirty)
			publish(sv, NULL);
		/* The requests this turn decided: answered once status.json says so. */
		control_settle(sv);
		/* The turn's lines go out after its status write: a reader that saw
		 * "all stages up" (or any other line) finds status.json saying so. */
		sinks_changed(sv);
	}
}

/* The last lines, the final status, and everything freed. */
static void sv_finish(struct sv *sv)
{
	int code = sv->exit_code;

	control_close(sv);
	for (size_t i = 0; i < sv->n; i++)
		notify_flush(&sv->svcs[i]);
	/* What is still buffered gets DRAIN_MS in all (fd 2 itself may block: the
	 * last lines go through the sink too); what is cut is counted and
	 * reported, before the final status. */
	long long end = sink_now_ms() + DRAIN_MS;
	sink_drain(&sv->out_sink, end - 200, "not written within 5 s at exit");
	sink_drain(&sv->err_sink, end - 200, "not written within 5 s at exit");
	report_dropped(sv);
	publish(sv, code == 0 ? "stopped" : "failed");
	status_teardown(sv);
	log_info("stopped, exit %d", code);
	sink_drain(&sv->err_sink, end, "not written within 5 s at exit");
	log_set_writer(NULL, NULL);
	for (size_t i = 0; i < sv->nnotifying; i++)
		(void)close(sv->notifying[i]->notify_fd);
	devwatch_teardown(sv);
	loop_fini(&sv->loop);
	if (sv->out_sink.fd != STDOUT_FILENO)
		(void)close(sv->out_sink.fd);
	if (sv->err_sink.fd != STDERR_FILENO)
		(void)close(sv->err_sink.fd);
	sink_free(&sv->out_sink);
	sink_free(&sv->err_sink);
	free(sv->readbuf);
	for (size_t i = 0; i < sv->n; i++)
		free(sv->svcs[i].restart_times);
	free(sv->svcs);
	free(sv->stopping);
	free(sv->notifying);
}

int supervise(const struct plan *plan, struct status_writer *status,
	      const struct pid1_signals *sigs)
{
	struct sv sv;
	int code;

	if (sv_setup(&sv, plan, status, sigs) < 0)
		return 1;
	log_set_writer(log_to_sink, &sv);
	log_info("supervising %zu service(s) in %u stage(s)%s", sv.n, plan->max_stage,
		 sv.pid1 ? " as PID 1" : "");
	/* From the first spawn on, hfinit leaves only through the shutdown. */
	sv_run(&sv);
	code = sv.exit_code;
	sv_finish(&sv);
	return code;
}
