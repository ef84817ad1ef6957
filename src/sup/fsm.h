/* The service life cycle as a [state][event] action table (docs/design.md,
 * "Supervisor"), s6-supervise style. Pure: an action changes the service's
 * fields and reaches the world only through the ops vector (spawn, signal,
 * timers, probes), so tests/unit/test_fsm.c runs it with a recorder and no
 * fork. It reads the service's plan (struct svc_policy) and nothing else of
 * the config. Callbacks of the event loop only turn I/O into events; stage progress,
 * shutdown steps and status publication run once at the end of each loop
 * turn (sv->progress_due, sv->dirty). */
#ifndef HFINIT_SUP_FSM_H
#define HFINIT_SUP_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

/* The public names (status.json) are those of svc_state_name(); S_STOPPING is
 * internal: it reports the state the teardown started from. */
enum svc_state {
	S_PENDING,
	S_STARTING,
	S_READY,
	S_STOPPING, /* a teardown is under way; s->after says what comes next */
	S_RETRYING,
	S_RESTARTING,
	S_FAILED,
	S_STOPPED,
	S_DONE,	    /* a one-shot exited with a success code (issue 13) */
	S_DISABLED, /* a condition failed or enabled = no (issue 13) */
	S_NSTATES,
};

enum svc_event {
	E_START,       /* the stage gate opened, or the retry/restart delay expired */
	E_READY,       /* ready line, READY=1, fd:N newline, probe ok (s->ready_how) */
	E_EXIT,	       /* the main process was reaped (s->last_status, s->exit_text) */
	E_TIMEOUT,     /* ready_timeout expired */
	E_UNHEALTHY,   /* health_failures probes in a row failed (s->error.msg says so) */
	E_GONE,	       /* something was reaped: the process group may be empty */
	E_KILLTIME,    /* stop_timeout after stop_signal */
	E_STOP,	       /* shutdown, in stage order: stop this service */
	E_SHUTDOWN,    /* hfinit is stopping: nothing starts again */
	E_REQ_STOP,    /* a control request: stop it and keep it down (issue 12) */
	E_REQ_START,   /* a control request: start it with fresh attempts (issue 12) */
	E_REQ_RESTART, /* a control request or a watch: stop, start again (issue 12) */
	E_WATCHDOG,    /* no WATCHDOG=1 within watchdog = (issue 13) */
	E_NEVENTS,
};

/* What to do once a service's processes are gone. */
/* AFTER_START: a requested start or restart, at once and with fresh attempts. */
enum after { AFTER_NONE, AFTER_RETRY, AFTER_RESTART, AFTER_FAIL, AFTER_STOP, AFTER_START };

enum svc_timer { T_READY, T_DELAY, T_KILL, T_PROBE, T_WATCHDOG };

struct svc;
struct svc_ops {
	int64_t (*now)(void);			/* CLOCK_MONOTONIC, ns */
	int (*spawn)(struct svc *s);		/* main process and its pipes; -1: last_error set */
	bool (*up)(struct svc *s);		/* main process or its group still there */
	void (*signal)(struct svc *s, int sig); /* the process group (and the main pid) */
	void (*leftovers)(struct svc *s, int sig); /* what earlier runs left outside the group */
	void (*arm)(struct svc *s, enum svc_timer t, int64_t delay_ns);
	void (*cancel)(struct svc *s, enum svc_timer t);
	void (*probe_stop)(struct svc *s);
	void (*release)(struct svc *s); /* the processes are gone: read and close the pipes */
	/* The conditions from s->cond_at on: 1 all hold, 0 one failed
	 * (s->disabled_reason says which), -1 an exec: one runs (its end comes
	 * as E_START). cond.c. */
	int (*conditions)(struct svc *s);
};

/* Dispatch ev through the table; sets s->sv->progress_due when it acted. */
void svc_event(struct svc *s, enum svc_event ev);
const char *svc_state_name(enum svc_state st);
/* The state status.json reports (S_STOPPING: the one it came from). */
enum svc_state svc_public_state(const struct svc *s);

/* Pure policy (policy.c). */
/* Drop the restart times older than the window; true when another restart
 * would exceed burst (burst 0: never restart). */
bool restart_burst_hit(int64_t *times, unsigned *n, unsigned burst, int64_t window, int64_t now);
/* The next restart delay: first at the start or after a whole window up,
 * then doubled up to max. */
int64_t backoff_next(int64_t cur, int64_t first, int64_t max, bool stayed_up);
/* The wait status is an exit with one of p's success_exit_codes. */
bool exit_clean(const struct svc_policy *p, int status);
/* Restart after an exit once ready? */
bool restart_wanted(enum restart_policy p, bool clean);
/* Every service of stage is ready, done, finished cleanly, or optional and over. */
bool stage_done(const struct svc *v, size_t n, unsigned stage);
/* The lowest stage above after, 0 when none. */
unsigned next_stage(const struct svc *v, size_t n, unsigned after);
/* A service's part in the overall state: OV_* bits. */
enum { OV_REQUIRED, OV_REQUIRED_DOWN, OV_OPTIONAL_FAILED, OV_NBITS };
unsigned overall_bits(const struct svc *s);
/* count[k] += (or -=, with add false) bit k of bits, for each k. */
void overall_count(unsigned count[OV_NBITS], unsigned bits, bool add);
/* The overall state from count[k], the services with bit k. */
const char *overall_word(const unsigned count[OV_NBITS], bool all_started, bool shutting_down,
			 bool *all_required_ready);
/* The overall state of status.json: overall_word over every service. */
const char *overall_state(const struct svc *v, size_t n, bool all_started, bool shutting_down,
			  bool *all_required_ready);

#endif
