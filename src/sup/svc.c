/* One service's life cycle: start, readiness, teardown and kill timer, what
 * comes after it is down (retry, restart, fail, stop), and its exit. */
#include "sup/sv.h"

#include "sup/classify.h"
#include "base/json.h"
#include "run/landlock.h"
#include "run/leftover.h"
#include "base/log.h"
#include "run/loop.h"
#include "sup/oom.h"
#include "run/sink.h"
#include "run/pid1.h"
#include "sup/portown.h"
#include "run/netprobe.h"
#include "run/notify.h"
#include "base/redact.h"
#include "plan/sandbox.h"
#include "base/signame.h"
#include "run/spawn.h"
#include "status/status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------- */
/* helpers */

int64_t ms_ns(uint64_t ms)
{
	return (int64_t)ms * NS_PER_MS;
}

static void fmt_ms(char *buf, size_t n, uint64_t ms)
{
	if (ms % 60000 == 0 && ms >= 60000)
		snprintf(buf, n, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0 && ms >= 1000)
		snprintf(buf, n, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, n, "%" PRIu64 "ms", ms);
}

static bool group_alive(struct svc *s)
{
	if (s->pgid <= 0)
		return false;
	if (kill(-s->pgid, 0) == 0 || errno == EPERM)
		return true;
	return false;
}

bool svc_up(struct svc *s)
{
	return s->running || group_alive(s);
}

void set_error(struct svc *s, const char *category, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	va_end(ap);
	redact_str(s->last_error, sizeof(s->last_error));
	if (category) {
		s->err_category = category;
		snprintf(s->err_hint, sizeof(s->err_hint), "%s", hint ? hint : "");
	}
}

/* The child set-up of everything run on the service's behalf (the service
 * itself and its exec probes): environment, workdir, signal mask, user and
 * groups, umask, rlimits, oom_score_adj, and for a filtered service
 * no_new_privs, a Landlock domain of its own and the seccomp filter
 * (docs/sandbox.md). The caller sets file, argv and stdio. */
int svc_spawn_req(struct svc *s, struct spawn_req *r, struct err *e)
{
	plan_spawn_setup(s->p, r);
	if (s->c->seccomp) {
		/* Compiled at start-up (sandbox_compile): never start without it. */
		const struct sandbox_profile *sp = sandbox_find(s->sv->sandbox, s->c->seccomp);
		if (!sp)
			return err_set(e, ENOENT, "seccomp profile %s was not compiled",
				       s->c->seccomp);
		r->seccomp = &sp->prog;
		r->landlock_abi = landlock_abi(NULL);
		/* The notify socket is abstract and hfinit's: see docs/sandbox.md. */
		r->landlock_abstract = s->c->ready.kind != PROBE_NOTIFY;
	}
	r->sigmask = s->sv->orig_mask;
	return 0;
}
/* ------------------------------------------------------------------------- */
/* life cycle */

void svc_set_state(struct svc *s, enum svc_state st)
{
	s->state = st;
	s->sv->dirty = true;
}

void svc_ready(struct svc *s, const char *how)
{
	int64_t now = mono_now_ns();

	if (s->state != ST_STARTING)
		return;
	loop_timer_cancel(&s->sv->loop, &s->t_ready);
	probe_stop(s);
	svc_set_state(s, ST_READY);
	s->ready_ns = now;
	s->ready_ms = (now - s->started_ns) / NS_PER_MS;
	clock_gettime(CLOCK_REALTIME, &s->ready_wall);
	log_info("[%s] ready in %" PRId64 " ms (%s), attempt %u", s->name, s->ready_ms, how,
		 s->attempt);
	if (s->c->health.kind != PROBE_NONE) {
		s->health_active = true;
		s->health_fail = 0;
		probe_next(s, ms_ns(s->c->health_interval_ms));
	}
	sv_progress(s->sv);
}

static int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	return 0;
}

static void attempt_failed(struct svc *s)
{
	char delay[32];

	if (s->setup_failed) {
		log_error(
		    "[%s] attempt %u of %u failed: %s; not retried (it would fail the same way)",
		    s->name, s->attempt, s->c->retries, s->last_error);
		teardown(s, AFTER_FAIL);
		return;
	}
	if (s->attempt < s->c->retries) {
		fmt_ms(delay, sizeof(delay), s->c->retry_delay_ms);
		log_warn("[%s] attempt %u of %u failed: %s; next attempt in %s", s->name,
			 s->attempt, s->c->retries, s->last_error, delay);
		teardown(s, AFTER_RETRY);
		return;
	}
	log_error("[%s] attempt %u of %u failed: %s; no attempts left", s->name, s->attempt,
		  s->c->retries, s->last_error);
	teardown(s, AFTER_FAIL);
}

void on_ready_timeout(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	char d[32];
	(void)t;
	if (s->state != ST_STARTING)
		return;
	fmt_ms(d, sizeof(d), s->c->ready_timeout_ms);
	probe_stop(s);
	if (s->port_taken) {
		set_error(s, "port-in-use", PORT_HINT, "not ready within %s: %s", d, s->port_msg);
		attempt_failed(s);
		return;
	}
	set_error(s, "ready-timeout",
		  "the service did not signal readiness in time: check its ready = setting and "
		  "its log, or raise ready_timeout",
		  "not ready within %s (ready = %s)", d, s->c->ready.spec);
	attempt_failed(s);
}

/* The service's environment: the plan's, less an inherited marker, plus
 * HFINIT_SERVICE=NAME (what finds a run's leftovers) and, for notify,
 * NOTIFY_SOCKET. The added strings live in extra; free() the array only. */
static char **svc_environment(struct svc *s, char *const *envp, char extra[2][160])
{
	size_t n = strv_len(envp), k = 0, vl = strlen(LEFTOVER_VAR);
	char **v = calloc(n + 3, sizeof(*v));

	if (!v)
		return NULL;
	/* First: read from the start of /proc/PID/environ (leftover_signal). */
	snprintf(extra[0], sizeof(extra[0]), "%s=%s", LEFTOVER_VAR, s->name);
	v[k++] = extra[0];
	for (size_t i = 0; i < n; i++)
		if (!(strncmp(envp[i], LEFTOVER_VAR, vl) == 0 && envp[i][vl] == '='))
			v[k++] = envp[i];
	if (s->c->ready.kind == PROBE_NOTIFY) {
		snprintf(extra[1], sizeof(extra[1]), "NOTIFY_SOCKET=%s", s->notify_addr);
		v[k++] = extra[1];
	}
	v[k] = NULL;
	return v;
}

/* What an earlier run left outside its process group (docs/supervise.md):
 * stop_signal when the run is over, SIGKILL to what is left at the next
 * start. */
static void stop_leftovers(struct svc *s, int sig)
{
	pid_t first;
	int n = leftover_signal(s->name, sig, &first, 1);

	if (n <= 0)
		return;
	if (sig != SIGKILL)
		(void)leftover_signal(s->name, SIGCONT, NULL, 0);
	log_warn("[%s] SIG%s to %d process%s an earlier run left outside its process group "
		 "(pid %d%s)",
		 s->name, signame(sig) ? signame(sig) : "?", n, n == 1 ? "" : "es", (int)first,
		 n > 1 ? " and more" : "");
}

void svc_start(struct svc *s)
{
	struct sv *sv = s->sv;
	struct spawn_req r;
	struct err e;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, pf[2] = {-1, -1};
	int hint;
	pid_t pid;
	char **envp = s->p->envp;
	char **envcopy = NULL;
	char extra[2][160] = {"", ""};

	if (sv->shutting_down)
		return;
	if (s->started_before)
		stop_leftovers(s, SIGKILL);
	s->started_before = true;
	s->attempt++;
	svc_set_state(s, ST_STARTING);
	s->has_exit = false;
	s->error_line = false;
	s->port_taken = false;
	s->started_ns = mono_now_ns();
	s->ready_ns = 0;
	s->killed = false;
	s->setup_failed = false;
	s->after = AFTER_NONE;

	if (s->p->error) { /* found by the planner: cannot be set up */
		set_error(s, "setup", s->p->hint, "%s", s->p->error);
		s->setup_failed = true;
		goto failed;
	}
	if (make_pipe(po) < 0 || make_pipe(pe) < 0) {
		set_error(s, "spawn", NULL, "pipe: %s", strerror(errno));
		goto failed;
	}
	if (svc_spawn_req(s, &r, &e) < 0) {
		set_error(s, "seccomp", NULL, "%s", e.msg);
		goto failed;
	}
	envcopy = svc_environment(s, envp, extra);
	if (!envcopy) {
		set_error(s, "spawn", NULL, "out of memory");
		goto failed;
	}
	envp = envcopy;
	if (s->c->ready.kind == PROBE_FD) {
		if (make_pipe(pf) < 0) {
			set_error(s, "spawn", NULL, "pipe: %s", strerror(errno));
			goto failed;
		}
		r.extra_fd = pf[1];
		r.extra_fd_num = s->c->ready.fd;
	}
	r.file = s->p->file;
	r.argv = s->p->argv;
	r.envp = envp;
	r.stdout_fd = po[1];
	r.stderr_fd = pe[1];
	if (spawn(&r, &pid, &hint, &e) < 0) {
		struct diagnosis d;
		char text[64];
		if (hint == SPAWN_HINT_SETUP) {
			s->setup_failed = true;
			hint = 1;
		}
		bool diag = describe_exit(hint << 8, false, NULL, text, sizeof(text), &d);
		set_error(s, diag ? d.category : "spawn", diag ? d.hint : NULL, "%s", e.msg);
		s->has_exit = true;
		s->last_status = hint << 8;
		free(envcopy);
		(void)close(po[1]);
		(void)close(pe[1]);
		po[1] = pe[1] = -1;
		if (pf[1] >= 0)
			(void)close(pf[1]);
		pf[1] = -1;
		/* Keep the read ends: nothing was written, they close at teardown. */
		goto failed;
	}
	free(envcopy);
	(void)close(po[1]);
	(void)close(pe[1]);
	s->running = true;
	s->pid = s->pgid = pid;
	clock_gettime(CLOCK_REALTIME, &s->started_wall);
	s->ready_wall.tv_sec = 0;
	sv->dirty = true;
	s->out.fd = po[0];
	s->err.fd = pe[0];
	pipe_watch(sv, &s->out);
	pipe_watch(sv, &s->err);
	if (pf[1] >= 0) {
		(void)close(pf[1]);
		s->fdready_rd = pf[0];
		(void)loop_watch_add(&sv->loop, &s->w_fdready, pf[0], EPOLLIN, on_fdready, s);
	}
	log_info("[%s] started pid %d (attempt %u of %u)", s->name, (int)pid, s->attempt,
		 s->c->retries);
	loop_timer_arm_in(&sv->loop, &s->t_ready, ms_ns(s->c->ready_timeout_ms));
	switch (s->c->ready.kind) {
	case PROBE_STARTED:
		svc_ready(s, "started");
		break;
	case PROBE_TCP:
	case PROBE_HTTP:
	case PROBE_FILE:
	case PROBE_EXEC:
		s->health_active = false;
		probe_begin(s);
		break;
	default:
		break; /* line, regex, notify, fd: event-driven */
	}
	return;

failed:
	if (po[0] >= 0)
		(void)close(po[0]);
	if (po[1] >= 0)
		(void)close(po[1]);
	if (pe[0] >= 0)
		(void)close(pe[0]);
	if (pe[1] >= 0)
		(void)close(pe[1]);
	if (pf[0] >= 0)
		(void)close(pf[0]);
	if (pf[1] >= 0)
		(void)close(pf[1]);
	log_error("[%s] cannot start: %s", s->name, s->last_error);
	if (s->err_hint[0])
		log_info("[%s] hint: %s", s->name, s->err_hint);
	attempt_failed(s);
}

void on_delay(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	(void)t;
	if (s->state == ST_RETRYING || s->state == ST_RESTARTING)
		svc_start(s);
}

void on_kill(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	char d[32];
	(void)t;
	if (!svc_up(s))
		return;
	fmt_ms(d, sizeof(d), s->c->stop_timeout_ms);
	log_warn("[%s] still running %s after SIG%s: sending SIGKILL", s->name, d,
		 signame(s->c->stop_signal) ? signame(s->c->stop_signal) : "?");
	s->killed = true;
	(void)kill(-s->pgid, SIGKILL);
	if (s->running)
		(void)kill(s->pid, SIGKILL);
}

/* The processes are gone: take the step the teardown was for. */
static void down(struct svc *s)
{
	struct sv *sv = s->sv;
	enum after a = s->after;
	char d[32];

	loop_timer_cancel(&sv->loop, &s->t_kill);
	probe_stop(s);
	pipe_close_all(s);
	if (s->fdready_rd >= 0) {
		(void)loop_watch_del(&sv->loop, &s->w_fdready);
		(void)close(s->fdready_rd);
		s->fdready_rd = -1;
	}
	s->pgid = 0;
	s->after = AFTER_NONE;
	switch (a) {
	case AFTER_RETRY:
		if (sv->shutting_down)
			goto stopped;
		stop_leftovers(s, s->c->stop_signal);
		svc_set_state(s, ST_RETRYING);
		loop_timer_arm_in(&sv->loop, &s->t_delay, ms_ns(s->c->retry_delay_ms));
		break;
	case AFTER_RESTART:
		if (sv->shutting_down)
			goto stopped;
		stop_leftovers(s, s->c->stop_signal);
		svc_set_state(s, ST_RESTARTING);
		fmt_ms(d, sizeof(d), s->backoff_ms);
		log_info("[%s] restarting in %s (restart %u)", s->name, d, s->restarts);
		loop_timer_arm_in(&sv->loop, &s->t_delay, ms_ns(s->backoff_ms));
		break;
	case AFTER_FAIL:
		svc_set_state(s, ST_FAILED);
		if (sv->shutting_down)
			break;
		if (s->c->required) {
			log_error("[%s] required service failed: stopping everything", s->name);
			sv->exit_code = 1;
			sv_shutdown(sv, "a required service failed");
		} else {
			log_warn("[%s] optional service failed: continuing degraded", s->name);
		}
		break;
	case AFTER_STOP:
	stopped:
		if (s->state != ST_FAILED)
			svc_set_state(s, ST_STOPPED);
		break;
	case AFTER_NONE:
		break;
	}
	sv_progress(sv);
	sv_check_final(sv);
}

void check_down(struct svc *s)
{
	if (s->after != AFTER_NONE && !svc_up(s))
		down(s);
}

void teardown(struct svc *s, enum after after)
{
	loop_timer_cancel(&s->sv->loop, &s->t_ready);
	probe_stop(s);
	s->health_active = false;
	if (s->after != AFTER_NONE) {
		/* Already on the way down: a shutdown overrides the next step. */
		if (after == AFTER_STOP || after == AFTER_FAIL)
			s->after = after;
		return;
	}
	s->after = after;
	if (!svc_up(s)) {
		down(s);
		return;
	}
	if (kill(-s->pgid, s->c->stop_signal) < 0 && s->running)
		(void)kill(s->pid, s->c->stop_signal);
	/* A stopped process would never see the signal. */
	(void)kill(-s->pgid, SIGCONT);
	loop_timer_arm_in(&s->sv->loop, &s->t_kill, ms_ns(s->c->stop_timeout_ms));
}

void restart_after_failure(struct svc *s)
{
	struct sv *sv = s->sv;
	int64_t now = mono_now_ns();
	int64_t window = ms_ns(s->c->restart_window_ms);
	unsigned burst = s->restart_times ? s->c->restart_burst : 0;
	unsigned k = 0;
	char d[32];

	/* Restarts within the window, oldest dropped. */
	for (unsigned i = 0; i < s->nrestart_times; i++)
		if (now - s->restart_times[i] < window)
			s->restart_times[k++] = s->restart_times[i];
	s->nrestart_times = k;
	if (burst == 0 || s->nrestart_times >= burst) {
		fmt_ms(d, sizeof(d), s->c->restart_window_ms);
		log_error("[%s] restarted %u times within %s: giving up", s->name,
			  s->nrestart_times, d);
		char keep[sizeof(s->last_error)];
		snprintf(keep, sizeof(keep), "%s", s->last_error); /* also the destination */
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
	if (s->backoff_ms == 0 || (s->ready_ns && now - s->ready_ns >= window))
		s->backoff_ms = s->c->restart_delay_ms;
	else if (s->backoff_ms * 2 <= s->c->restart_max_delay_ms)
		s->backoff_ms *= 2;
	else
		s->backoff_ms = s->c->restart_max_delay_ms;
	s->attempt = 0;
	(void)sv;
	teardown(s, AFTER_RESTART);
}

/* Exited 0 and not restarted: state stopped. */
static void svc_finished(struct svc *s, const char *text)
{
	log_info("[%s] %s: done (restart = %s)", s->name, text, restart_policy_name(s->c->restart));
	/* A finished service keeps what it left behind (a daemon): no kill, and
	 * its pipes stay open until the last writer closes them (closing the read
	 * ends would kill a daemon with SIGPIPE at its next log line). A stopped
	 * service is never started again, so nothing reuses them. */
	svc_set_state(s, ST_STOPPED);
	s->pgid = 0;
	sv_progress(s->sv);
	sv_check_final(s->sv);
}

/* last_error for an exit: what happened, then this attempt's own error line
 * (an earlier attempt's must not pile up); the category and hint stay. */
static void exit_error(struct svc *s, const char *text, const char *when)
{
	char keep[sizeof(s->last_error)];

	snprintf(keep, sizeof(keep), "%s", s->error_line ? s->last_error : ""); /* also the dest */
	set_error(s, NULL, NULL, "%s%s%s%.400s", text, when, keep[0] ? ": " : "", keep);
}

void on_main_exit(struct svc *s, int status)
{
	struct sv *sv = s->sv;
	char text[64];
	struct diagnosis d;
	bool diag;

	s->running = false;
	s->pid = 0;
	s->has_exit = true;
	s->last_status = status;
	sv->dirty = true;
	/* The last lines (a traceback) come before the verdict. */
	if (s->out.fd >= 0)
		(void)pipe_drain(&s->out);
	if (s->err.fd >= 0)
		(void)pipe_drain(&s->err);
	/* A SIGKILL hfinit did not send, while the cgroup's OOM count rose: the
	 * OOM killer. */
	bool oom = false;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !s->killed) {
		long long now = oom_kills();
		oom = now >= 0 && sv->oom_kills >= 0 && now > sv->oom_kills;
		sv->oom_kills = now;
	}
	diag = describe_exit(status, oom, s->c->seccomp, text, sizeof(text), &d);
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	if (s->after != AFTER_NONE) {
		/* Stopping on purpose: the exit is expected. */
		log_info("[%s] %s", s->name, text);
		check_down(s);
		return;
	}
	if (sv->shutting_down) {
		log_info("[%s] %s", s->name, text);
		teardown(s, AFTER_STOP);
		return;
	}
	if (diag && (!s->err_category || strcmp(d.category, "signal") != 0)) {
		s->err_category = d.category;
		snprintf(s->err_hint, sizeof(s->err_hint), "%s", d.hint);
	}
	if (diag)
		log_warn("[%s] %s: %s", s->name, d.category, d.hint);
	if (s->state == ST_STARTING) {
		exit_error(s, text, " before it was ready");
		attempt_failed(s);
		return;
	}
	/* After ready. */
	if (s->c->restart == RESTART_ALWAYS || (s->c->restart == RESTART_ON_FAILURE && !clean)) {
		if (clean)
			log_info("[%s] %s", s->name, text);
		else
			log_warn("[%s] %s", s->name, text);
		if (!clean)
			exit_error(s, text, "");
		restart_after_failure(s);
		return;
	}
	if (clean) {
		svc_finished(s, text);
		return;
	}
	log_error("[%s] %s (restart = no)", s->name, text);
	exit_error(s, text, "");
	teardown(s, AFTER_FAIL);
}
