/* The one event loop: epoll + signalfd + one-shot timers from a single
 * deadline list (s6 iopause style). epoll_wait's timeout is computed from the
 * nearest deadline, -1 when no timer is armed, so an idle loop makes no
 * wake-ups at all: no periodic tick, no polling.
 *
 * Everything is intrusive and caller-owned (struct loop, struct loop_watch,
 * struct loop_timer): no allocation. Structures are linked by address, so
 * they must not be moved or copied while registered/armed.
 *
 * Typical use (single-child mode, later the supervisor):
 *
 *	sigset_t mask;            // signals already blocked with sigprocmask
 *	struct loop l;
 *	loop_init(&l, &mask, on_signal, ctx, &err);
 *	loop_watch_add(&l, &w, fd, EPOLLIN, on_readable, ctx);
 *	loop_timer_init(&t, on_timeout, ctx);
 *	loop_timer_arm(&l, &t, mono_now_ns() + 5 * NS_PER_SEC);
 *	while (!loop_stopped(&l))
 *		loop_run_once(&l);          // or loop_run(&l)
 *	loop_fini(&l);
 *
 * Callbacks may add/modify/remove watches and arm/cancel timers (their own
 * included) and call loop_stop(). A watch removed while events for it are
 * pending in the current batch is not called again. Timers that become due
 * while timers are being fired (a callback arming one at "now") fire on the
 * next turn, after fd events, so a timer cannot starve the loop. */
#ifndef HFINIT_LOOP_H
#define HFINIT_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "base/err.h"

#define NS_PER_MS  INT64_C(1000000)
#define NS_PER_SEC INT64_C(1000000000)

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t mono_now_ns(void);

/* --- deadline list (pure: no syscalls; unit-tested on its own) ------------ */

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop_timer *t, void *data);

struct loop_timer {
	struct loop_timer *prev, *next; /* NULL while not armed */
	int64_t deadline;		/* absolute CLOCK_MONOTONIC ns */
	loop_timer_fn fn;
	void *data;
};

/* Timers sorted by deadline; equal deadlines fire in the order they were
 * armed. `head` is a sentinel: the list must not be moved after init. */
struct timer_list {
	struct loop_timer head;
};

void timer_list_init(struct timer_list *tl);
/* A timer must be initialised once before use (not armed). */
void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *data);
bool loop_timer_armed(const struct loop_timer *t);
/* Arm t at an absolute deadline; re-arming an armed timer moves it. */
void timer_list_arm(struct timer_list *tl, struct loop_timer *t, int64_t deadline);
/* Disarm t; a no-op when it is not armed. */
void timer_list_cancel(struct loop_timer *t);
/* Earliest armed timer, or NULL. */
struct loop_timer *timer_list_first(const struct timer_list *tl);
/* epoll_wait timeout for `now`: -1 when nothing is armed, 0 when the first
 * deadline has passed, else the time left rounded UP to whole milliseconds
 * (never wake before the deadline), capped at INT_MAX. */
int timer_list_timeout_ms(const struct timer_list *tl, int64_t now);
/* Fire (disarm, then call) every timer whose deadline is <= now, in
 * deadline order. Timers armed by the callbacks wait for the next call.
 * Returns how many fired. */
int timer_list_run_due(struct timer_list *tl, int64_t now);

/* --- the loop --------------------------------------------------------------- */

struct loop_watch;
typedef void (*loop_watch_fn)(struct loop_watch *w, uint32_t revents);

struct loop_watch {
	int fd; /* -1 while not registered */
	uint32_t events;
	loop_watch_fn fn;
	void *data;
};

/* Called once per signal read from the signalfd, in arrival order. */
typedef void (*loop_signal_fn)(const struct signalfd_siginfo *si, void *data);

#define LOOP_MAX_EVENTS 32

struct loop {
	int epfd;
	int sigfd;
	bool stopped;
	struct loop_watch sigwatch;
	loop_signal_fn sigfn;
	void *sigdata;
	struct timer_list timers;
	/* the batch being dispatched (so loop_watch_del can void its entries) */
	struct epoll_event batch[LOOP_MAX_EVENTS];
	int batch_n, batch_i;
};

/* Create the epoll instance and a signalfd for `mask` (the caller has
 * already blocked those signals). mask may be NULL: no signalfd. */
int loop_init(struct loop *l, const sigset_t *mask, loop_signal_fn fn, void *data, struct err *e);
/* Close the loop's own fds; watched fds are the caller's to close. */
void loop_fini(struct loop *l);

/* Register fd for events (EPOLLIN, EPOLLOUT, ...); fn gets the revents. */
int loop_watch_add(struct loop *l, struct loop_watch *w, int fd, uint32_t events, loop_watch_fn fn,
		   void *data);
int loop_watch_mod(struct loop *l, struct loop_watch *w, uint32_t events);
/* Unregister (call before closing the fd); a no-op when not registered. */
int loop_watch_del(struct loop *l, struct loop_watch *w);

void loop_timer_arm(struct loop *l, struct loop_timer *t, int64_t deadline);
void loop_timer_arm_in(struct loop *l, struct loop_timer *t, int64_t delay_ns);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Wait for the next event or deadline and dispatch: 0, or -1 with errno on
 * an error that is not transient (EINTR is handled here and returns 0). */
int loop_run_once(struct loop *l);
/* loop_run_once until loop_stop(); 0, or -1 as loop_run_once. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
bool loop_stopped(const struct loop *l);

#endif
