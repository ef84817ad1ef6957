/* Unit tests: the service life cycle table (sup/fsm.c) run with a recorder in
 * place of spawn, signals and timers (no fork), its pure policy, and the
 * PID-1 rule of a failed event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "base/log.h"
#include "sup/sv.h"

#define SEC NS_PER_SEC

/* ------------------------------------------------------------------------- */
/* the recorder */

static struct rec {
	int64_t now;
	bool up[3];	 /* each service's processes are there */
	bool dies;	 /* the stop signal ends them */
	int spawn_rc;	 /* what spawn returns */
	unsigned spawns; /* spawn calls */
	int sigs[32];
	int sig_to[32]; /* which service */
	unsigned nsig;
	int leftover_sigs[8];
	unsigned nleftover;
	bool armed[5];
	int64_t delay[5];
	unsigned releases;
	unsigned release_spawns; /* spawns before the last release */
	int release_state;	 /* the state at the last release */
	int cond_rc;		 /* what the conditions op returns */
	unsigned cond_calls;	 /* its calls */
} rec;

static struct svc svcs[3]; /* the services under test */

static int64_t r_now(void)
{
	return rec.now;
}

static int r_spawn(struct svc *s)
{
	rec.spawns++;
	if (rec.spawn_rc < 0) {
		set_error(s, "spawn", NULL, "exec: No such file or directory");
		return -1;
	}
	s->running = true;
	s->pid = s->pgid = (pid_t)(100 + rec.spawns);
	rec.up[s - svcs] = true;
	return 0;
}

static bool r_up(struct svc *s)
{
	return rec.up[s - svcs];
}

static void r_signal(struct svc *s, int sig)
{
	if (rec.nsig < 32) {
		rec.sig_to[rec.nsig] = (int)(s - svcs);
		rec.sigs[rec.nsig++] = sig;
	}
	if ((rec.dies && sig == s->pol->stop_signal) || sig == SIGKILL)
		rec.up[s - svcs] = false;
}

static void r_leftovers(struct svc *s, int sig)
{
	(void)s;
	if (rec.nleftover < 8)
		rec.leftover_sigs[rec.nleftover++] = sig;
}

static void r_arm(struct svc *s, enum svc_timer t, int64_t d)
{
	(void)s;
	rec.armed[t] = true;
	rec.delay[t] = d;
}

static void r_cancel(struct svc *s, enum svc_timer t)
{
	(void)s;
	rec.armed[t] = false;
}

static void r_probe_stop(struct svc *s)
{
	(void)s;
}

static void r_release(struct svc *s)
{
	rec.releases++;
	rec.release_spawns = rec.spawns;
	rec.release_state = (int)s->state;
}

static int r_conditions(struct svc *s)
{
	rec.cond_calls++;
	if (rec.cond_rc == 0)
		snprintf(s->disabled_reason, sizeof(s->disabled_reason),
			 "condition path:/dev/nvidia0 failed (no such file)");
	return rec.cond_rc;
}

static const struct svc_ops rec_ops = {
    .now = r_now,
    .spawn = r_spawn,
    .up = r_up,
    .signal = r_signal,
    .leftovers = r_leftovers,
    .arm = r_arm,
    .cancel = r_cancel,
    .probe_stop = r_probe_stop,
    .release = r_release,
    .conditions = r_conditions,
};

static bool sent(int sig)
{
	for (unsigned i = 0; i < rec.nsig; i++)
		if (rec.sigs[i] == sig)
			return true;
	return false;
}

/* ------------------------------------------------------------------------- */
/* a supervisor of one service, no loop */

static struct sv sv;
static struct svc_plan plans[3];
static int64_t times[3][8];
static struct status_stage stages[2];
static struct svc_policy pols[3];
static struct probe probe_line = {.kind = PROBE_LINE, .spec = "line:up", .text = "up"};
static struct probe probe_none = {.kind = PROBE_NONE};
static struct probe probe_started = {.kind = PROBE_STARTED, .spec = "started"};
static struct probe probe_file = {.kind = PROBE_FILE, .spec = "file:/x", .text = "/x"};
static struct probe probe_tcp = {.kind = PROBE_TCP, .spec = "tcp:7860", .port = 7860};
static struct probe probe_notify = {.kind = PROBE_NOTIFY, .spec = "notify"};
static const unsigned char codes_0[32] = {1};		 /* the default: exit 0 */
static const unsigned char codes_0_3[32] = {1 | 1 << 3}; /* success_exit_codes = 0 3 */

/* The policy of s, writable. */
static struct svc_policy *pol(struct svc *s)
{
	return &pols[s - svcs];
}

static void setup_n(size_t n)
{
	memset(&rec, 0, sizeof(rec));
	rec.now = 1000 * SEC;
	memset(&sv, 0, sizeof(sv));
	memset(svcs, 0, sizeof(svcs));
	memset(plans, 0, sizeof(plans));
	memset(pols, 0, sizeof(pols));
	sv.ops = &rec_ops;
	sv.svcs = svcs;
	sv.n = n;
	sv.stop_timeout_ns = 10 * SEC;
	stages[0] = (struct status_stage){.stage = 1, .ready_ms = -1};
	stages[1] = (struct status_stage){.stage = 2, .ready_ms = -1};
	sv.stages = stages;
	sv.nstages = 1;
	for (size_t i = 0; i < n; i++) {
		struct svc *s = &svcs[i];
		s->sv = &sv;
		s->p = &plans[i];
		s->name = "web";
		s->restart_times = times[i];
		pols[i] = (struct svc_policy){
		    .name = "web",
		    .stage = 1,
		    .required = true,
		    .retries = 3,
		    .retry_delay_ns = 15 * SEC,
		    .ready_timeout_ns = 30 * SEC,
		    .restart = RESTART_ON_FAILURE,
		    .restart_delay_ns = 1 * SEC,
		    .restart_max_delay_ns = 60 * SEC,
		    .restart_window_ns = 60 * SEC,
		    .restart_burst = 5,
		    .health_interval_ns = 10 * SEC,
		    .health_failures = 3,
		    .stop_signal = SIGTERM,
		    .stop_timeout_ns = 10 * SEC,
		    .ready = {.spec = &probe_line},
		    .health = {.spec = &probe_none},
		    .success_codes = codes_0,
		};
		s->pol = &pols[i];
	}
}

static struct svc *setup(void)
{
	setup_n(1);
	return &svcs[0];
}

/* The main process ends with status; its group with it. */
static void exit_with(struct svc *s, int status)
{
	s->running = false;
	s->pid = 0;
	s->has_exit = true;
	s->last_status = status;
	snprintf(s->exit_text, sizeof(s->exit_text), "exited %d", WEXITSTATUS(status));
	s->exit_has_diag = false;
	rec.up[s - svcs] = false;
	svc_event(s, E_EXIT);
}

static void ready(struct svc *s)
{
	s->ready_how = "ready line on stdout";
	svc_event(s, E_READY);
}

/* ------------------------------------------------------------------------- */

static void test_start_then_ready(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(rec.spawns, 1);
	assert_int_equal(s->attempt, 1);
	assert_true(rec.armed[T_READY]);
	assert_true(rec.delay[T_READY] == 30 * SEC);
	assert_true(sv.progress_due);
	rec.now += 2 * SEC;
	ready(s);
	assert_int_equal(s->state, S_READY);
	assert_false(rec.armed[T_READY]);
	assert_true(s->became_ready);
	assert_int_equal(s->ready_ms, 2000);
	/* A second start is not an event of a ready service. */
	sv.progress_due = false;
	svc_event(s, E_START);
	assert_int_equal(rec.spawns, 1);
	assert_false(sv.progress_due);
}

static void test_ready_started(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->ready.spec = &probe_started;
	pol(s)->health.spec = &probe_tcp;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_READY);
	assert_true(s->health_active);
	assert_true(rec.armed[T_PROBE]);
	assert_true(rec.delay[T_PROBE] == 10 * SEC);
}

static void test_polled_probe_starts_from_the_loop(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->ready.spec = &probe_file;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_STARTING);
	assert_true(rec.armed[T_PROBE]);
	assert_true(rec.delay[T_PROBE] == 0);
}

static void test_ready_line_during_stopping_is_ignored(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(s->after, AFTER_RETRY);
	assert_int_equal(svc_public_state(s), S_STARTING); /* status.json: as today */
	assert_true(sent(SIGTERM));
	assert_true(sent(SIGCONT));
	assert_true(rec.armed[T_KILL]);
	assert_string_equal(s->error.category, "ready-timeout");
	ready(s);
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(s->ready_ns, 0);
	exit_with(s, 15); /* killed by SIGTERM */
	assert_int_equal(s->state, S_RETRYING);
	assert_false(rec.armed[T_KILL]);
	assert_true(rec.armed[T_DELAY]);
	assert_true(rec.delay[T_DELAY] == 15 * SEC);
	assert_int_equal(rec.releases, 1);
	assert_int_equal(rec.leftover_sigs[0], SIGTERM);
}

static void test_timeout_retries_then_fails(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->retries = 2;
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	/* It ignores SIGTERM: SIGKILL after stop_timeout. */
	assert_true(rec.up[0]);
	svc_event(s, E_KILLTIME);
	assert_true(sent(SIGKILL));
	assert_true(s->killed);
	svc_event(s, E_GONE);
	assert_int_equal(s->state, S_RETRYING);
	svc_event(s, E_START);
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(s->attempt, 2);
	assert_int_equal(rec.leftover_sigs[1], SIGKILL); /* what run 1 left */
	rec.dies = true;
	svc_event(s, E_TIMEOUT);
	svc_event(s, E_GONE);
	assert_int_equal(s->state, S_FAILED);
	assert_int_equal(sv.exit_code, 1);
	assert_string_equal(sv.shutdown_why, "a required service failed");
	/* Failed is final. */
	svc_event(s, E_START);
	assert_int_equal(rec.spawns, 2);
}

static void test_optional_failure_degrades(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->required = false;
	pol(s)->retries = 1;
	svc_event(s, E_START);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_FAILED);
	assert_int_equal(sv.exit_code, 0);
	assert_null(sv.shutdown_why);
	assert_string_equal(s->error.msg, "exited 1 before it was ready");
}

static void test_spawn_failure_counts_as_an_attempt(void **state)
{
	struct svc *s = setup();
	(void)state;
	rec.spawn_rc = -1;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_RETRYING);
	assert_true(rec.armed[T_DELAY]);
	assert_int_equal(rec.nsig, 0);
	/* A planner error fails at once, without retries and without a spawn. */
	s = setup();
	plans[0].error = "user nobody2 does not exist";
	svc_event(s, E_START);
	assert_int_equal(rec.spawns, 0);
	assert_int_equal(s->state, S_FAILED);
	assert_string_equal(s->error.category, "setup");
}

static void test_exit_of_a_ready_service_on_failure(void **state)
{
	struct svc *s = setup();
	(void)state;
	/* Clean: done, never started again. */
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 0);
	assert_int_equal(s->state, S_STOPPED);
	assert_int_equal(s->restarts, 0);
	assert_false(rec.armed[T_DELAY]);
	/* Failure: restarted after restart_delay. */
	s = setup();
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_RESTARTING);
	assert_int_equal(s->restarts, 1);
	assert_true(rec.delay[T_DELAY] == 1 * SEC);
	assert_string_equal(s->error.msg, "exited 1");
	svc_event(s, E_START);
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(s->attempt, 1);
	/* restart = no: failed. */
	s = setup();
	pol(s)->restart = RESTART_NO;
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 2 << 8);
	assert_int_equal(s->state, S_FAILED);
}

static void test_burst_in_the_window_fails(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	for (unsigned i = 0; i < 5; i++) {
		ready(s);
		rec.now += SEC;
		exit_with(s, 1 << 8);
		assert_int_equal(s->state, S_RESTARTING);
		/* 1 s, then doubled: 2, 4, 8, 16 */
		assert_true(rec.delay[T_DELAY] == ((int64_t)1 << i) * SEC);
		svc_event(s, E_START);
	}
	ready(s);
	rec.now += SEC;
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_FAILED);
	assert_string_equal(s->error.category, "crash-loop");
	assert_non_null(strstr(s->error.msg, "gave up after 5 restarts within 1m"));
	assert_int_equal(sv.exit_code, 1);
}

/* Durations in messages are written as in the config: 1h, not 60m. */
static void test_durations_in_the_config_format(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->restart_burst = 1;
	pol(s)->restart_window_ns = 3600 * SEC;
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_FAILED);
	assert_non_null(strstr(s->error.msg, "gave up after 1 restarts within 1h; last: exited 1"));
}

static void test_restarts_outside_the_window_go_on(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	for (unsigned i = 0; i < 8; i++) {
		ready(s);
		rec.now += 61 * SEC; /* up for more than the window each time */
		exit_with(s, 1 << 8);
		assert_int_equal(s->state, S_RESTARTING);
		assert_true(rec.delay[T_DELAY] == 1 * SEC); /* back-off starts again */
		svc_event(s, E_START);
	}
}

static void test_unhealthy_restarts(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->health.spec = &probe_tcp;
	rec.dies = true;
	svc_event(s, E_START);
	ready(s);
	assert_true(s->health_active);
	svc_event(s, E_UNHEALTHY);
	assert_false(s->health_active);
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(s->after, AFTER_RESTART);
	assert_true(sent(SIGTERM));
	exit_with(s, 15);
	assert_int_equal(s->state, S_RESTARTING);
}

/* type = oneshot: no probe; done at a clean exit (the ready time is the run's
 * length), its stage passes; the process group is not signalled. */
static void test_oneshot_done(void **state)
{
	struct svc *s = setup();
	bool rr;
	(void)state;
	pol(s)->oneshot = true;
	pol(s)->ready.spec = &probe_started;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_STARTING);
	assert_true(rec.armed[T_READY]);
	assert_false(rec.armed[T_PROBE]);
	assert_false(stage_done(svcs, 1, 1));
	assert_string_equal(overall_state(svcs, 1, false, false, &rr), "starting");
	assert_false(rr);
	rec.now += 1500 * NS_PER_MS;
	snprintf(s->exit_text, sizeof(s->exit_text), "exited 0");
	exit_with(s, 0);
	assert_int_equal(s->state, S_DONE);
	assert_string_equal(svc_state_name(S_DONE), "done");
	assert_false(rec.armed[T_READY]);
	assert_int_equal(s->ready_ms, 1500);
	assert_int_equal(rec.nsig, 0);
	assert_int_equal(s->pgid, 0);
	assert_true(stage_done(svcs, 1, 1));
	assert_string_equal(overall_state(svcs, 1, true, false, &rr), "ready");
	assert_true(rr);
	/* The done row: nothing starts it again, a shutdown leaves it. */
	sv.progress_due = false;
	svc_event(s, E_START);
	svc_event(s, E_STOP);
	svc_event(s, E_SHUTDOWN);
	svc_event(s, E_WATCHDOG);
	assert_int_equal(s->state, S_DONE);
	assert_int_equal(rec.spawns, 1);
	assert_false(sv.progress_due);
	assert_int_equal(rec.releases, 0); /* its pipes stay while what it left runs */
	/* hfinit start (issue 12) runs it again, with fresh attempts; the first
	 * run's pipes are read and closed before the new ones (as its own). */
	svc_event(s, E_REQ_START);
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(s->attempt, 1);
	assert_int_equal(rec.spawns, 2);
	assert_int_equal(rec.releases, 1);
	assert_int_equal(rec.release_spawns, 1);
	assert_int_equal(rec.release_state, S_DONE);
	assert_int_equal(rec.leftover_sigs[0], SIGKILL);
	exit_with(s, 0);
	assert_int_equal(s->state, S_DONE);
}

/* A one-shot's failed exit or timeout is a failed attempt: retried, then
 * failed (required: exit 1). */
static void test_oneshot_fails(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->oneshot = true;
	pol(s)->retries = 2;
	rec.dies = true;
	svc_event(s, E_START);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_RETRYING);
	assert_string_equal(s->error.msg, "exited 1");
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	assert_true(sent(SIGTERM));
	assert_string_equal(s->error.msg, "not done within 30s (type = oneshot)");
	assert_string_equal(s->error.category, "ready-timeout");
	exit_with(s, 15);
	assert_int_equal(s->state, S_FAILED);
	assert_int_equal(sv.exit_code, 1);
}

/* success_exit_codes = 0 3: exit 3 is clean (a one-shot is done, a longrun
 * with restart = on-failure is not restarted); exit 0 too; 1 is not. */
static void test_success_exit_codes(void **state)
{
	struct svc *s = setup();
	(void)state;
	assert_true(exit_clean(pol(s), 0));
	assert_false(exit_clean(pol(s), 3 << 8));
	pol(s)->success_codes = codes_0_3;
	assert_true(exit_clean(pol(s), 3 << 8));
	assert_false(exit_clean(pol(s), 1 << 8));
	assert_false(exit_clean(pol(s), 3)); /* killed by signal 3 */
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 3 << 8);
	assert_int_equal(s->state, S_STOPPED);
	assert_int_equal(s->restarts, 0);
	assert_true(stage_done(svcs, 1, 1));
	s = setup();
	pol(s)->success_codes = codes_0_3;
	pol(s)->oneshot = true;
	svc_event(s, E_START);
	exit_with(s, 3 << 8);
	assert_int_equal(s->state, S_DONE);
}

/* watchdog =: armed at ready, cancelled by a teardown; a miss restarts
 * under the policy, fails with restart = no; a trigger while starting fails
 * the attempt. */
static void test_watchdog(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->ready.spec = &probe_notify;
	pol(s)->watchdog_ns = 5 * SEC;
	rec.dies = true;
	svc_event(s, E_START);
	assert_false(rec.armed[T_WATCHDOG]);
	ready(s);
	assert_true(rec.armed[T_WATCHDOG]);
	assert_true(rec.delay[T_WATCHDOG] == 5 * SEC);
	set_error(s, "watchdog", NULL, "no WATCHDOG=1 within 5s");
	svc_event(s, E_WATCHDOG);
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(s->after, AFTER_RESTART);
	assert_false(rec.armed[T_WATCHDOG]);
	assert_true(sent(SIGTERM));
	exit_with(s, 15);
	assert_int_equal(s->state, S_RESTARTING);
	assert_int_equal(s->restarts, 1);
	assert_string_equal(s->error.category, "watchdog");
	/* restart = no: failed */
	s = setup();
	pol(s)->ready.spec = &probe_notify;
	pol(s)->watchdog_ns = 5 * SEC;
	pol(s)->restart = RESTART_NO;
	rec.dies = true;
	svc_event(s, E_START);
	ready(s);
	svc_event(s, E_WATCHDOG);
	exit_with(s, 15);
	assert_int_equal(s->state, S_FAILED);
	/* WATCHDOG=trigger before ready: the attempt failed */
	s = setup();
	pol(s)->ready.spec = &probe_notify;
	rec.dies = true;
	svc_event(s, E_START);
	svc_event(s, E_WATCHDOG);
	assert_int_equal(s->after, AFTER_RETRY);
	/* no watchdog: never armed */
	s = setup();
	svc_event(s, E_START);
	ready(s);
	assert_false(rec.armed[T_WATCHDOG]);
}

static void test_shutdown_during_restarting_stops(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_RESTARTING);
	assert_true(rec.armed[T_DELAY]);
	sv.shutting_down = true;
	svc_event(s, E_SHUTDOWN);
	assert_int_equal(s->state, S_STOPPED);
	assert_false(rec.armed[T_DELAY]);
	svc_event(s, E_START);
	assert_int_equal(rec.spawns, 1);
}

static void test_shutdown_while_stopping_for_a_retry(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	assert_int_equal(s->after, AFTER_RETRY);
	sv.shutting_down = true;
	svc_event(s, E_SHUTDOWN);
	svc_event(s, E_STOP);
	assert_int_equal(s->after, AFTER_STOP);
	exit_with(s, 15);
	assert_int_equal(s->state, S_STOPPED);
	assert_false(rec.armed[T_DELAY]);
}

static void test_exit_during_shutdown_stops(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	ready(s);
	sv.shutting_down = true;
	svc_event(s, E_SHUTDOWN);
	exit_with(s, 1 << 8); /* not restarted, not failed */
	assert_int_equal(s->state, S_STOPPED);
	assert_int_equal(s->restarts, 0);
	/* A stop of a ready service: stop_signal to the group, kill timer. */
	s = setup();
	svc_event(s, E_START);
	ready(s);
	svc_event(s, E_STOP);
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(svc_public_state(s), S_READY);
	assert_true(sent(SIGTERM));
	assert_true(rec.delay[T_KILL] == 10 * SEC);
}

static void test_pure_policy(void **state)
{
	int64_t t[5] = {1 * SEC, 2 * SEC, 50 * SEC, 59 * SEC};
	unsigned n = 4;
	(void)state;
	/* at 62 s the first two are out of the 60 s window */
	assert_false(restart_burst_hit(t, &n, 5, 60 * SEC, 62 * SEC));
	assert_int_equal(n, 2);
	assert_true(t[0] == 50 * SEC);
	n = 2;
	assert_true(restart_burst_hit(t, &n, 2, 60 * SEC, 61 * SEC));
	n = 0;
	assert_true(restart_burst_hit(t, &n, 0, 60 * SEC, 61 * SEC));
	assert_true(backoff_next(0, SEC, 60 * SEC, false) == SEC);
	assert_true(backoff_next(SEC, SEC, 60 * SEC, false) == 2 * SEC);
	assert_true(backoff_next(32 * SEC, SEC, 60 * SEC, false) == 60 * SEC);
	assert_true(backoff_next(60 * SEC, SEC, 60 * SEC, false) == 60 * SEC);
	assert_true(backoff_next(16 * SEC, SEC, 60 * SEC, true) == SEC);
	assert_true(restart_wanted(RESTART_ALWAYS, true));
	assert_true(restart_wanted(RESTART_ON_FAILURE, false));
	assert_false(restart_wanted(RESTART_ON_FAILURE, true));
	assert_false(restart_wanted(RESTART_NO, false));
	assert_string_equal(svc_state_name(S_RESTARTING), "restarting");
}

/* ------------------------------------------------------------------------- */
/* conditions and enabled = no (issue 13) */

static struct condition cond_gpu = {.kind = COND_PATH, .spec = "path:/dev/nvidia0"};

static void test_enabled_no_disables(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->disabled = true;
	pol(s)->conds = &cond_gpu;
	pol(s)->nconds = 1;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_DISABLED);
	assert_string_equal(svc_state_name(svc_public_state(s)), "disabled");
	assert_string_equal(s->disabled_reason, "enabled = no");
	assert_int_equal(rec.cond_calls, 0); /* not even looked at */
	assert_int_equal(rec.spawns, 0);
	assert_true(sv.progress_due);
	assert_true(sv.dirty);
}

static void test_failed_condition_disables(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->conds = &cond_gpu;
	pol(s)->nconds = 1;
	rec.cond_rc = 0;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_DISABLED);
	assert_string_equal(s->disabled_reason,
			    "condition path:/dev/nvidia0 failed (no such file)");
	assert_int_equal(rec.spawns, 0);
	/* The disabled row: nothing starts it, a shutdown leaves it as it is. */
	for (int ev = 0; ev < E_NEVENTS; ev++)
		if (ev != E_REQ_START && ev != E_REQ_RESTART)
			svc_event(s, (enum svc_event)ev);
	assert_int_equal(s->state, S_DISABLED);
	assert_int_equal(rec.spawns, 0);
	assert_int_equal(rec.nsig, 0);
}

static void test_exec_condition_then_start(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->conds = &cond_gpu;
	pol(s)->nconds = 1;
	rec.cond_rc = -1; /* an exec: condition runs */
	svc_event(s, E_START);
	assert_int_equal(s->state, S_PENDING);
	assert_int_equal(rec.spawns, 0);
	rec.cond_rc = 1; /* it exited 0: E_START again */
	svc_event(s, E_START);
	assert_int_equal(rec.cond_calls, 2);
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(rec.spawns, 1);
	assert_int_equal(s->attempt, 1);
	/* No conditions: the op is not called. */
	s = setup();
	svc_event(s, E_START);
	assert_int_equal(rec.cond_calls, 0);
	assert_int_equal(s->state, S_STARTING);
}

static void test_shutdown_during_condition(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->conds = &cond_gpu;
	pol(s)->nconds = 1;
	rec.cond_rc = -1;
	svc_event(s, E_START);
	svc_event(s, E_SHUTDOWN);
	assert_int_equal(s->state, S_STOPPED);
	sv.shutting_down = true;
	rec.cond_rc = 1; /* its end, after the shutdown: nothing starts */
	svc_event(s, E_START);
	assert_int_equal(rec.spawns, 0);
}

/* hfinit start on a disabled service starts it without the conditions; a
 * requested stop while an exec: condition runs ends it (probe_stop). */
static void test_requests_and_conditions(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->conds = &cond_gpu;
	pol(s)->nconds = 1;
	rec.cond_rc = 0;
	svc_event(s, E_START);
	assert_int_equal(s->state, S_DISABLED);
	assert_null(svc_request(s, E_REQ_START, "control"));
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(rec.cond_calls, 1);
	assert_int_equal(rec.spawns, 1);
	s = setup();
	pol(s)->conds = &cond_gpu;
	pol(s)->nconds = 1;
	rec.cond_rc = -1;
	svc_event(s, E_START);
	assert_null(svc_request(s, E_REQ_START, "control")); /* nop: the condition runs */
	assert_int_equal(s->state, S_PENDING);
	assert_int_equal(rec.spawns, 0);
	svc_request(s, E_REQ_STOP, "control");
	assert_int_equal(s->state, S_STOPPED);
	assert_int_equal(rec.spawns, 0);
}

/* A disabled service counts as done for its stage and is left out of the
 * overall state: neither serving nor degraded. */
static void test_disabled_in_stage_and_overall(void **state)
{
	bool rr;
	(void)state;
	setup_n(3);
	pols[2].stage = 2;
	svcs[0].state = S_READY;
	svcs[1].state = S_DISABLED; /* required */
	svcs[2].state = S_PENDING;
	assert_true(stage_done(svcs, 3, 1));
	svcs[2].state = S_READY;
	assert_string_equal(overall_state(svcs, 3, true, false, &rr), "ready");
	assert_true(rr);
	pols[1].required = false;
	assert_string_equal(overall_state(svcs, 3, true, false, &rr), "ready");
	/* Every service disabled: ready once every stage started. */
	for (int i = 0; i < 3; i++)
		svcs[i].state = S_DISABLED;
	assert_true(stage_done(svcs, 3, 2));
	assert_string_equal(overall_state(svcs, 3, false, false, &rr), "starting");
	assert_false(rr);
	assert_string_equal(overall_state(svcs, 3, true, false, &rr), "ready");
	assert_true(rr);
}

/* svc_changed: an action marks its service, a nop event or another
 * service's event does not; set_error marks too. overall_bits are what
 * overall_state counts. */
static void test_changed_marks(void **state)
{
	unsigned char ch[3] = {0};
	unsigned count[OV_NBITS] = {0};
	bool rr;
	(void)state;
	setup_n(3);
	sv.changed = ch;
	svc_event(&svcs[1], E_START);
	assert_int_equal(svcs[1].state, S_STARTING);
	assert_memory_equal(ch, ((unsigned char[3]){0, 1, 0}), 3);
	ch[1] = 0;
	sv.dirty = false;
	svc_event(&svcs[0], E_GONE); /* pending: nothing to do */
	assert_memory_equal(ch, ((unsigned char[3]){0, 0, 0}), 3);
	assert_false(sv.dirty);
	set_error(&svcs[2], NULL, NULL, "x");
	assert_memory_equal(ch, ((unsigned char[3]){0, 0, 1}), 3);
	assert_true(sv.dirty);
	pols[2].required = false;
	svcs[0].state = S_READY;
	svcs[2].state = S_FAILED;
	assert_int_equal(overall_bits(&svcs[0]), 1u << OV_REQUIRED);
	assert_int_equal(overall_bits(&svcs[1]), 1u << OV_REQUIRED | 1u << OV_REQUIRED_DOWN);
	assert_int_equal(overall_bits(&svcs[2]), 1u << OV_OPTIONAL_FAILED);
	count[OV_REQUIRED] = 2;
	count[OV_OPTIONAL_FAILED] = 1;
	assert_string_equal(overall_word(count, true, false, &rr), "degraded");
	assert_true(rr);
	count[OV_REQUIRED_DOWN] = 1;
	assert_string_equal(overall_word(count, true, false, &rr), "degraded");
	assert_false(rr);
	assert_string_equal(overall_state(svcs, 3, true, false, &rr), "degraded");
	assert_false(rr);
	sv.changed = NULL;
}

/* sv.stopping marks exactly the services in S_STOPPING (what a reap sends
 * E_GONE to). */
static void test_stopping_marks(void **state)
{
	unsigned char st[3] = {0};
	(void)state;
	setup_n(2);
	sv.stopping = st;
	svc_event(&svcs[0], E_START);
	svc_event(&svcs[1], E_START);
	assert_true(rec.up[0] && rec.up[1]);
	svc_event(&svcs[1], E_STOP);
	assert_int_equal(svcs[1].state, S_STOPPING);
	assert_memory_equal(st, ((unsigned char[3]){0, 1, 0}), 3);
	rec.up[1] = false;
	svc_event(&svcs[1], E_GONE);
	assert_int_not_equal(svcs[1].state, S_STOPPING);
	assert_memory_equal(st, ((unsigned char[3]){0, 0, 0}), 3);
	sv.stopping = NULL;
}

static void test_stage_gate(void **state)
{
	bool rr;
	(void)state;
	setup_n(3);
	pols[2].stage = 2;
	pols[1].required = false;
	assert_int_equal(next_stage(svcs, 3, 0), 1);
	assert_int_equal(next_stage(svcs, 3, 1), 2);
	assert_int_equal(next_stage(svcs, 3, 2), 0);
	svc_event(&svcs[0], E_START);
	svc_event(&svcs[1], E_START);
	assert_false(stage_done(svcs, 3, 1));
	ready(&svcs[0]);
	assert_false(stage_done(svcs, 3, 1));
	/* an optional service that failed does not hold the gate */
	svcs[1].state = S_FAILED;
	assert_true(stage_done(svcs, 3, 1));
	assert_false(stage_done(svcs, 3, 2));
	/* ready in this turn, restarting by its end: the gate saw it ready */
	svcs[0].state = S_RESTARTING;
	assert_true(stage_done(svcs, 3, 1));
	svcs[0].became_ready = false;
	assert_false(stage_done(svcs, 3, 1));
	/* a required one-shot that finished cleanly passes; one that failed not */
	svcs[0].state = S_STOPPED;
	svcs[0].has_exit = true;
	svcs[0].last_status = 0;
	assert_true(stage_done(svcs, 3, 1));
	svcs[0].last_status = 1 << 8;
	assert_false(stage_done(svcs, 3, 1));
	/* overall state */
	svcs[0].state = S_READY;
	svcs[2].state = S_PENDING;
	assert_string_equal(overall_state(svcs, 3, false, false, &rr), "starting");
	assert_false(rr); /* the stage-2 service is required too */
	svcs[2].state = S_READY;
	assert_string_equal(overall_state(svcs, 3, true, false, &rr), "degraded");
	assert_true(rr);
	svcs[1].state = S_READY;
	assert_string_equal(overall_state(svcs, 3, true, false, &rr), "ready");
	assert_string_equal(overall_state(svcs, 3, true, true, &rr), "stopping");
	assert_false(rr);
}

/* The stage gate runs at the end of the turn, not inside the ready event:
 * nothing is spawned from a callback. */
static void test_stage_gate_opens_at_the_end_of_the_turn(void **state)
{
	(void)state;
	setup_n(2);
	pols[1].stage = 2;
	sv.nstages = 2;
	sv.progress_due = true;
	sv_settle(&sv);
	assert_int_equal(rec.spawns, 1);
	assert_int_equal(sv.stage, 1);
	assert_int_equal(svcs[1].state, S_PENDING);
	ready(&svcs[0]);
	assert_int_equal(rec.spawns, 1); /* not from inside the event */
	assert_true(sv.progress_due);
	sv_settle(&sv);
	assert_int_equal(rec.spawns, 2);
	assert_int_equal(svcs[1].state, S_STARTING);
	assert_int_equal(sv.stage, 2);
	assert_true(stages[0].ready_ms >= 0);
	assert_false(sv.progress_due);
	assert_false(svcs[0].became_ready); /* the gate saw it; cleared */
	ready(&svcs[1]);
	sv_settle(&sv);
	assert_true(sv.all_started);
	/* Both end cleanly: every service has ended, hfinit stops. */
	exit_with(&svcs[1], 0);
	assert_null(sv.shutdown_why);
	exit_with(&svcs[0], 0);
	sv_settle(&sv);
	assert_true(sv.shutting_down);
	assert_string_equal(sv.shutdown_why, "every service has ended");
	assert_true(loop_stopped(&sv.loop)); /* no child left */
}

/* A shutdown stops the highest stage first; the next one once it is gone. */
static void test_shutdown_stops_stage_by_stage(void **state)
{
	(void)state;
	setup_n(2);
	pols[1].stage = 2;
	sv.nstages = 2;
	sv.progress_due = true;
	sv_settle(&sv);
	ready(&svcs[0]);
	sv_settle(&sv);
	ready(&svcs[1]);
	sv_settle(&sv);
	sv_request_shutdown(&sv, "SIGTERM");
	sv_settle(&sv);
	assert_true(sv.shutting_down);
	assert_int_equal(svcs[1].state, S_STOPPING);
	assert_int_equal(svcs[0].state, S_READY); /* still serving */
	assert_int_equal(rec.sig_to[0], 1);
	assert_int_equal(rec.sigs[0], SIGTERM);
	exit_with(&svcs[1], 15);
	assert_int_equal(svcs[1].state, S_STOPPED);
	sv_settle(&sv);
	assert_int_equal(svcs[0].state, S_STOPPING);
	exit_with(&svcs[0], 15);
	sv_settle(&sv);
	assert_int_equal(svcs[0].state, S_STOPPED);
	assert_int_equal(sv.exit_code, 0);
	assert_true(loop_stopped(&sv.loop));
}

/* PID-1 rule: the loop fails with a service up; the shutdown runs without the
 * loop, the service gets its stop signal, and the exit code is 1. */
static void test_loop_failure_shuts_down_with_1(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	ready(s);
	rec.dies = true;
	sv.progress_due = false;
	sv_loop_failed(&sv);
	assert_int_equal(sv.exit_code, 1);
	assert_true(sv.shutting_down);
	assert_true(sent(SIGTERM));
	assert_false(sent(SIGKILL));
	/* no child left (the recorder has none): done; the reap ends the stop */
	assert_true(loop_stopped(&sv.loop));
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(s->after, AFTER_STOP);
	svc_event(s, E_GONE);
	assert_int_equal(s->state, S_STOPPED);
}

static void test_loop_failure_kills_what_ignores_term(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	ready(s);
	sv.stop_timeout_ns = 0; /* the deadline is over at once */
	sv_loop_failed(&sv);
	assert_int_equal(sv.exit_code, 1);
	assert_true(sent(SIGTERM));
	assert_true(sent(SIGKILL));
	assert_int_equal(s->state, S_STOPPED);
}

/* ------------------------------------------------------------------------- */
/* requests (issue 12) */

/* Restarted on request four times past restart_burst = 2: still running,
 * nothing counted toward the burst, the back-off not raised. */
static void test_requested_restarts_are_not_crashes(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->restart_burst = 2;
	rec.dies = true;
	svc_event(s, E_START);
	ready(s);
	for (unsigned i = 0; i < 4; i++) {
		assert_null(svc_request(s, E_REQ_RESTART, "control"));
		assert_int_equal(s->state, S_STOPPING);
		assert_int_equal(s->after, AFTER_START);
		assert_int_equal(svc_public_state(s), S_READY);
		assert_true(rec.delay[T_KILL] == 10 * SEC);
		exit_with(s, 15);
		assert_int_equal(s->state, S_RESTARTING);
		assert_true(rec.armed[T_DELAY]);
		assert_true(rec.delay[T_DELAY] == 0); /* at once, from the loop */
		svc_event(s, E_START);
		assert_int_equal(s->state, S_STARTING);
		assert_int_equal(s->attempt, 1);
		ready(s);
	}
	assert_int_equal(s->state, S_READY);
	assert_int_equal(s->requested_restarts, 4);
	assert_int_equal(s->restarts, 0);
	assert_int_equal(s->nrestart_times, 0);
	assert_true(s->backoff_ns == 0);
	assert_int_equal(rec.spawns, 5);
	/* A starting one is restarted too; a pending one waits for its stage. */
	assert_null(svc_request(s, E_REQ_RESTART, "control"));
	exit_with(s, 15);
	svc_event(s, E_START);
	assert_int_equal(s->requested_restarts, 5);
	svc_event(s, E_TIMEOUT); /* attempt 1 of 3 failed: retrying */
	exit_with(s, 15);
	assert_int_equal(s->state, S_RETRYING);
	assert_null(svc_request(s, E_REQ_RESTART, "watch"));
	assert_int_equal(s->state, S_STARTING); /* the retry delay is not waited for */
	assert_int_equal(s->attempt, 1);
	s = setup();
	sv.progress_due = false;
	assert_null(svc_request(s, E_REQ_RESTART, "control"));
	assert_int_equal(s->state, S_PENDING);
	assert_int_equal(rec.spawns, 0);
}

/* A required service stopped on request: down for good, no shutdown, its
 * stage counts as done, hfinit stays up; a requested start brings it back. */
static void test_requested_stop_of_a_required_service(void **state)
{
	bool rr;
	(void)state;
	setup_n(2);
	sv.progress_due = true;
	sv_settle(&sv);
	ready(&svcs[0]);
	ready(&svcs[1]);
	sv_settle(&sv);
	assert_true(sv.all_started);
	rec.dies = true;
	assert_null(svc_request(&svcs[0], E_REQ_STOP, "control"));
	assert_int_equal(svcs[0].state, S_STOPPING);
	assert_true(sent(SIGTERM));
	exit_with(&svcs[0], 15);
	sv_settle(&sv);
	assert_int_equal(svcs[0].state, S_STOPPED);
	assert_string_equal(svcs[0].stopped_by, "request");
	assert_null(sv.shutdown_why);
	assert_int_equal(sv.exit_code, 0);
	assert_true(stage_done(svcs, 2, 1));
	assert_string_equal(overall_state(svcs, 2, true, false, &rr), "degraded");
	assert_false(rr);
	/* Nothing else starts it: no E_START of a stopped service acts. */
	svc_event(&svcs[0], E_START);
	assert_int_equal(rec.spawns, 2);
	/* Both stopped on request: hfinit still runs. */
	assert_null(svc_request(&svcs[1], E_REQ_STOP, "control"));
	exit_with(&svcs[1], 15);
	sv_settle(&sv);
	assert_null(sv.shutdown_why);
	assert_false(sv.shutting_down);
	/* A requested stop of a stopped one changes nothing. */
	sv.progress_due = false;
	assert_null(svc_request(&svcs[1], E_REQ_STOP, "control"));
	assert_false(sv.progress_due);
	assert_null(svc_request(&svcs[0], E_REQ_START, "control"));
	assert_int_equal(svcs[0].state, S_STARTING);
	assert_int_equal(svcs[0].attempt, 1);
	assert_null(svcs[0].stopped_by);
	ready(&svcs[0]);
	assert_string_equal(overall_state(svcs, 2, true, false, &rr), "degraded");
	assert_null(svc_request(&svcs[1], E_REQ_START, "control"));
	ready(&svcs[1]);
	assert_string_equal(overall_state(svcs, 2, true, false, &rr), "ready");
	assert_true(rr);
}

/* Stops of a service that is not running, and of one already stopping. */
static void test_requested_stop_while_not_running(void **state)
{
	struct svc *s = setup();
	(void)state;
	/* pending: stopped at once; the stage gate passes it */
	assert_null(svc_request(s, E_REQ_STOP, "control"));
	assert_int_equal(s->state, S_STOPPED);
	assert_string_equal(s->stopped_by, "request");
	assert_true(stage_done(svcs, 1, 1));
	/* restarting: the delay is cancelled */
	s = setup();
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_RESTARTING);
	assert_null(svc_request(s, E_REQ_STOP, "control"));
	assert_int_equal(s->state, S_STOPPED);
	assert_false(rec.armed[T_DELAY]);
	/* stopping for a retry: it ends stopped; a start then turns it around */
	s = setup();
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	assert_null(svc_request(s, E_REQ_STOP, "control"));
	assert_int_equal(s->after, AFTER_STOP);
	assert_null(svc_request(s, E_REQ_START, "control"));
	assert_int_equal(s->after, AFTER_START);
	assert_int_equal(s->state, S_STOPPING);
	exit_with(s, 15);
	assert_int_equal(s->state, S_RESTARTING);
	assert_null(s->stopped_by);
	/* failing for good: it stays failed */
	s = setup();
	pol(s)->retries = 1;
	pol(s)->required = false;
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	assert_int_equal(s->after, AFTER_FAIL);
	assert_null(svc_request(s, E_REQ_STOP, "control"));
	exit_with(s, 15);
	assert_int_equal(s->state, S_FAILED);
	assert_null(s->stopped_by);
}

/* A failed service (a crash loop) starts again with fresh attempts and an
 * empty restart window. */
static void test_requested_start_of_a_failed_service(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->required = false;
	pol(s)->restart_burst = 1;
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	svc_event(s, E_START);
	ready(s);
	exit_with(s, 1 << 8);
	assert_int_equal(s->state, S_FAILED);
	assert_string_equal(s->error.category, "crash-loop");
	assert_null(svc_request(s, E_REQ_START, "control"));
	assert_int_equal(s->state, S_STARTING);
	assert_int_equal(s->attempt, 1);
	assert_int_equal(s->nrestart_times, 0);
	assert_true(s->backoff_ns == 0);
	ready(s);
	exit_with(s, 1 << 8); /* a crash after it: restarted, as the first one was */
	assert_int_equal(s->state, S_RESTARTING);
	/* A start of a ready one changes nothing. */
	svc_event(s, E_START);
	ready(s);
	sv.progress_due = false;
	assert_null(svc_request(s, E_REQ_START, "control"));
	assert_false(sv.progress_due);
	assert_int_equal(s->state, S_READY);
}

/* A required service failing for good (its last attempt timed out; SIGTERM
 * sent) is not forgiven by a restart, start or watch change in the stop
 * window: it ends failed and hfinit stops, as for a request a moment later. */
static void test_requests_while_failing_for_good(void **state)
{
	struct svc *s = setup();
	(void)state;
	pol(s)->retries = 1;
	svc_event(s, E_START);
	svc_event(s, E_TIMEOUT);
	assert_int_equal(s->state, S_STOPPING);
	assert_int_equal(s->after, AFTER_FAIL);
	assert_null(svc_request(s, E_REQ_RESTART, "control"));
	assert_null(svc_request(s, E_REQ_RESTART, "watch"));
	assert_null(svc_request(s, E_REQ_START, "control"));
	assert_int_equal(s->after, AFTER_FAIL);
	assert_int_equal(s->state, S_STOPPING);
	exit_with(s, 15);
	assert_int_equal(s->state, S_FAILED);
	assert_false(rec.armed[T_DELAY]);
	assert_int_equal(rec.spawns, 1);
	assert_int_equal(sv.exit_code, 1);
	assert_string_equal(sv.shutdown_why, "a required service failed");
}

/* While hfinit stops, every request is refused and nothing changes. */
static void test_requests_refused_while_stopping(void **state)
{
	struct svc *s = setup();
	(void)state;
	svc_event(s, E_START);
	ready(s);
	sv_request_shutdown(&sv, "SIGTERM");
	assert_string_equal(svc_request(s, E_REQ_RESTART, "control"), "hfinit is stopping");
	assert_int_equal(s->state, S_READY);
	sv.shutting_down = true;
	assert_string_equal(svc_request(s, E_REQ_STOP, "control"), "hfinit is stopping");
	assert_int_equal(s->requested_restarts, 0);
	assert_non_null(svc_request(s, E_START, "control")); /* not a request */
	/* A restart under way when the shutdown comes ends stopped. */
	s = setup();
	svc_event(s, E_START);
	ready(s);
	assert_null(svc_request(s, E_REQ_RESTART, "control"));
	sv.shutting_down = true;
	svc_event(s, E_STOP);
	assert_int_equal(s->after, AFTER_STOP);
	exit_with(s, 15);
	assert_int_equal(s->state, S_STOPPED);
	assert_false(rec.armed[T_DELAY]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_then_ready),
	    cmocka_unit_test(test_ready_started),
	    cmocka_unit_test(test_polled_probe_starts_from_the_loop),
	    cmocka_unit_test(test_ready_line_during_stopping_is_ignored),
	    cmocka_unit_test(test_timeout_retries_then_fails),
	    cmocka_unit_test(test_optional_failure_degrades),
	    cmocka_unit_test(test_spawn_failure_counts_as_an_attempt),
	    cmocka_unit_test(test_exit_of_a_ready_service_on_failure),
	    cmocka_unit_test(test_burst_in_the_window_fails),
	    cmocka_unit_test(test_durations_in_the_config_format),
	    cmocka_unit_test(test_restarts_outside_the_window_go_on),
	    cmocka_unit_test(test_unhealthy_restarts),
	    cmocka_unit_test(test_oneshot_done),
	    cmocka_unit_test(test_oneshot_fails),
	    cmocka_unit_test(test_success_exit_codes),
	    cmocka_unit_test(test_watchdog),
	    cmocka_unit_test(test_shutdown_during_restarting_stops),
	    cmocka_unit_test(test_shutdown_while_stopping_for_a_retry),
	    cmocka_unit_test(test_exit_during_shutdown_stops),
	    cmocka_unit_test(test_pure_policy),
	    cmocka_unit_test(test_stage_gate),
	    cmocka_unit_test(test_stage_gate_opens_at_the_end_of_the_turn),
	    cmocka_unit_test(test_shutdown_stops_stage_by_stage),
	    cmocka_unit_test(test_loop_failure_shuts_down_with_1),
	    cmocka_unit_test(test_loop_failure_kills_what_ignores_term),
	    cmocka_unit_test(test_requested_restarts_are_not_crashes),
	    cmocka_unit_test(test_requested_stop_of_a_required_service),
	    cmocka_unit_test(test_requested_stop_while_not_running),
	    cmocka_unit_test(test_requested_start_of_a_failed_service),
	    cmocka_unit_test(test_requests_refused_while_stopping),
	    cmocka_unit_test(test_requests_while_failing_for_good),
	    cmocka_unit_test(test_enabled_no_disables),
	    cmocka_unit_test(test_failed_condition_disables),
	    cmocka_unit_test(test_exec_condition_then_start),
	    cmocka_unit_test(test_shutdown_during_condition),
	    cmocka_unit_test(test_requests_and_conditions),
	    cmocka_unit_test(test_disabled_in_stage_and_overall),
	    cmocka_unit_test(test_changed_marks),
	    cmocka_unit_test(test_stopping_marks),
	};
	log_setup(LOG_LVL_ERROR, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
