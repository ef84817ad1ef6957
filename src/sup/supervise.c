/* The supervisor: one state machine per service, driven by the event loop.
 *
 * A service moves through these states (status.json names them):
 *
 *   pending --start--> starting --ready--> ready --exit--> restarting --delay--> starting
 *                        |  exit / timeout                 | no restart, clean exit: stopped
 *                        v                                 | burst exceeded: failed
 *                     retrying --delay--> starting         | no restart, failure: failed
 *                        | last attempt
 *                        v
 *                      failed (required: the container stops with 1; optional: degraded)
 *
 * Every transition that ends a process goes through teardown(): the service's
 * process group gets its stop_signal, then SIGKILL after stop_timeout, and the
 * next step (retry, restart, fail, stop) runs once the main process is reaped
 * and the group is empty. */
#include "sup/supervise.h"

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

#define SINK_CAP	 (1u << 20)	/* bytes buffered per output stream */
#define SINK_HIGH	 (SINK_CAP / 2) /* stop reading services' pipes above this */
#define SINK_MAX	 (16u << 20) /* a burst (exit drains) may grow a stream's buffer to this */
#define DRAIN_MS	 5000	     /* at exit, output still buffered gets this long */
#define READ_CHUNK	 65536
#define PROBE_TIMEOUT_NS (2 * NS_PER_SEC) /* one tcp/http/exec probe attempt at most */

enum svc_state {
	ST_PENDING,
	ST_STARTING,
	ST_READY,
	ST_RETRYING,
	ST_RESTARTING,
	ST_FAILED,
	ST_STOPPED,
	ST_DISABLED,
};

static const char *const state_names[] = {"pending",	"starting", "ready",   "retrying",
					  "restarting", "failed",   "stopped", "disabled"};

/* What to do once a service's processes are gone. */
enum after { AFTER_NONE, AFTER_RETRY, AFTER_RESTART, AFTER_FAIL, AFTER_STOP };

struct svc;

struct pipe_in {
	struct svc *s;
	int fd;
	bool is_stderr;
	struct loop_watch w;
	struct linebuf lb;
	struct line_classifier cls;
	size_t rmax; /* bytes per read at run time */
};

struct svc {
	struct sv *sv;
	const struct service_conf *c;
	const struct svc_plan *p;
	const char *name;
	char prefix[CONFIG_PREFIX_MAX + 1]; /* also holds "[NAME] " */

	enum svc_state state;
	enum after after; /* set while a teardown is under way */
	bool running;	  /* the main process has not been reaped */
	pid_t pid;	  /* main process, 0 when none */
	pid_t pgid;	  /* its process group (== pid), kept until the group is empty */
	unsigned attempt, restarts;
	int64_t started_ns, ready_ns;
	int64_t ready_ms;
	struct timespec started_wall, ready_wall;

	bool has_exit;
	int last_status;
	char last_error[512];
	bool error_line; /* last_error holds a stderr line of the current attempt */
	const char *err_category;
	char err_hint[256];
	unsigned errors, warnings;
	char notify_status[256];

	struct pipe_in out, err;

	struct loop_timer t_ready, t_delay, t_kill, t_probe;
	bool killed;	     /* SIGKILL sent in this teardown */
	bool setup_failed;   /* a set-up step that fails the same way every time: no retry */
	bool started_before; /* a later start looks for what the earlier runs left */

	/* readiness / health */
	int notify_fd;
	char notify_addr[108];
	struct loop_watch w_notify;
	struct notify_gate notify_gate; /* warnings about ignored datagrams */
	int fdready_rd;			/* read end of the fd:N pipe */
	struct loop_watch w_fdready;
	struct sockaddr_storage probe_sa, health_sa; /* tcp/http addresses of ready, health */
	socklen_t probe_salen, health_salen;
	struct netprobe np;
	struct loop_watch w_np;
	pid_t probe_pid;
	bool probing;	    /* an attempt is in flight */
	bool health_active; /* probing for health (after ready), not readiness */
	unsigned health_fail;
	bool port_taken;     /* this attempt's probe reached another process's listener */
	bool portown_warned; /* "cannot tell who listens" was said */
	char port_msg[224];  /* "port 7860 is in use by pid 12 (python3 -m http.server)" */

	/* restarts */
	int64_t *restart_times; /* restart_burst entries: the restarts within the window */
	unsigned nrestart_times;
	uint64_t backoff_ms;
};

struct sv {
	long long oom_kills; /* the cgroup's OOM kill count when last read; -1: unknown */
	const struct config *cfg;
	struct loop loop;
	struct svc *svcs;
	size_t n;
	const sigset_t *orig_mask;
	const struct sandbox_set *sandbox;
	unsigned stage; /* highest stage started */
	bool all_started;
	bool shutting_down;
	bool final_phase;
	bool final_killed; /* the grace period is over: every child left gets SIGKILL */
	int exit_code;
	bool pid1;
	int64_t t0;
	struct sink out_sink, err_sink;
	struct loop_watch w_out, w_err;
	bool paused[2]; /* reading the services' stdout [0] / stderr [1] pipes is held */
	bool told[2];	/* the stream's write error was logged */
	struct loop_timer t_final;
	char *readbuf;
	/* status files */
	struct status_writer *status;
	struct loop_watch w_status; /* removals in the status dir */
	const struct plan *plan;
	bool dirty;
	struct timespec started_wall;
	struct status_service *ss;
	struct status_stage *stages;
	size_t nstages;
	char **commands; /* each service's argv joined, for status */
};

static struct sv *the_sv; /* for the log hook */

static void sv_progress(struct sv *sv);
static void svc_start(struct svc *s);
static void teardown(struct svc *s, enum after after);
static void sv_shutdown(struct sv *sv, const char *why);
static void sv_check_final(struct sv *sv);
static void probe_next(struct svc *s, int64_t delay_ns);
static void restart_after_failure(struct svc *s);
static void on_pipe(struct loop_watch *w, uint32_t ev);

/* ------------------------------------------------------------------------- */
/* output */

static void log_to_sink(const char *line, size_t len)
{
	if (the_sv)
		(void)sink_put(&the_sv->err_sink, line, len);
}

static void update_sink_watch(struct sv *sv, struct sink *k, struct loop_watch *w)
{
	if (k->blocking_fd)
		return;
	if (sink_pending(k) > 0 && w->fd < 0)
		(void)loop_watch_add(&sv->loop, w, k->fd, EPOLLOUT, w->fn, sv);
	else if (sink_pending(k) == 0 && w->fd >= 0)
		(void)loop_watch_del(&sv->loop, w);
}

/* Backpressure, per stream: while hfinit's stdout (stderr) is behind, the
 * services' stdout (stderr) pipes are not read. They leave the epoll set
 * (which also voids their events in the batch being dispatched): a pipe whose
 * writers closed it reports EPOLLHUP whatever the events asked for. */
static void pipe_watch(struct sv *sv, struct pipe_in *pi)
{
	if (pi->fd >= 0 && pi->w.fd < 0 && !sv->paused[pi->is_stderr])
		(void)loop_watch_add(&sv->loop, &pi->w, pi->fd, EPOLLIN, on_pipe, pi);
}

static void set_paused(struct sv *sv, int stream, bool pause)
{
	if (sv->paused[stream] == pause)
		return;
	sv->paused[stream] = pause;
	for (size_t i = 0; i < sv->n; i++) {
		struct pipe_in *pi = stream ? &sv->svcs[i].err : &sv->svcs[i].out;
		if (pause)
			(void)loop_watch_del(&sv->loop, &pi->w);
		else
			pipe_watch(sv, pi);
	}
}

static void sinks_changed(struct sv *sv)
{
	struct sink *k[2] = {&sv->out_sink, &sv->err_sink};
	for (int i = 0; i < 2; i++)
		if (k[i]->broken && !sv->told[i]) {
			sv->told[i] = true;
			log_warn("%s: %s: output to it is dropped", i ? "stderr" : "stdout",
				 k[i]->why);
		}
	update_sink_watch(sv, &sv->out_sink, &sv->w_out);
	update_sink_watch(sv, &sv->err_sink, &sv->w_err);
	set_paused(sv, 0, sink_pending(&sv->out_sink) > SINK_HIGH);
	set_paused(sv, 1, sink_pending(&sv->err_sink) > SINK_HIGH);
}

/* At exit: what each stream lost, and why. */
static void report_dropped(struct sv *sv)
{
	struct sink *k[2] = {&sv->out_sink, &sv->err_sink};
	for (int i = 0; i < 2; i++)
		if (k[i]->dropped_total > 0)
			log_warn("%s: %llu lines (%llu bytes) dropped: %s", i ? "stderr" : "stdout",
				 (unsigned long long)k[i]->dropped_lines,
				 (unsigned long long)k[i]->dropped_total, k[i]->why);
}

static void on_sink_writable(struct loop_watch *w, uint32_t ev)
{
	struct sv *sv = w->data;
	(void)ev;
	if (sink_flush(&sv->out_sink) < 0 && w == &sv->w_out)
		(void)loop_watch_del(&sv->loop, w);
	if (sink_flush(&sv->err_sink) < 0 && w == &sv->w_err)
		(void)loop_watch_del(&sv->loop, w);
	sinks_changed(sv);
}

static void emit_line(struct svc *s, bool is_stderr, const char *line, size_t len,
		      enum line_class cls)
{
	struct sink *k = is_stderr ? &s->sv->err_sink : &s->sv->out_sink;

	if (s->sv->cfg->log_format == LOG_FMT_JSON) {
		static const char *const lv[] = {"info", "warning", "error"};
		struct json j;
		char *txt;
		size_t tl;
		json_init(&j, 0);
		json_obj_begin(&j);
		json_kstr(&j, "svc", s->name);
		json_kstr(&j, "stream", is_stderr ? "stderr" : "stdout");
		json_kstr(&j, "level", lv[cls]);
		json_key(&j, "msg");
		json_strn(&j, line, len);
		json_obj_end(&j);
		if (json_finish(&j, &txt, &tl) == 0) {
			char *nl = realloc(txt, tl + 1);
			if (nl) {
				nl[tl] = '\n';
				(void)sink_put(k, nl, tl + 1);
				txt = nl;
			}
			free(txt);
		}
		json_free(&j);
		return;
	}
	size_t pl = strlen(s->prefix);
	char stackbuf[LINEBUF_MAX + 128];
	if (pl + len + 1 <= sizeof(stackbuf)) {
		memcpy(stackbuf, s->prefix, pl);
		memcpy(stackbuf + pl, line, len);
		stackbuf[pl + len] = '\n';
		(void)sink_put(k, stackbuf, pl + len + 1);
	}
}

static void svc_ready(struct svc *s, const char *how);

static bool line_matches_ready(struct svc *s, const char *line, size_t len)
{
	const struct probe *p = &s->c->ready;

	if (s->state != ST_STARTING)
		return false;
	if (p->kind == PROBE_LINE) {
		size_t tl = strlen(p->text);
		if (tl == 0)
			return true;
		for (size_t i = 0; i + tl <= len; i++)
			if (memcmp(line + i, p->text, tl) == 0)
				return true;
		return false;
	}
	if (p->kind == PROBE_REGEX && p->has_re) {
		char buf[LINEBUF_MAX + 1];
		memcpy(buf, line, len);
		buf[len] = '\0';
		return regexec(&p->re, buf, 0, NULL, 0) == 0;
	}
	return false;
}

static void on_line(void *arg, const char *line, size_t len, unsigned flags)
{
	struct pipe_in *pi = arg;
	struct svc *s = pi->s;
	struct line_verdict v = {LINE_INFO, false, false};
	struct diagnosis d;
	char red[LINEBUF_MAX + 1]; /* the line with secrets as *** (docs/config.md) */
	const char *raw = line;
	size_t rawlen = len, rl = redact_to(line, len, red, sizeof(red));

	(void)flags;
	if (rl != (size_t)-1) {
		line = red;
		len = rl;
	}
	if (pi->is_stderr) {
		v = classify_line(&pi->cls, line, len);
		if (v.counts && v.cls == LINE_ERROR)
			s->errors++;
		else if (v.counts && v.cls == LINE_WARNING)
			s->warnings++;
		if (v.counts || v.is_detail)
			s->sv->dirty = true;
		if (v.is_detail) {
			size_t n =
			    len < sizeof(s->last_error) - 1 ? len : sizeof(s->last_error) - 1;
			memcpy(s->last_error, line, n);
			s->last_error[n] = '\0';
			s->error_line = true;
		}
	}
	if ((pi->is_stderr || v.cls != LINE_INFO) && diagnose_line(line, len, &d)) {
		if (!s->err_category || strcmp(s->err_category, d.category) != 0 ||
		    strcmp(s->err_hint, d.hint) != 0) {
			s->err_category = d.category;
			snprintf(s->err_hint, sizeof(s->err_hint), "%s", d.hint);
			log_warn("[%s] %s: %s", s->name, d.category, d.hint);
		}
	}
	if (s->c->redact)
		emit_line(s, pi->is_stderr, line, len, v.cls);
	else
		emit_line(s, pi->is_stderr, raw, rawlen, v.cls);
	if (line_matches_ready(s, raw, rawlen))
		svc_ready(s, pi->is_stderr ? "ready line on stderr" : "ready line on stdout");
}

static void pipe_eof(struct pipe_in *pi)
{
	linebuf_finish(&pi->lb, on_line, pi);
	(void)loop_watch_del(&pi->s->sv->loop, &pi->w);
	(void)close(pi->fd);
	pi->fd = -1;
	pi->cls.in_traceback = false;
}

/* Read what the pipe holds now (at most its size: a writer that goes on cannot
 * keep hfinit here), whether or not the stream is held: a process has exited
 * and its last lines come now. The sink grows for them (SINK_MAX). On EOF close
 * it. Returns false at EOF. */
static bool pipe_drain(struct pipe_in *pi)
{
	struct sv *sv = pi->s->sv;
	int left = fcntl(pi->fd, F_GETPIPE_SZ);

	if (left <= 0)
		left = READ_CHUNK;
	while (pi->fd >= 0 && left > 0) {
		ssize_t n = read(pi->fd, sv->readbuf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			pipe_eof(pi);
			return false;
		}
		linebuf_feed(&pi->lb, sv->readbuf, (size_t)n, on_line, pi);
		left -= (int)n;
	}
	return pi->fd >= 0;
}

static void on_pipe(struct loop_watch *w, uint32_t ev)
{
	struct pipe_in *pi = w->data;
	struct sv *sv = pi->s->sv;
	(void)ev;
	/* One chunk per event keeps one chatty service from starving the others;
	 * at most what, formatted, fits between SINK_HIGH and SINK_MAX. */
	ssize_t n = read(pi->fd, sv->readbuf, pi->rmax);
	if (n > 0)
		linebuf_feed(&pi->lb, sv->readbuf, (size_t)n, on_line, pi);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		pipe_eof(pi);
	sinks_changed(sv);
}

static void pipe_close_all(struct svc *s)
{
	/* Everything the writers left in the pipe is read first; when writers
	 * still hold it (a process escaped the group): keep what is here, stop
	 * listening. */
	struct pipe_in *ps[2] = {&s->out, &s->err};
	for (int k = 0; k < 2; k++)
		if (ps[k]->fd >= 0 && pipe_drain(ps[k]))
			pipe_eof(ps[k]);
}

/* ------------------------------------------------------------------------- */
/* helpers */

static int64_t ms_ns(uint64_t ms)
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

static bool svc_up(struct svc *s)
{
	return s->running || group_alive(s);
}

static void set_error(struct svc *s, const char *category, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(struct svc *s, const char *category, const char *hint, const char *fmt, ...)
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

/* ------------------------------------------------------------------------- */
/* probes: tcp, http, file, exec (readiness while starting, health once ready) */

static const struct probe *cur_probe(struct svc *s)
{
	return s->health_active ? &s->c->health : &s->c->ready;
}

static void probe_stop(struct svc *s)
{
	loop_timer_cancel(&s->sv->loop, &s->t_probe);
	if (s->w_np.fd >= 0)
		(void)loop_watch_del(&s->sv->loop, &s->w_np);
	netprobe_close(&s->np);
	/* The probe runs in its own session: its whole group goes (a shell's
	 * children too), reaped by the reaper, result ignored. */
	if (s->probe_pid > 0 && kill(-s->probe_pid, SIGKILL) < 0)
		(void)kill(s->probe_pid, SIGKILL);
	s->probe_pid = 0;
	s->probing = false;
}

#define PORT_HINT                                                                                  \
	"another process holds the port (a leftover server, or another service on the same "       \
	"port): stop it, or give this service a port of its own"

/* A tcp:/http: probe that connected counts only when the listener belongs to
 * the service's session (portown.c; docs/supervise.md). false with
 * s->port_msg set when another process holds it; true (warned once) when
 * that cannot be told. */
static bool port_owned(struct svc *s, const struct probe *p)
{
	const struct sockaddr_storage *sa = s->health_active ? &s->health_sa : &s->probe_sa;
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
		if (!s->health_active && s->state == ST_STARTING && !s->port_taken) {
			log_warn("[%s] %s: not ready", s->name, s->port_msg);
			set_error(s, "port-in-use", PORT_HINT, "%s", s->port_msg);
			s->sv->dirty = true;
		}
		s->port_taken = !s->health_active;
	}
	if (s->w_np.fd >= 0)
		(void)loop_watch_del(&s->sv->loop, &s->w_np);
	netprobe_close(&s->np);
	s->probing = false;
	loop_timer_cancel(&s->sv->loop, &s->t_probe);
	if (!s->health_active) {
		if (s->state != ST_STARTING)
			return;
		if (ok) {
			svc_ready(s, p->spec);
			return;
		}
		probe_next(s, ms_ns(s->sv->cfg->probe_interval_ms));
		return;
	}
	if (s->state != ST_READY)
		return;
	if (ok) {
		s->health_fail = 0;
		probe_next(s, ms_ns(s->c->health_interval_ms));
		return;
	}
	s->health_fail++;
	log_warn("[%s] health check %s failed (%u of %u in a row)%s%s", s->name, p->spec,
		 s->health_fail, s->c->health_failures, why ? ": " : "", why ? why : "");
	if (s->health_fail >= s->c->health_failures) {
		set_error(s, "unhealthy", "the health probe failed repeatedly",
			  "health check %s failed %u times in a row", p->spec, s->health_fail);
		s->health_fail = 0;
		s->health_active = false;
		/* Treated as a crash: restarted under the restart limits. */
		restart_after_failure(s);
		return;
	}
	probe_next(s, ms_ns(s->c->health_interval_ms));
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

/* The child set-up of everything run on the service's behalf (the service
 * itself and its exec probes): environment, workdir, signal mask, user and
 * groups, umask, rlimits, oom_score_adj, and for a filtered service
 * no_new_privs, a Landlock domain of its own and the seccomp filter
 * (docs/sandbox.md). The caller sets file, argv and stdio. */
static int svc_spawn_req(struct svc *s, struct spawn_req *r, struct err *e)
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
		r = s->health_active ? netprobe_start(&s->np, p, &s->health_sa, s->health_salen)
				     : netprobe_start(&s->np, p, &s->probe_sa, s->probe_salen);
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

static void on_probe_timer(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	(void)t;
	if (s->probing) {
		if (s->probe_pid > 0 && kill(-s->probe_pid, SIGKILL) < 0)
			(void)kill(s->probe_pid, SIGKILL);
		s->probe_pid = 0;
		probe_result(s, false, "timed out");
		return;
	}
	probe_begin(s);
}

static void probe_next(struct svc *s, int64_t delay_ns)
{
	loop_timer_arm_in(&s->sv->loop, &s->t_probe, delay_ns);
}

static void on_probe_exit(struct svc *s, int status)
{
	char why[64];
	s->probe_pid = 0;
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

static void notify_flush(struct svc *s)
{
	if (s->notify_gate.held)
		log_warn("[%s] %llu more notify messages ignored since the last warning", s->name,
			 s->notify_gate.held);
	s->notify_gate.held = 0;
}

static void on_notify(struct loop_watch *w, uint32_t ev)
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
			s->sv->dirty = true;
		}
		if (m.has_errno)
			set_error(s, "notify-errno", NULL, "service reported ERRNO=%d (%s)",
				  m.errnum, strerror(m.errnum));
		if (m.stopping)
			log_info("[%s] STOPPING=1", s->name);
		if (m.ready && s->state == ST_STARTING)
			svc_ready(s, "READY=1");
	}
}

static void on_fdready(struct loop_watch *w, uint32_t ev)
{
	struct svc *s = w->data;
	char buf[256];
	ssize_t n;
	(void)ev;

	n = read(s->fdready_rd, buf, sizeof(buf));
	if (n > 0 && memchr(buf, '\n', (size_t)n) && s->state == ST_STARTING)
		svc_ready(s, s->c->ready.spec);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		(void)loop_watch_del(&s->sv->loop, w);
		(void)close(s->fdready_rd);
		s->fdready_rd = -1;
	}
}

/* ------------------------------------------------------------------------- */
/* life cycle */

static void svc_set_state(struct svc *s, enum svc_state st)
{
	s->state = st;
	s->sv->dirty = true;
}

static void svc_ready(struct svc *s, const char *how)
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

static void on_ready_timeout(struct loop_timer *t, void *data)
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

static void svc_start(struct svc *s)
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

static void on_delay(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	(void)t;
	if (s->state == ST_RETRYING || s->state == ST_RESTARTING)
		svc_start(s);
}

static void on_kill(struct loop_timer *t, void *data)
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

static void check_down(struct svc *s)
{
	if (s->after != AFTER_NONE && !svc_up(s))
		down(s);
}

static void teardown(struct svc *s, enum after after)
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

static void restart_after_failure(struct svc *s)
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

static void on_main_exit(struct svc *s, int status)
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

/* ------------------------------------------------------------------------- */
/* stages */

static bool stage_done(struct sv *sv, unsigned stage)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct svc *s = &sv->svcs[i];
		if (s->c->stage != stage)
			continue;
		bool finished = s->state == ST_STOPPED && s->has_exit &&
				WIFEXITED(s->last_status) && WEXITSTATUS(s->last_status) == 0;
		if (s->state == ST_READY || finished)
			continue;
		if (!s->c->required && (s->state == ST_FAILED || s->state == ST_STOPPED))
			continue;
		return false;
	}
	return true;
}

static unsigned next_stage(struct sv *sv, unsigned after)
{
	unsigned best = 0;
	for (size_t i = 0; i < sv->n; i++) {
		unsigned st = sv->svcs[i].c->stage;
		if (st > after && (best == 0 || st < best))
			best = st;
	}
	return best;
}

static bool anything_left(struct sv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		struct svc *s = &sv->svcs[i];
		if (s->state != ST_STOPPED && s->state != ST_FAILED && s->state != ST_DISABLED)
			return true;
		if (svc_up(s))
			return true;
	}
	return false;
}

static void sv_progress(struct sv *sv)
{
	static bool busy;

	if (busy || sv->shutting_down)
		return;
	busy = true;
	while (!sv->all_started && stage_done(sv, sv->stage)) {
		unsigned next = next_stage(sv, sv->stage);
		int64_t el = (mono_now_ns() - sv->t0) / NS_PER_MS;
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
				degraded |= sv->svcs[i].state == ST_FAILED;
			log_info("all stages up after %" PRId64 " ms%s", el,
				 degraded ? " (degraded: an optional service failed)" : "");
			break;
		}
		sv->stage = next;
		log_info("stage %u: starting", next);
		for (size_t i = 0; i < sv->n; i++)
			if (sv->svcs[i].c->stage == next && sv->svcs[i].state == ST_PENDING)
				svc_start(&sv->svcs[i]);
		if (sv->shutting_down)
			break;
	}
	busy = false;
	if (!sv->shutting_down && !anything_left(sv)) {
		log_info("every service has ended");
		sv_shutdown(sv, "every service has ended");
	}
}

/* ------------------------------------------------------------------------- */
/* shutdown */

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

static void shutdown_step(struct sv *sv)
{
	/* The highest stage that still has processes goes first (stages[] holds
	 * the distinct stage numbers in ascending order). */
	for (size_t k = sv->nstages; k-- > 0;) {
		unsigned stage = sv->stages[k].stage;
		bool any = false;
		for (size_t i = 0; i < sv->n; i++) {
			struct svc *s = &sv->svcs[i];
			if (s->c->stage != stage || !svc_up(s))
				continue;
			any = true;
			if (s->after != AFTER_STOP && s->after != AFTER_FAIL)
				teardown(s, AFTER_STOP);
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
		loop_timer_arm_in(&sv->loop, &sv->t_final, ms_ns(sv->cfg->stop_timeout_ms));
	}
}

static void sv_check_final(struct sv *sv)
{
	if (!sv->shutting_down)
		return;
	shutdown_step(sv);
	if (!sv->final_phase)
		return;
	/* Done when no child of ours is left. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) {
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
	if (sv->shutting_down)
		return;
	sv->shutting_down = true;
	sv->dirty = true;
	log_info("stopping: %s", why);
	for (size_t i = 0; i < sv->n; i++) {
		struct svc *s = &sv->svcs[i];
		loop_timer_cancel(&sv->loop, &s->t_delay);
		loop_timer_cancel(&sv->loop, &s->t_ready);
		probe_stop(s);
		if (s->state == ST_PENDING || s->state == ST_RETRYING || s->state == ST_RESTARTING)
			if (!svc_up(s))
				svc_set_state(s, ST_STOPPED);
	}
	sv_check_final(sv);
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

static void reap(struct sv *sv)
{
	int status;
	pid_t pid;
	bool probe;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct svc *s = svc_by_pid(sv, pid, &probe);
		if (!s)
			continue; /* an orphan: reaped, nothing else to do */
		if (probe)
			on_probe_exit(s, status);
		else
			on_main_exit(s, status);
	}
	for (size_t i = 0; i < sv->n; i++)
		check_down(&sv->svcs[i]);
	sv_check_final(sv);
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
		for (size_t i = 0; i < sv->n; i++)
			if (sv->svcs[i].notify_fd >= 0)
				on_notify(&sv->svcs[i].w_notify, 0);
		reap(sv);
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		if (sv->shutting_down) {
			log_info("SIG%s: already stopping", signame(sig));
			break;
		}
		{
			char why[32];
			snprintf(why, sizeof(why), "SIG%s", signame(sig));
			sv_shutdown(sv, why);
		}
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

/* ------------------------------------------------------------------------- */

/* ------------------------------------------------------------------------- */
/* status */

static bool svc_finished_clean(const struct svc *s)
{
	return s->state == ST_STOPPED && s->has_exit && WIFEXITED(s->last_status) &&
	       WEXITSTATUS(s->last_status) == 0;
}

static const char *overall_state(struct sv *sv, bool *all_required_ready)
{
	bool req_ready = true, opt_failed = false, any_required = false;

	for (size_t i = 0; i < sv->n; i++) {
		struct svc *s = &sv->svcs[i];
		any_required |= s->c->required;
		if (s->c->required && s->state != ST_READY && !svc_finished_clean(s))
			req_ready = false;
		if (!s->c->required && s->state == ST_FAILED)
			opt_failed = true;
	}
	/* Not gated on the later stages: an optional stage-2 pool still loading
	 * leaves the state `starting`, but the required services are serving.
	 * With no required service at all, ready once every stage started. */
	*all_required_ready = req_ready && (any_required || sv->all_started) && !sv->shutting_down;
	if (sv->shutting_down)
		return "stopping";
	if (!sv->all_started)
		return "starting";
	return req_ready && !opt_failed ? "ready" : "degraded";
}

static void publish(struct sv *sv, const char *final_state)
{
	struct status_snapshot snap;

	if (!sv->status)
		return;
	memset(&snap, 0, sizeof(snap));
	for (size_t i = 0; i < sv->n; i++) {
		struct svc *s = &sv->svcs[i];
		struct status_service *o = &sv->ss[i];
		memset(o, 0, sizeof(*o));
		o->name = s->name;
		o->state = state_names[s->state];
		o->stage = s->c->stage;
		o->required = s->c->required;
		o->pid = s->running ? s->pid : 0;
		o->attempt = s->attempt;
		o->attempts = s->c->retries;
		o->restarts = s->restarts;
		o->started_at = s->started_wall;
		o->ready_at = s->state == ST_READY ? s->ready_wall : (struct timespec){0, 0};
		o->ready_ms = s->ready_ns ? s->ready_ms : -1;
		o->has_exit = s->has_exit;
		o->exit_code =
		    s->has_exit && WIFEXITED(s->last_status) ? WEXITSTATUS(s->last_status) : -1;
		o->exit_signal =
		    s->has_exit && WIFSIGNALED(s->last_status) ? WTERMSIG(s->last_status) : 0;
		o->last_error = s->last_error[0] ? s->last_error : NULL;
		o->error_category = s->err_category;
		o->error_hint = s->err_hint[0] ? s->err_hint : NULL;
		o->errors = s->errors;
		o->warnings = s->warnings;
		o->script = s->p->script;
		o->command = sv->commands ? sv->commands[i] : NULL;
		o->sandbox = s->c->seccomp;
		if (s->c->seccomp) {
			const struct sandbox_profile *sp = sandbox_find(sv->sandbox, s->c->seccomp);
			o->sandbox_rules = sp ? sp->rules : 0;
			o->sandbox_landlock = landlock_abi(NULL);
		}
		o->notify_status = s->notify_status[0] ? s->notify_status : NULL;
		o->ready_spec = s->c->ready.spec;
	}
	snap.state = overall_state(sv, &snap.all_required_ready);
	if (final_state) {
		snap.state = final_state;
		snap.all_required_ready = false;
	}
	snap.stage = sv->stage;
	snap.started_at = sv->started_wall;
	snap.exit_code = final_state ? sv->exit_code : -1;
	snap.python = sv->plan->python_needed ? &sv->plan->python : NULL;
	snap.services = sv->ss;
	snap.nservices = sv->n;
	snap.stages = sv->stages;
	snap.nstages = sv->nstages;
	const struct sink *k[2] = {&sv->out_sink, &sv->err_sink};
	for (int i = 0; i < 2; i++) {
		snap.output[i].dropped_lines = k[i]->dropped_lines;
		snap.output[i].dropped_bytes = k[i]->dropped_total;
		snap.output[i].reason = k[i]->why;
	}
	status_publish(sv->status, &snap);
	sv->dirty = false;
}

static void on_status_dir(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	status_watch_event(((struct sv *)w->data)->status);
}

static int status_setup(struct sv *sv)
{
	unsigned st = 0;

	sv->ss = calloc(sv->n ? sv->n : 1, sizeof(*sv->ss));
	sv->stages = calloc(sv->n ? sv->n : 1, sizeof(*sv->stages));
	sv->commands = calloc(sv->n ? sv->n : 1, sizeof(*sv->commands));
	if (!sv->ss || !sv->stages || !sv->commands)
		return -1;
	while ((st = next_stage(sv, st)) != 0) {
		sv->stages[sv->nstages].stage = st;
		sv->stages[sv->nstages].ready_ms = -1;
		sv->nstages++;
	}
	for (size_t i = 0; i < sv->n; i++) {
		sv->commands[i] = strv_join(sv->svcs[i].p->argv);
		if (sv->commands[i])
			redact_str(sv->commands[i], strlen(sv->commands[i]) + 1);
	}
	if (status_watch_fd(sv->status) >= 0 &&
	    loop_watch_add(&sv->loop, &sv->w_status, status_watch_fd(sv->status), EPOLLIN,
			   on_status_dir, sv) < 0)
		log_errno(LOG_LVL_WARN, errno, "status: a removed status dir will not be seen");
	return 0;
}

static void status_teardown(struct sv *sv)
{
	for (size_t i = 0; sv->commands && i < sv->n; i++)
		free(sv->commands[i]);
	free(sv->commands);
	free(sv->ss);
	free(sv->stages);
}

static int svc_init(struct sv *sv, struct svc *s, const struct service_conf *c,
		    const struct svc_plan *p, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->sv = sv;
	s->c = c;
	s->p = p;
	s->name = c->name;
	s->out.s = s->err.s = s;
	s->out.fd = s->err.fd = -1;
	s->err.is_stderr = true;
	s->out.w.fd = s->err.w.fd = -1;
	s->w_notify.fd = s->w_fdready.fd = s->w_np.fd = -1;
	s->notify_fd = s->fdready_rd = -1;
	netprobe_init(&s->np);
	/* the exact values redacted from every line, status field and message */
	if (redact_add_env(p->envp) < 0)
		return err_set(e, ENOMEM, "service %s: out of memory", c->name);
	if (c->log_prefix)
		snprintf(s->prefix, sizeof(s->prefix), "%s", c->log_prefix);
	else
		snprintf(s->prefix, sizeof(s->prefix), "[%s] ", c->name);
	/* Bytes out per byte in, at most (an empty line): the prefix and newline,
	 * or the JSON frame with the escaped name. */
	size_t f =
	    sv->cfg->log_format == LOG_FMT_JSON ? 56 + 6 * strlen(c->name) : strlen(s->prefix) + 1;
	s->out.rmax = s->err.rmax =
	    (SINK_MAX - SINK_HIGH) / f < READ_CHUNK ? (SINK_MAX - SINK_HIGH) / f : READ_CHUNK;
	loop_timer_init(&s->t_ready, on_ready_timeout, s);
	loop_timer_init(&s->t_delay, on_delay, s);
	loop_timer_init(&s->t_kill, on_kill, s);
	loop_timer_init(&s->t_probe, on_probe_timer, s);
	if (c->restart_burst > 0) { /* health restarts count even with restart = no */
		s->restart_times = calloc(c->restart_burst, sizeof(*s->restart_times));
		if (!s->restart_times)
			return err_set(e, ENOMEM, "service %s: out of memory", c->name);
	}
	if (c->ready.kind == PROBE_NOTIFY) {
		s->notify_fd =
		    notify_socket_open(c->name, s->notify_addr, sizeof(s->notify_addr), e);
		if (s->notify_fd < 0)
			return -1;
		if (loop_watch_add(&sv->loop, &s->w_notify, s->notify_fd, EPOLLIN, on_notify, s) <
		    0)
			return err_sys(e, "epoll");
	}
	/* Each probe has its own address: health may watch another port. */
	if ((c->ready.kind == PROBE_TCP || c->ready.kind == PROBE_HTTP) &&
	    probe_addr(&c->ready, &s->probe_sa, &s->probe_salen, e) < 0)
		return err_wrap(e, "service %s", c->name);
	if ((c->health.kind == PROBE_TCP || c->health.kind == PROBE_HTTP) &&
	    probe_addr(&c->health, &s->health_sa, &s->health_salen, e) < 0)
		return err_wrap(e, "service %s", c->name);
	return 0;
}

int supervise(const struct config *cfg, const struct plan *plan, struct status_writer *status,
	      const sigset_t *mask, const sigset_t *orig_mask, const struct sandbox_set *sandbox)
{
	struct sv sv;
	struct err e;
	int code;

	memset(&sv, 0, sizeof(sv));
	sv.cfg = cfg;
	sv.oom_kills = oom_kills();
	sv.plan = plan;
	sv.status = status;
	clock_gettime(CLOCK_REALTIME, &sv.started_wall);
	sv.orig_mask = orig_mask;
	sv.sandbox = sandbox;
	sv.pid1 = getpid() == 1;
	sv.t0 = mono_now_ns();
	sv.w_out.fd = sv.w_err.fd = -1;
	sv.w_out.fn = sv.w_err.fn = on_sink_writable;
	sv.w_out.data = sv.w_err.data = &sv;
	loop_timer_init(&sv.t_final, on_final_timer, &sv);
	if (loop_init(&sv.loop, mask, on_signal, &sv, &e) < 0) {
		log_error("%s", e.msg);
		return 1;
	}
	sv.readbuf = malloc(READ_CHUNK);
	sv.svcs = calloc(cfg->nservices ? cfg->nservices : 1, sizeof(*sv.svcs));
	if (!sv.readbuf || !sv.svcs || sink_init(&sv.out_sink, STDOUT_FILENO, SINK_CAP) < 0 ||
	    sink_init(&sv.err_sink, STDERR_FILENO, SINK_CAP) < 0) {
		log_errno(LOG_LVL_ERROR, errno, "cannot set up output");
		return 1;
	}
	sv.out_sink.max = sv.err_sink.max = SINK_MAX;
	sv.out_sink.json = sv.err_sink.json = cfg->log_format == LOG_FMT_JSON;
	sv.n = cfg->nservices;
	for (size_t i = 0; i < sv.n; i++)
		if (svc_init(&sv, &sv.svcs[i], &cfg->services[i], &plan->svcs[i], &e) < 0) {
			log_error("%s", e.msg);
			return 1;
		}
	if (status_setup(&sv) < 0) {
		log_errno(LOG_LVL_ERROR, errno, "cannot set up status");
		return 1;
	}
	the_sv = &sv;
	log_set_writer(log_to_sink);
	log_info("supervising %zu service(s) in %u stage(s)%s", sv.n, config_max_stage(cfg),
		 sv.pid1 ? " as PID 1" : "");

	sv_progress(&sv);
	/* What sv_progress() queued (stage 1 starting) must not wait for the first event. */
	sinks_changed(&sv);
	while (!loop_stopped(&sv.loop)) {
		if (loop_run_once(&sv.loop) < 0 && errno != EINTR) {
			log_errno(LOG_LVL_ERROR, errno, "event loop");
			break;
		}
		sinks_changed(&sv);
		/* One status write per turn, after the turn's last change. */
		if (sv.dirty)
			publish(&sv, NULL);
	}

	for (size_t i = 0; i < sv.n; i++)
		notify_flush(&sv.svcs[i]);
	code = sv.exit_code;
	/* What is still buffered gets DRAIN_MS in all (fd 2 itself may block: the
	 * last lines go through the sink too); what is cut is counted and
	 * reported, before the final status. */
	long long end = sink_now_ms() + DRAIN_MS;
	sink_drain(&sv.out_sink, end - 200, "not written within 5 s at exit");
	sink_drain(&sv.err_sink, end - 200, "not written within 5 s at exit");
	report_dropped(&sv);
	publish(&sv, code == 0 ? "stopped" : "failed");
	status_teardown(&sv);
	log_info("stopped, exit %d", code);
	sink_drain(&sv.err_sink, end, "not written within 5 s at exit");
	log_set_writer(NULL);
	the_sv = NULL;
	for (size_t i = 0; i < sv.n; i++) {
		struct svc *s = &sv.svcs[i];
		if (s->notify_fd >= 0)
			(void)close(s->notify_fd);
	}
	loop_fini(&sv.loop);
	if (sv.out_sink.fd != STDOUT_FILENO)
		(void)close(sv.out_sink.fd);
	if (sv.err_sink.fd != STDERR_FILENO)
		(void)close(sv.err_sink.fd);
	sink_free(&sv.out_sink);
	sink_free(&sv.err_sink);
	free(sv.readbuf);
	for (size_t i = 0; i < sv.n; i++)
		free(sv.svcs[i].restart_times);
	free(sv.svcs);
	return code;
}
