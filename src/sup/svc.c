/* A service's side in the world: the ops of the life cycle table (fsm.c):
 * spawn with its pipes, the process group's signals, the timers, the
 * leftovers of earlier runs; and the callbacks that turn the loop's timers
 * and a reaped main process into events. */
#include "sup/sv.h"

#include "base/log.h"
#include "base/redact.h"
#include "base/signame.h"
#include "run/leftover.h"
#include "run/spawn.h"
#include "sup/classify.h"
#include "sup/oom.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------- */
/* helpers */

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
	vsnprintf(s->error.msg, SVC_ERROR_MAX, fmt, ap);
	va_end(ap);
	redact_str(s->error.msg, SVC_ERROR_MAX);
	if (category) {
		s->error.category = category;
		snprintf(s->error.hint, sizeof(s->error.hint), "%s", hint ? hint : "");
	}
	svc_changed(s);
}

/* The child set-up of everything run on the service's behalf (the service
 * itself and its exec probes), built by the planner (docs/sandbox.md): the
 * caller adds stdio, and the service its environment and fd:N pipe. */
int svc_spawn_req(struct svc *s, struct spawn_req *r, struct err *e)
{
	*r = s->p->spawn;
	/* Compiled at start-up by the planner: never start without it. */
	if (s->p->seccomp_name && !s->p->seccomp)
		return err_set(e, ENOENT, "seccomp profile %s was not compiled",
			       s->p->seccomp_name);
	r->sigmask = s->sv->orig_mask;
	return 0;
}

/* ------------------------------------------------------------------------- */
/* life cycle */

int make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		(void)close(p[0]);
		(void)close(p[1]);
		p[0] = p[1] = -1; /* the caller closes what is >= 0 */
		return -1;
	}
	return 0;
}

/* The service's environment: the plan's, less an inherited marker, plus
 * HFINIT_SERVICE=NAME (what finds a run's leftovers) and, for notify,
 * NOTIFY_SOCKET, and with watchdog = WATCHDOG_USEC and WATCHDOG_PID (its
 * value written by the child: r->pid_at). The added strings live in extra;
 * free() the array only. */
static char **svc_environment(struct svc *s, char *const *envp, char extra[4][160],
			      struct spawn_req *r)
{
	size_t n = strv_len(envp), k = 0, vl = strlen(LEFTOVER_VAR);
	char **v = calloc(n + 5, sizeof(*v));

	if (!v)
		return NULL;
	/* First: read from the start of /proc/PID/environ (leftover_signal). */
	snprintf(extra[0], sizeof(extra[0]), "%s=%s", LEFTOVER_VAR, s->name);
	v[k++] = extra[0];
	for (size_t i = 0; i < n; i++)
		if (!(strncmp(envp[i], LEFTOVER_VAR, vl) == 0 && envp[i][vl] == '='))
			v[k++] = envp[i];
	if (s->pol->ready.spec->kind == PROBE_NOTIFY) {
		snprintf(extra[1], sizeof(extra[1]), "NOTIFY_SOCKET=%s", s->notify_addr);
		v[k++] = extra[1];
	}
	if (s->pol->watchdog_ns) {
		snprintf(extra[2], sizeof(extra[2]), "WATCHDOG_USEC=%lld",
			 (long long)(s->pol->watchdog_ns / 1000));
		strcpy(extra[3], "WATCHDOG_PID=");
		r->pid_at = extra[3] + 13;
		v[k++] = extra[2];
		v[k++] = extra[3];
	}
	v[k] = NULL;
	return v;
}

/* The children hfinit tracks, sorted: every running main process and probe
 * (an exec probe or exec: condition). *n of them; NULL when out of memory
 * (leftover_signal then reads all of /proc). */
static pid_t *tracked_pids(const struct sv *sv, size_t *n)
{
	pid_t *v = malloc((2 * sv->n + 1) * sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < sv->n; i++) {
		if (sv->svcs[i].running && sv->svcs[i].pid > 0)
			v[(*n)++] = sv->svcs[i].pid;
		if (sv->svcs[i].probe_pid > 0)
			v[(*n)++] = sv->svcs[i].probe_pid;
	}
	qsort(v, *n, sizeof(*v), leftover_pid_cmp);
	return v;
}

/* What an earlier run left outside its process group (docs/supervise.md):
 * stop_signal when the run is over, SIGKILL to what is left at the next
 * start. */
static void stop_leftovers(struct svc *s, int sig)
{
	pid_t first;
	size_t nt;
	pid_t *tracked = tracked_pids(s->sv, &nt);
	int n = leftover_signal(s->name, sig, tracked, nt, &first, 1);

	if (n > 0 && sig != SIGKILL)
		(void)leftover_signal(s->name, SIGCONT, tracked, nt, NULL, 0);
	free(tracked);
	if (n <= 0)
		return;
	log_warn("[%s] SIG%s to %d process%s an earlier run left outside its process group "
		 "(pid %d%s)",
		 s->name, signame(sig) ? signame(sig) : "?", n, n == 1 ? "" : "es", (int)first,
		 n > 1 ? " and more" : "");
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			(void)close(p[i]);
	p[0] = p[1] = -1;
}

/* Spawn failed: its category (setup steps are not retried), the wait status
 * a shell would report. */
static void spawn_failed(struct svc *s, int hint, const struct err *e)
{
	struct err d;
	char text[64];

	if (hint == SPAWN_HINT_SETUP) {
		s->setup_failed = true;
		hint = 1;
	}
	bool diag = describe_exit(hint << 8, false, NULL, text, sizeof(text), &d);
	set_error(s, diag ? d.category : "spawn", diag ? d.hint : NULL, "%s", e->msg);
	s->has_exit = true;
	s->last_status = hint << 8;
}

/* The main process: pipes for stdout and stderr (fd:N: a third one), the
 * spawn request with the service's environment, the watches. 0, or -1 with
 * last_error set and nothing left open. */
static int op_spawn(struct svc *s)
{
	struct sv *sv = s->sv;
	struct spawn_req r;
	struct err e;
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, pf[2] = {-1, -1};
	int hint, rc = -1;
	pid_t pid;
	char **envcopy = NULL;
	char extra[4][160] = {"", ""};

	if (make_pipe(po) < 0 || make_pipe(pe) < 0) {
		set_error(s, "spawn", NULL, "pipe: %s", strerror(errno));
		goto out;
	}
	if (svc_spawn_req(s, &r, &e) < 0) {
		set_error(s, "seccomp", NULL, "%s", e.msg);
		goto out;
	}
	envcopy = svc_environment(s, s->p->envp, extra, &r);
	if (!envcopy) {
		set_error(s, "spawn", NULL, "out of memory");
		goto out;
	}
	if (s->pol->ready.spec->kind == PROBE_FD) {
		if (make_pipe(pf) < 0) {
			set_error(s, "spawn", NULL, "pipe: %s", strerror(errno));
			goto out;
		}
		r.extra_fd = pf[1];
		r.extra_fd_num = s->pol->ready.spec->fd;
	}
	r.envp = envcopy;
	r.stdout_fd = po[1];
	r.stderr_fd = pe[1];
	if (spawn(&r, &pid, &hint, &e) < 0) {
		spawn_failed(s, hint, &e);
		goto out;
	}
	(void)close(po[1]);
	(void)close(pe[1]);
	s->running = true;
	s->pid = s->pgid = pid;
	clock_gettime(CLOCK_REALTIME, &s->started_wall);
	s->ready_wall.tv_sec = 0;
	svc_changed(s);
	s->out.fd = po[0];
	s->err.fd = pe[0];
	po[0] = po[1] = pe[0] = pe[1] = -1;
	pipe_watch(sv, &s->out);
	pipe_watch(sv, &s->err);
	if (pf[1] >= 0) {
		(void)close(pf[1]);
		s->fdready_rd = pf[0];
		pf[0] = pf[1] = -1;
		(void)loop_watch_add(&sv->loop, &s->w_fdready, s->fdready_rd, EPOLLIN, on_fdready,
				     s);
	}
	rc = 0;
out:
	free(envcopy);
	close_pair(po);
	close_pair(pe);
	close_pair(pf);
	return rc;
}

static int64_t op_now(void)
{
	return mono_now_ns();
}

static void op_signal(struct svc *s, int sig)
{
	bool sent = s->pgid > 0 && kill(-s->pgid, sig) == 0;

	/* SIGKILL goes to the main process too: it may have left its group. */
	if (s->running && sig != SIGCONT && (!sent || sig == SIGKILL))
		(void)kill(s->pid, sig);
}

static struct loop_timer *timer_of(struct svc *s, enum svc_timer t)
{
	switch (t) {
	case T_READY:
		return &s->t_ready;
	case T_DELAY:
		return &s->t_delay;
	case T_KILL:
		return &s->t_kill;
	case T_WATCHDOG:
		return &s->t_watchdog;
	case T_PROBE:
		break;
	}
	return &s->t_probe;
}

static void op_arm(struct svc *s, enum svc_timer t, int64_t delay_ns)
{
	loop_timer_arm_in(&s->sv->loop, timer_of(s, t), delay_ns);
}

static void op_cancel(struct svc *s, enum svc_timer t)
{
	loop_timer_cancel(&s->sv->loop, timer_of(s, t));
}

static void op_release(struct svc *s)
{
	pipe_close_all(s);
	if (s->fdready_rd >= 0) {
		(void)loop_watch_del(&s->sv->loop, &s->w_fdready);
		(void)close(s->fdready_rd);
		s->fdready_rd = -1;
	}
}

const struct svc_ops svc_world_ops = {
    .now = op_now,
    .spawn = op_spawn,
    .up = svc_up,
    .signal = op_signal,
    .leftovers = stop_leftovers,
    .arm = op_arm,
    .cancel = op_cancel,
    .probe_stop = probe_stop,
    .release = op_release,
    .conditions = cond_check,
};

/* ------------------------------------------------------------------------- */
/* the callbacks: each turns one thing into an event */

void svc_ready(struct svc *s, const char *how)
{
	s->ready_how = how;
	svc_event(s, E_READY);
}

void on_ready_timeout(struct loop_timer *t, void *data)
{
	(void)t;
	svc_event(data, E_TIMEOUT);
}

void on_delay(struct loop_timer *t, void *data)
{
	(void)t;
	svc_event(data, E_START);
}

void on_kill(struct loop_timer *t, void *data)
{
	(void)t;
	svc_event(data, E_KILLTIME);
}

/* The main process was reaped: its last lines, the verdict (exit_text, the
 * diagnosis), then E_EXIT. */
void svc_exited(struct svc *s, int status)
{
	struct sv *sv = s->sv;

	s->running = false;
	s->pid = 0;
	s->has_exit = true;
	s->last_status = status;
	svc_changed(s);
	/* The last lines (a traceback) come before the verdict, and so does a
	 * newline on fd:N written before the exit (the reaper may run first). */
	if (s->out.fd >= 0)
		(void)pipe_drain(&s->out);
	if (s->err.fd >= 0)
		(void)pipe_drain(&s->err);
	if (s->fdready_rd >= 0)
		fdready_read(s);
	/* A SIGKILL hfinit did not send, while the cgroup's OOM count rose: the
	 * OOM killer. */
	bool oom = false;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && !s->killed) {
		long long now = oom_kills();
		oom = now >= 0 && sv->oom_kills >= 0 && now > sv->oom_kills;
		sv->oom_kills = now;
	}
	s->exit_has_diag = describe_exit(status, oom, s->p->seccomp_name, s->exit_text,
					 sizeof(s->exit_text), &s->exit_diag);
	svc_event(s, E_EXIT);
}
