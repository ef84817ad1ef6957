/* Readiness and health probes: tcp, http, file, exec, the notify socket and fd:N. */
#include "sup/sv.h"

#include "base/fmt.h"
#include "base/log.h"
#include "run/spawn.h"
#include "sup/portown.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void probe_next(struct svc *s, int64_t delay_ns);

#define WATCHDOG_HINT                                                                              \
	"the service stopped sending WATCHDOG=1 (stuck, or too slow for watchdog =): see its log"

/* ------------------------------------------------------------------------- */
/* probes: tcp, http, file, exec (readiness while starting, health once ready) */

/* The probe running now: health once ready, else readiness. */
static const struct plan_probe *cur_plan_probe(struct svc *s)
{
	return s->health_active ? &s->pol->health : &s->pol->ready;
}

static const struct probe *cur_probe(struct svc *s)
{
	return cur_plan_probe(s)->spec;
}

void probe_kill(struct svc *s)
{
	/* The probe (or exec: condition) runs in its own session: its whole
	 * group goes (a shell's children too), reaped by the reaper, result
	 * ignored. */
	if (s->probe_pid > 0 && kill(-s->probe_pid, SIGKILL) < 0)
		(void)kill(s->probe_pid, SIGKILL);
	s->probe_pid = 0;
}

void probe_stop(struct svc *s)
{
	loop_timer_cancel(&s->sv->loop, &s->t_probe);
	if (s->w_np.fd >= 0)
		(void)loop_watch_del(&s->sv->loop, &s->w_np);
	netprobe_close(&s->np);
	probe_kill(s);
	s->probing = false;
	cond_stop(s);
}

/* A tcp:/http: probe that connected counts only when the listener belongs to
 * the service's session (portown.c; docs/supervise.md). false with
 * s->port_msg set when another process holds it; true (warned once) when
 * that cannot be told. */
static bool port_owned(struct svc *s, const struct probe *p)
{
	const struct sockaddr_storage *sa = &cur_plan_probe(s)->sa;
	struct portown po;
	char port[80];

	switch (portown_check("/proc", sa, s->pgid, &po)) {
	case PORTOWN_OURS:
		return true;
	case PORTOWN_UNKNOWN:
		if (!s->portown_warned)
			log_warn("[%s] cannot tell whether %s reached the service's own listener "
				 "(%s): the probe counts as it is (warned once)",
				 s->name, p->spec, po.why);
		s->portown_warned = true;
		return true;
	case PORTOWN_FOREIGN:
		break;
	}
	if (p->host && strcmp(p->host, "127.0.0.1") != 0 && strcmp(p->host, "localhost") != 0)
		snprintf(port, sizeof(port), "%s:%d", p->host, p->port);
	else
		snprintf(port, sizeof(port), "%d", p->port);
	if (po.holder > 0 && po.cmd[0])
		snprintf(s->port_msg, sizeof(s->port_msg), "port %s is in use by pid %d (%s)", port,
			 (int)po.holder, po.cmd);
	else if (po.holder > 0)
		snprintf(s->port_msg, sizeof(s->port_msg), "port %s is in use by pid %d", port,
			 (int)po.holder);
	else
		snprintf(s->port_msg, sizeof(s->port_msg),
			 "port %s is in use by a process outside hfinit's view", port);
	return false;
}

static void probe_result(struct svc *s, bool ok, const char *why)
{
	const struct probe *p = cur_probe(s);

	if (ok && (p->kind == PROBE_TCP || p->kind == PROBE_HTTP) && !port_owned(s, p)) {
		ok = false;
		why = s->port_msg;
		if (!s->health_active && s->state == S_STARTING && !s->port_taken) {
			log_warn("[%s] %s: not ready", s->name, s->port_msg);
			set_error(s, "port-in-use", PORT_HINT, "%s", s->port_msg);
			svc_changed(s);
		}
		s->port_taken = !s->health_active;
	}
	if (s->w_np.fd >= 0)
		(void)loop_watch_del(&s->sv->loop, &s->w_np);
	netprobe_close(&s->np);
	s->probing = false;
	loop_timer_cancel(&s->sv->loop, &s->t_probe);
	if (!s->health_active) {
		if (s->state != S_STARTING)
			return;
		if (ok) {
			svc_ready(s, p->spec);
			return;
		}
		probe_next(s, s->sv->plan->probe_interval_ns);
		return;
	}
	if (s->state != S_READY)
		return;
	if (ok) {
		s->health_fail = 0;
		probe_next(s, s->pol->health_interval_ns);
		return;
	}
	s->health_fail++;
	log_warn("[%s] health check %s failed (%u of %u in a row)%s%s", s->name, p->spec,
		 s->health_fail, s->pol->health_failures, why ? ": " : "", why ? why : "");
	if (s->health_fail >= s->pol->health_failures) {
		set_error(s, "unhealthy", "the health probe failed repeatedly",
			  "health check %s failed %u times in a row", p->spec, s->health_fail);
		svc_event(s, E_UNHEALTHY);
		return;
	}
	probe_next(s, s->pol->health_interval_ns);
}

static void on_np(struct loop_watch *w, uint32_t ev)
{
	struct svc *s = w->data;
	int r = netprobe_step(&s->np, ev);

	if (r == NETPROBE_PENDING) {
		if (s->np.want != w->events)
			(void)loop_watch_mod(&s->sv->loop, w, s->np.want);
		return;
	}
	probe_result(s, r == NETPROBE_OK, s->np.why);
}

static void probe_begin(struct svc *s)
{
	const struct probe *p = cur_probe(s);
	struct stat st;
	int r;

	s->probing = true;
	switch (p->kind) {
	case PROBE_FILE:
		probe_result(s, stat(p->text, &st) == 0, "missing");
		return;
	case PROBE_TCP:
	case PROBE_HTTP:
		r = netprobe_start(&s->np, p, &cur_plan_probe(s)->sa, cur_plan_probe(s)->salen);
		if (r != NETPROBE_PENDING) {
			probe_result(s, r == NETPROBE_OK, s->np.why);
			return;
		}
		if (loop_watch_add(&s->sv->loop, &s->w_np, s->np.fd, s->np.want, on_np, s) < 0) {
			probe_result(s, false, "epoll");
			return;
		}
		break;
	case PROBE_EXEC: {
		struct spawn_req r2;
		struct err e;
		int hint, devnull;
		/* Run on the service's behalf: the service's whole sandbox. */
		if (svc_spawn_req(s, &r2, &e) < 0) {
			probe_result(s, false, e.msg);
			return;
		}
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		r2.file = p->argv[0];
		r2.argv = p->argv;
		r2.stdout_fd = devnull;
		r2.stderr_fd = devnull;
		if (spawn(&r2, &s->probe_pid, &hint, &e) < 0) {
			if (devnull >= 0)
				(void)close(devnull);
			s->probe_pid = 0;
			probe_result(s, false, e.msg);
			return;
		}
		if (devnull >= 0)
			(void)close(devnull);
		break;
	}
	default:
		s->probing = false;
		return;
	}
	/* The attempt's deadline. */
	loop_timer_arm_in(&s->sv->loop, &s->t_probe, PROBE_TIMEOUT_NS);
}

void on_probe_timer(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	(void)t;
	if (s->state == S_PENDING) {
		cond_timeout(s);
		return;
	}
	if (s->probing) {
		probe_kill(s);
		probe_result(s, false, "timed out");
		return;
	}
	probe_begin(s);
}

static void probe_next(struct svc *s, int64_t delay_ns)
{
	loop_timer_arm_in(&s->sv->loop, &s->t_probe, delay_ns);
}

void on_probe_exit(struct svc *s, int status)
{
	char why[64];
	s->probe_pid = 0;
	if (s->state == S_PENDING) {
		cond_exit(s, status);
		return;
	}
	if (!s->probing)
		return;
	snprintf(why, sizeof(why), "exited %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	probe_result(s, WIFEXITED(status) && WEXITSTATUS(status) == 0, why);
}

/* ------------------------------------------------------------------------- */
/* notify socket and fd:N */

/* The warning for an ignored datagram, at most one per NOTIFY_WARN_NS per
 * service; the count held back goes into the next one, or the last line. */
static void notify_ignored(struct svc *s, const struct notify_sender *who, enum notify_origin o)
{
	static const char *const why[] = {
	    [NOTIFY_FOREIGN] = "is not one of the service's processes",
	    [NOTIFY_GONE] = "exited before it could be checked (a sender must live until the "
			    "message is read, or wait for BARRIER=1)",
	    [NOTIFY_ANON] = "came without sender credentials",
	};
	unsigned long long held;
	char more[64] = "";

	if (!notify_gate_pass(&s->notify_gate, mono_now_ns(), &held))
		return;
	if (held)
		snprintf(more, sizeof(more), "; %llu more ignored since the last warning", held);
	log_warn("[%s] notify message ignored: pid %d %s%s (at most one warning per 10 s)", s->name,
		 (int)who->pid, why[o], more);
}

void notify_flush(struct svc *s)
{
	if (s->notify_gate.held)
		log_warn("[%s] %llu more notify messages ignored since the last warning", s->name,
			 s->notify_gate.held);
	s->notify_gate.held = 0;
}

void on_notify(struct loop_watch *w, uint32_t ev)
{
	struct svc *s = w->data;
	struct notify_msg m;
	struct notify_sender who;
	(void)ev;

	while (notify_recv(s->notify_fd, &m, &who) > 0) {
		/* Only the service's own processes speak for it, checked while
		 * the sender lives (docs/supervise.md, "Who may send readiness"). */
		enum notify_origin o = notify_sender_origin(&who, s->pgid);
		notify_sender_close(&who); /* after the check: barrier waiters go on */
		if (o != NOTIFY_OURS) {
			notify_ignored(s, &who, o);
			continue;
		}
		if (m.has_status) {
			snprintf(s->notify_status, sizeof(s->notify_status), "%s", m.status);
			svc_changed(s);
		}
		if (m.has_errno)
			set_error(s, "notify-errno", NULL, "service reported ERRNO=%d (%s)",
				  m.errnum, strerror(m.errnum));
		if (m.stopping)
			log_info("[%s] STOPPING=1", s->name);
		if (m.ready && s->state == S_STARTING)
			svc_ready(s, "READY=1");
		if (m.watchdog && s->state == S_READY && s->pol->watchdog_ns)
			loop_timer_arm_in(&s->sv->loop, &s->t_watchdog, s->pol->watchdog_ns);
		if (m.watchdog_trigger && (s->state == S_STARTING || s->state == S_READY)) {
			set_error(s, "watchdog", WATCHDOG_HINT, "WATCHDOG=trigger");
			svc_event(s, E_WATCHDOG);
		}
	}
}

void on_watchdog(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	char d[32];
	(void)t;

	set_error(s, "watchdog", WATCHDOG_HINT, "no WATCHDOG=1 within %s",
		  fmt_duration((uint64_t)(s->pol->watchdog_ns / NS_PER_MS), d, sizeof(d)));
	svc_event(s, E_WATCHDOG);
}

void fdready_read(struct svc *s)
{
	char buf[256];
	ssize_t n = read(s->fdready_rd, buf, sizeof(buf));

	if (n > 0 && memchr(buf, '\n', (size_t)n) && s->state == S_STARTING)
		svc_ready(s, s->pol->ready.spec->spec);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		(void)loop_watch_del(&s->sv->loop, &s->w_fdready);
		(void)close(s->fdready_rd);
		s->fdready_rd = -1;
	}
}

void on_fdready(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	fdready_read(w->data);
}
