/* The supervisor's own declarations, shared by its files (not a public interface). */
#ifndef HFINIT_SUP_SV_H
#define HFINIT_SUP_SV_H

#include "sup/supervise.h"

#include "sup/classify.h"
#include "sup/fsm.h"
#include "run/loop.h"
#include "run/sink.h"
#include "run/netprobe.h"
#include "run/notify.h"
#include "run/watch.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define SINK_CAP	 (1u << 20)	/* bytes buffered per output stream */
#define SINK_HIGH	 (SINK_CAP / 2) /* stop reading services' pipes above this */
#define SINK_MAX	 (16u << 20) /* a burst (exit drains) may grow a stream's buffer to this */
#define DRAIN_MS	 5000	     /* at exit, output still buffered gets this long */
#define SVC_ERROR_MAX	 512	     /* bytes of a service's last_error */
#define READ_CHUNK	 65536
#define PROBE_TIMEOUT_NS (2 * NS_PER_SEC) /* one tcp/http/exec probe attempt at most */

struct svc;

struct pipe_in {
	struct svc *s;
	int fd;
	bool is_stderr;
	struct loop_watch w;
	struct linebuf lb;
	struct line_classifier cls;
	size_t rmax; /* bytes per read at run time */
	/* the read being fed: lines in it before next_mark need no redaction,
	 * and on stderr, lines before next_class are plain (classify_next;
	 * looked for only when a run needs it) */
	const char *chunk;
	size_t chunk_n, next_mark, next_class;
};

struct svc {
	struct sv *sv;
	const struct svc_policy *pol; /* &p->policy */
	const struct svc_plan *p;
	const char *name;
	char prefix[CONFIG_PREFIX_MAX + 1]; /* also holds "[NAME] " */
	size_t prefix_len;		    /* strlen(prefix): not measured per line */

	enum svc_state state;
	enum svc_state shown; /* S_STOPPING: the state status.json reports */
	enum after after;     /* set while a teardown is under way */
	bool running;	      /* the main process has not been reaped */
	pid_t pid;	      /* main process, 0 when none */
	pid_t pgid;	      /* its process group (== pid), kept until the group is empty */
	unsigned attempt, restarts;
	int64_t started_ns, ready_ns;
	int64_t ready_ms;
	struct timespec started_wall, ready_wall;

	bool has_exit;
	int last_status;
	/* last_error, its category and hint in status.json; the message is kept
	 * to SVC_ERROR_MAX bytes */
	struct err error;
	bool error_line; /* error.msg holds a stderr line of the current attempt */
	unsigned errors, warnings;
	char notify_status[256];

	struct pipe_in out, err;

	struct loop_timer t_ready, t_delay, t_kill, t_probe;
	struct loop_timer t_watchdog; /* watchdog =: re-armed at each WATCHDOG=1 */
	bool killed;		      /* SIGKILL sent in this teardown */
	bool setup_failed;   /* a set-up step that fails the same way every time: no retry */
	bool started_before; /* a later start looks for what the earlier runs left */

	/* readiness / health */
	int notify_fd;
	char notify_addr[108];
	struct loop_watch w_notify;
	struct notify_gate notify_gate; /* warnings about ignored datagrams */
	int fdready_rd;			/* read end of the fd:N pipe */
	struct loop_watch w_fdready;
	struct netprobe np;
	struct loop_watch w_np;
	pid_t probe_pid;
	bool probing;	    /* an attempt is in flight */
	bool health_active; /* probing for health (after ready), not readiness */
	unsigned health_fail;
	bool port_taken;     /* this attempt's probe reached another process's listener */
	bool portown_warned; /* "cannot tell who listens" was said */
	char port_msg[224];  /* "port 7860 is in use by pid 12 (python3 -m http.server)" */

	/* conditions (cond.c) */
	unsigned cond_at;	   /* the next to evaluate */
	int cond_ran;		   /* its exec: 0 not run, 1 running, 2 exited 0, 3 did not */
	char cond_why[128];	   /* how that exec: ended ("exited 1") */
	char disabled_reason[256]; /* S_DISABLED: "enabled = no", "condition ... failed (...)" */

	/* restarts */
	int64_t *restart_times; /* restart_burst entries: the restarts within the window */
	unsigned nrestart_times;
	int64_t backoff_ns;

	/* what an event carries */
	const char *ready_how; /* E_READY: what made it ready */
	bool became_ready;     /* ready in this loop turn (the stage gate sees it) */
	char exit_text[64];    /* E_EXIT: "exited 1", "killed by SIGSEGV" */
	struct err exit_diag;
	bool exit_has_diag;

	/* requests (control socket, watch): issue 12 */
	const char *req_by;	     /* who asked for the request under way: "control", "watch" */
	const char *stopped_by;	     /* "request": a requested stop; NULL: not stopped on request */
	unsigned requested_restarts; /* never counted toward restart_burst */

	/* Dev Mode watch (devwatch.c) */
	struct loop_timer t_watch; /* watch_debounce after the last change */
	char watch_path[192];	   /* the first change since the last restart */
	unsigned watch_changes;
};

struct sv {
	long long oom_kills; /* the cgroup's OOM kill count when last read; -1: unknown */
	struct loop loop;
	struct svc *svcs;
	size_t n;
	/* per service: in S_STOPPING, waiting for its group to empty (E_GONE);
	 * a reap looks at these only (struct svc is 20 KB: 1000 of them are
	 * not read at every SIGCHLD) */
	unsigned char *stopping;
	struct svc **notifying; /* the services with a notify socket */
	size_t nnotifying;
	const sigset_t *orig_mask;
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
	/* per service: its status fields may have changed since the last
	 * publish (svc_changed); publish() reads only those again */
	unsigned char *changed;
	unsigned char *ov_bits; /* its part in the overall state (overall_bits) */
	unsigned ov_count[OV_NBITS];
	struct timespec started_wall;
	struct status_service *ss;
	struct status_stage *stages;
	size_t nstages;
	char **commands; /* each service's argv joined, for status */
	/* the end of the loop turn */
	const struct svc_ops *ops;
	bool progress_due;	  /* an event acted: the stage gate and the shutdown look again */
	const char *shutdown_why; /* a shutdown was asked for in this turn */
	char why[32];		  /* "SIGTERM" */
	int64_t stop_timeout_ns;  /* [hfinit] stop_timeout: the grace period of the leftovers */
	struct watcher watch;	  /* Dev Mode: every service's watch = paths */
	struct loop_watch w_watch;
	struct ctl *ctl; /* the control socket (control.c), NULL: none */
};

#define PORT_HINT                                                                                  \
	"another process holds the port (a leftover server, or another service on the same "       \
	"port): stop it, or give this service a port of its own"

/* svc_io.c: output */
void pipe_watch(struct sv *sv, struct pipe_in *pi);
void sinks_changed(struct sv *sv);
void report_dropped(struct sv *sv);
void on_sink_writable(struct loop_watch *w, uint32_t ev);
bool pipe_drain(struct pipe_in *pi);
void pipe_close_all(struct svc *s);

/* probe.c: probes, notify socket, fd:N */
void probe_stop(struct svc *s);
/* SIGKILL to the running exec probe's or exec: condition's session. */
void probe_kill(struct svc *s);
void on_probe_timer(struct loop_timer *t, void *data);
void on_probe_exit(struct svc *s, int status);
void notify_flush(struct svc *s);
void on_notify(struct loop_watch *w, uint32_t ev);
void on_fdready(struct loop_watch *w, uint32_t ev);
void fdready_read(struct svc *s); /* fd:N: a newline there is ready; EOF closes it */
void on_watchdog(struct loop_timer *t, void *data); /* E_WATCHDOG */

/* cond.c: conditions */
int cond_check(struct svc *s);
void cond_exit(struct svc *s, int status); /* the exec: condition was reaped */
void cond_timeout(struct svc *s);	   /* it ran past condition_timeout */
void cond_stop(struct svc *s);		   /* it was killed (probe_stop): its pipes close */

/* svc.c: the world side of the life cycle */
int make_pipe(int p[2]);
extern const struct svc_ops svc_world_ops;
bool svc_up(struct svc *s);
void set_error(struct svc *s, const char *category, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int svc_spawn_req(struct svc *s, struct spawn_req *r, struct err *e);
void svc_ready(struct svc *s, const char *how); /* E_READY */
void svc_exited(struct svc *s, int status);	/* E_EXIT */
void on_ready_timeout(struct loop_timer *t, void *data);
void on_delay(struct loop_timer *t, void *data);
void on_kill(struct loop_timer *t, void *data);

/* snapshot.c: s's status fields changed (or may have): publish it at the end
 * of the turn. Every change to what ss_run() reads is marked so, by svc_event
 * for each action and by the sites outside the table (output, notify). */
void svc_changed(struct svc *s);

/* fsm.c: a requested stop (E_REQ_STOP), start (E_REQ_START) or restart
 * (E_REQ_RESTART) of s, from a loop callback (the control socket, a watch);
 * by names the requester in the log ("control", "watch"). NULL: accepted (or
 * the outcome holds already); else why it was refused (hfinit is stopping). */
const char *svc_request(struct svc *s, enum svc_event ev, const char *by);

/* devwatch.c: Dev Mode (warnings only: nothing here stops the start) */
void devwatch_setup(struct sv *sv);
void devwatch_teardown(struct sv *sv);

/* control.c: the control socket in the status dir (docs/control.md). open:
 * after the status set-up, never fatal (a warning: no socket); settle: at the
 * end of every loop turn, answers what is known and arms the one timer;
 * close: at exit, tells the waiting clients and removes the socket. */
int control_open(struct sv *sv);
void control_settle(struct sv *sv);
void control_close(struct sv *sv);
/* Something in the status dir was removed: the socket too? Make it again. */
void control_renew(struct sv *sv);

/* snapshot.c: status */
void publish(struct sv *sv, const char *final_state);
int status_setup(struct sv *sv);
void status_teardown(struct sv *sv);

/* supervise.c */
/* Stop everything at the end of this loop turn (the first reason counts). */
void sv_request_shutdown(struct sv *sv, const char *why);
/* The end of a loop turn: the shutdown, the stage gate, the shutdown steps. */
void sv_settle(struct sv *sv);
/* The event loop failed: shut down without it; exit code 1. */
void sv_loop_failed(struct sv *sv);

#endif
