/* Deadline list and event loop: ordering, ties, cancel, re-arm, timeout
 * computation, firing rules; then the real loop with pipes, a signalfd and
 * short timers (no forking). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "run/loop.h"

/* Records the order in which timers fire: each timer's data is its label. */
static char fired[64];
static size_t nfired;

static void record(struct loop_timer *t, void *data)
{
	(void)t;
	if (nfired < sizeof(fired) - 1)
		fired[nfired++] = *(const char *)data;
	fired[nfired] = '\0';
}

static void reset_record(void)
{
	nfired = 0;
	fired[0] = '\0';
}

/* Labels of the armed timers, in list order. */
static const char *order(const struct timer_list *tl)
{
	static char buf[64];
	size_t n = 0;
	const struct loop_timer *t;

	for (t = tl->head.next; t != &tl->head && n < sizeof(buf) - 1; t = t->next)
		buf[n++] = *(const char *)t->data;
	buf[n] = '\0';
	return buf;
}

#define TIMER(name)                                                                                \
	struct loop_timer name;                                                                    \
	loop_timer_init(&name, record, #name)

static void test_empty(void **state)
{
	struct timer_list tl;

	(void)state;
	timer_list_init(&tl);
	assert_null(timer_list_first(&tl));
	assert_int_equal(timer_list_timeout_ms(&tl, 0), -1);
	assert_int_equal(timer_list_timeout_ms(&tl, INT64_MAX), -1);
	assert_int_equal(timer_list_run_due(&tl, INT64_MAX), 0);
}

static void test_ordering_and_ties(void **state)
{
	struct timer_list tl;
	TIMER(a);
	TIMER(b);
	TIMER(c);
	TIMER(d);
	TIMER(e);

	(void)state;
	timer_list_init(&tl);
	timer_list_arm(&tl, &c, 300);
	timer_list_arm(&tl, &a, 100);
	timer_list_arm(&tl, &e, 500);
	timer_list_arm(&tl, &b, 300); /* tie with c: armed later, fires later */
	timer_list_arm(&tl, &d, 300);
	assert_string_equal(order(&tl), "acbde");
	assert_ptr_equal(timer_list_first(&tl), &a);
	assert_true(loop_timer_armed(&a));

	reset_record();
	assert_int_equal(timer_list_run_due(&tl, 99), 0);
	assert_int_equal(timer_list_run_due(&tl, 300), 4);
	assert_string_equal(fired, "acbd");
	assert_false(loop_timer_armed(&a));
	assert_false(loop_timer_armed(&d));
	assert_true(loop_timer_armed(&e));
	assert_string_equal(order(&tl), "e");
}

static void test_cancel(void **state)
{
	struct timer_list tl;
	TIMER(a);
	TIMER(b);
	TIMER(c);
	TIMER(x);

	(void)state;
	timer_list_init(&tl);
	timer_list_cancel(&x); /* never armed: no-op */
	timer_list_arm(&tl, &a, 1);
	timer_list_arm(&tl, &b, 2);
	timer_list_arm(&tl, &c, 3);
	timer_list_cancel(&b); /* middle */
	assert_string_equal(order(&tl), "ac");
	timer_list_cancel(&b); /* twice: no-op */
	timer_list_cancel(&a); /* head */
	assert_string_equal(order(&tl), "c");
	assert_int_equal(timer_list_timeout_ms(&tl, 0), 1);
	timer_list_cancel(&c); /* last */
	assert_null(timer_list_first(&tl));
	assert_int_equal(timer_list_timeout_ms(&tl, 0), -1);
	assert_false(loop_timer_armed(&c));
}

static void test_rearm(void **state)
{
	struct timer_list tl;
	TIMER(a);
	TIMER(b);
	TIMER(c);

	(void)state;
	timer_list_init(&tl);
	timer_list_arm(&tl, &a, 10);
	timer_list_arm(&tl, &b, 20);
	timer_list_arm(&tl, &c, 30);
	timer_list_arm(&tl, &a, 40); /* later: moves to the back */
	assert_string_equal(order(&tl), "bca");
	timer_list_arm(&tl, &c, 5); /* earlier: moves to the front */
	assert_string_equal(order(&tl), "cba");
	timer_list_arm(&tl, &b, 40); /* same as a's: after a */
	assert_string_equal(order(&tl), "cab");
	timer_list_arm(&tl, &a, 40); /* re-arm at the same deadline: after b */
	assert_string_equal(order(&tl), "cba");
	assert_int_equal(c.deadline, 5);
}

static void test_timeout_ms(void **state)
{
	struct timer_list tl;
	TIMER(a);

	(void)state;
	timer_list_init(&tl);
	timer_list_arm(&tl, &a, 10 * NS_PER_MS);
	assert_int_equal(timer_list_timeout_ms(&tl, 0), 10);
	assert_int_equal(timer_list_timeout_ms(&tl, 10 * NS_PER_MS - 1), 1); /* 1 ns left: 1 ms */
	assert_int_equal(timer_list_timeout_ms(&tl, 10 * NS_PER_MS), 0);     /* due now */
	assert_int_equal(timer_list_timeout_ms(&tl, 11 * NS_PER_MS), 0);     /* overdue */
	assert_int_equal(timer_list_timeout_ms(&tl, 8 * NS_PER_MS + 500000), 2); /* 1.5 ms: 2 */
	assert_int_equal(timer_list_timeout_ms(&tl, 9 * NS_PER_MS), 1);

	timer_list_arm(&tl, &a, INT64_MAX); /* far future: capped */
	assert_int_equal(timer_list_timeout_ms(&tl, 0), INT_MAX);
	assert_int_equal(timer_list_timeout_ms(&tl, INT64_MIN), INT_MAX);
	timer_list_arm(&tl, &a, (int64_t)INT_MAX * NS_PER_MS);
	assert_int_equal(timer_list_timeout_ms(&tl, 0), INT_MAX);
	assert_int_equal(timer_list_timeout_ms(&tl, NS_PER_MS), INT_MAX - 1);
}

/* Callbacks that change the list while timers fire. */
static struct timer_list *cb_list;
static struct loop_timer *cb_other;

static void rearm_self_now(struct loop_timer *t, void *data)
{
	record(t, data);
	timer_list_arm(cb_list, t, t->deadline); /* due again: must wait for the next run */
}

static void cancel_other(struct loop_timer *t, void *data)
{
	record(t, data);
	timer_list_cancel(cb_other);
}

static void arm_other_due(struct loop_timer *t, void *data)
{
	record(t, data);
	timer_list_arm(cb_list, cb_other, 0);
}

static void test_run_due_callbacks(void **state)
{
	struct timer_list tl;
	struct loop_timer a, b, c;

	(void)state;
	timer_list_init(&tl);
	cb_list = &tl;

	/* a re-arms itself at a due deadline: fires once per run, no livelock */
	loop_timer_init(&a, rearm_self_now, "a");
	timer_list_arm(&tl, &a, 5);
	reset_record();
	assert_int_equal(timer_list_run_due(&tl, 10), 1);
	assert_string_equal(fired, "a");
	assert_true(loop_timer_armed(&a));
	assert_int_equal(timer_list_timeout_ms(&tl, 10), 0);
	assert_int_equal(timer_list_run_due(&tl, 10), 1);
	assert_string_equal(fired, "aa");
	timer_list_cancel(&a);

	/* a (due) cancels b (due too): b does not fire */
	loop_timer_init(&a, cancel_other, "a");
	loop_timer_init(&b, record, "b");
	loop_timer_init(&c, record, "c");
	cb_other = &b;
	timer_list_arm(&tl, &a, 1);
	timer_list_arm(&tl, &b, 2);
	timer_list_arm(&tl, &c, 3);
	reset_record();
	assert_int_equal(timer_list_run_due(&tl, 3), 2);
	assert_string_equal(fired, "ac");
	assert_null(timer_list_first(&tl));

	/* a arms a new timer already due: it fires on the next run only */
	loop_timer_init(&a, arm_other_due, "a");
	cb_other = &b;
	timer_list_arm(&tl, &a, 1);
	timer_list_arm(&tl, &c, 100);
	reset_record();
	assert_int_equal(timer_list_run_due(&tl, 50), 1);
	assert_string_equal(fired, "a");
	assert_string_equal(order(&tl), "bc");
	assert_int_equal(timer_list_run_due(&tl, 50), 1);
	assert_string_equal(fired, "ab");
	assert_string_equal(order(&tl), "c");
}

/* --- the real loop ----------------------------------------------------------- */

struct pipe_ctx {
	struct loop *l;
	struct loop_watch *other; /* removed by the first callback that runs */
	int calls;
};

static void on_pipe(struct loop_watch *w, uint32_t revents)
{
	struct pipe_ctx *ctx = w->data;
	char c;

	assert_true(revents & EPOLLIN);
	assert_int_equal(read(w->fd, &c, 1), 1);
	ctx->calls++;
	if (ctx->other)
		assert_int_equal(loop_watch_del(ctx->l, ctx->other), 0);
}

static void test_loop_watch_del_in_batch(void **state)
{
	struct loop l;
	struct loop_watch w1, w2;
	struct pipe_ctx c1 = {0}, c2 = {0};
	int p1[2], p2[2];

	(void)state;
	assert_int_equal(loop_init(&l, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(pipe2(p1, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(p2, O_CLOEXEC | O_NONBLOCK), 0);
	c1.l = c2.l = &l;
	c1.other = &w2;
	c2.other = &w1;
	assert_int_equal(loop_watch_add(&l, &w1, p1[0], EPOLLIN, on_pipe, &c1), 0);
	assert_int_equal(loop_watch_add(&l, &w2, p2[0], EPOLLIN, on_pipe, &c2), 0);
	assert_int_equal(write(p1[1], "x", 1), 1);
	assert_int_equal(write(p2[1], "y", 1), 1);
	/* both are ready in one batch; whichever runs first removes the other */
	assert_int_equal(loop_run_once(&l), 0);
	assert_int_equal(c1.calls + c2.calls, 1);
	assert_true(w1.fd == -1 || w2.fd == -1);
	loop_watch_del(&l, &w1);
	loop_watch_del(&l, &w2);
	assert_int_equal(loop_watch_del(&l, &w1), 0); /* twice: no-op */
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	loop_fini(&l);
}

static void test_loop_watch_mod(void **state)
{
	struct loop l;
	struct loop_watch w;
	struct pipe_ctx c = {0};
	int p[2];

	(void)state;
	assert_int_equal(loop_init(&l, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	c.l = &l;
	assert_int_equal(loop_watch_add(&l, &w, p[0], 0, on_pipe, &c), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	/* no events asked for and no timer: would block, so arm a timer */
	struct loop_timer t;
	loop_timer_init(&t, record, "t");
	reset_record();
	loop_timer_arm_in(&l, &t, 1 * NS_PER_MS);
	assert_int_equal(loop_run_once(&l), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(loop_watch_mod(&l, &w, EPOLLIN), 0);
	assert_int_equal(loop_run_once(&l), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(loop_watch_del(&l, &w), 0);
	assert_int_equal(loop_watch_mod(&l, &w, EPOLLIN), -1);
	assert_int_equal(errno, EBADF);
	close(p[0]);
	close(p[1]);
	loop_fini(&l);
}

static void stop_loop(struct loop_timer *t, void *data)
{
	record(t, "s");
	loop_stop(data);
}

static void test_loop_timers(void **state)
{
	struct loop l;
	struct loop_timer a, b, s;
	int64_t start, took;

	(void)state;
	assert_int_equal(loop_init(&l, NULL, NULL, NULL, NULL), 0);
	loop_timer_init(&a, record, "a");
	loop_timer_init(&b, record, "b");
	loop_timer_init(&s, stop_loop, &l);
	reset_record();
	start = mono_now_ns();
	loop_timer_arm(&l, &b, start + 20 * NS_PER_MS);
	loop_timer_arm(&l, &a, start + 10 * NS_PER_MS);
	loop_timer_arm(&l, &s, start + 30 * NS_PER_MS);
	assert_int_equal(loop_run(&l), 0);
	took = mono_now_ns() - start;
	assert_string_equal(fired, "abs");
	assert_true(took >= 30 * NS_PER_MS); /* never early */
	assert_true(took < 2 * NS_PER_SEC);
	assert_true(loop_stopped(&l));
	loop_fini(&l);
}

static int sigs_seen[65];

static void on_signal(const struct signalfd_siginfo *si, void *data)
{
	struct loop *l = data;

	if (si->ssi_signo < 65)
		sigs_seen[si->ssi_signo]++;
	if (si->ssi_signo == SIGUSR2)
		loop_stop(l);
}

static void test_loop_signals(void **state)
{
	struct loop l;
	sigset_t mask, old;

	(void)state;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mask, &old), 0);
	assert_int_equal(loop_init(&l, &mask, on_signal, &l, NULL), 0);
	memset(sigs_seen, 0, sizeof(sigs_seen));
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(raise(SIGUSR2), 0);
	assert_int_equal(loop_run(&l), 0); /* no timer: returns only because of SIGUSR2 */
	assert_int_equal(sigs_seen[SIGUSR1], 1);
	assert_int_equal(sigs_seen[SIGUSR2], 1);
	loop_fini(&l);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

static void test_mono_now(void **state)
{
	int64_t a, b;

	(void)state;
	a = mono_now_ns();
	b = mono_now_ns();
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_ordering_and_ties),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_rearm),
	    cmocka_unit_test(test_timeout_ms),
	    cmocka_unit_test(test_run_due_callbacks),
	    cmocka_unit_test(test_loop_watch_del_in_batch),
	    cmocka_unit_test(test_loop_watch_mod),
	    cmocka_unit_test(test_loop_timers),
	    cmocka_unit_test(test_loop_signals),
	    cmocka_unit_test(test_mono_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
