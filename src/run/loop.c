#include "run/loop.h"

#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

int64_t mono_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC with a valid pointer cannot fail (it is served by
	 * the vDSO); the zero fallback only keeps the value defined. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* --- deadline list ------------------------------------------------------------ */

void timer_list_init(struct timer_list *tl)
{
	tl->head.prev = tl->head.next = &tl->head;
	tl->head.deadline = 0;
	tl->head.fn = NULL;
	tl->head.data = NULL;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *data)
{
	t->prev = t->next = NULL;
	t->deadline = 0;
	t->fn = fn;
	t->data = data;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->next != NULL;
}

static void unlink_timer(struct loop_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

static void insert_after(struct loop_timer *pos, struct loop_timer *t)
{
	t->prev = pos;
	t->next = pos->next;
	pos->next->prev = t;
	pos->next = t;
}

void timer_list_arm(struct timer_list *tl, struct loop_timer *t, int64_t deadline)
{
	struct loop_timer *pos;

	if (loop_timer_armed(t))
		unlink_timer(t);
	t->deadline = deadline;
	/* Walk from the back: new deadlines are usually the latest. Stopping at
	 * the first one <= deadline keeps equal deadlines in arming order. */
	for (pos = tl->head.prev; pos != &tl->head; pos = pos->prev)
		if (pos->deadline <= deadline)
			break;
	insert_after(pos, t);
}

void timer_list_cancel(struct loop_timer *t)
{
	if (loop_timer_armed(t))
		unlink_timer(t);
}

struct loop_timer *timer_list_first(const struct timer_list *tl)
{
	return tl->head.next == &tl->head ? NULL : tl->head.next;
}

int timer_list_timeout_ms(const struct timer_list *tl, int64_t now)
{
	const struct loop_timer *t = timer_list_first(tl);
	int64_t left, ms;

	if (!t)
		return -1;
	if (t->deadline <= now)
		return 0;
	/* now can be far below deadline only in tests; avoid overflow anyway */
	if (now < 0 && t->deadline > INT64_MAX + now)
		return INT_MAX;
	left = t->deadline - now;
	ms = left / NS_PER_MS + (left % NS_PER_MS != 0);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int timer_list_run_due(struct timer_list *tl, int64_t now)
{
	struct loop_timer due, *t, *last;
	int fired = 0;

	/* Move the due prefix to a private list first: callbacks that arm
	 * timers at or before `now` put them in tl, to fire on the next call;
	 * a callback cancelling a due timer simply unlinks it from `due`. */
	last = &tl->head;
	while (last->next != &tl->head && last->next->deadline <= now)
		last = last->next;
	if (last == &tl->head)
		return 0;
	due.next = tl->head.next;
	due.next->prev = &due;
	due.prev = last;
	tl->head.next = last->next;
	last->next->prev = &tl->head;
	last->next = &due;

	while (due.next != &due) {
		t = due.next;
		unlink_timer(t);
		fired++;
		if (t->fn)
			t->fn(t, t->data);
	}
	return fired;
}

/* --- the loop --------------------------------------------------------------------- */

static void on_sigfd(struct loop_watch *w, uint32_t revents)
{
	struct loop *l = w->data;
	struct signalfd_siginfo si[16];
	ssize_t n;
	size_t i;

	(void)revents;
	for (;;) {
		n = read(l->sigfd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EAGAIN: drained */
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++)
			if (l->sigfn)
				l->sigfn(&si[i], l->sigdata);
		if ((size_t)n < sizeof(si))
			return;
	}
}

int loop_init(struct loop *l, const sigset_t *mask, loop_signal_fn fn, void *data, struct err *e)
{
	l->epfd = -1;
	l->sigfd = -1;
	l->stopped = false;
	l->sigwatch.fd = -1;
	l->sigfn = fn;
	l->sigdata = data;
	l->batch_n = l->batch_i = 0;
	timer_list_init(&l->timers);

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return err_sys(e, "epoll_create1");
	if (!mask)
		return 0;
	l->sigfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0) {
		err_sys(e, "signalfd");
		loop_fini(l);
		return -1;
	}
	if (loop_watch_add(l, &l->sigwatch, l->sigfd, EPOLLIN, on_sigfd, l) < 0) {
		err_sys(e, "epoll_ctl(signalfd)");
		loop_fini(l);
		return -1;
	}
	return 0;
}

void loop_fini(struct loop *l)
{
	/* close() errors on these private fds change nothing for us */
	if (l->sigfd >= 0)
		(void)close(l->sigfd);
	if (l->epfd >= 0)
		(void)close(l->epfd);
	l->sigfd = l->epfd = -1;
	l->sigwatch.fd = -1;
}

int loop_watch_add(struct loop *l, struct loop_watch *w, int fd, uint32_t events, loop_watch_fn fn,
		   void *data)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->data = data;
	return 0;
}

int loop_watch_mod(struct loop *l, struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -1;
	w->events = events;
	return 0;
}

int loop_watch_del(struct loop *l, struct loop_watch *w)
{
	int i, rc;

	if (w->fd < 0)
		return 0;
	rc = epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
	/* void events for w still waiting in the current batch */
	for (i = l->batch_i; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == w)
			l->batch[i].data.ptr = NULL;
	return rc;
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, int64_t deadline)
{
	timer_list_arm(&l->timers, t, deadline);
}

void loop_timer_arm_in(struct loop *l, struct loop_timer *t, int64_t delay_ns)
{
	timer_list_arm(&l->timers, t, mono_now_ns() + delay_ns);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	(void)l;
	timer_list_cancel(t);
}

int loop_run_once(struct loop *l)
{
	int timeout = -1, n;
	struct loop_watch *w;

	if (timer_list_first(&l->timers))
		timeout = timer_list_timeout_ms(&l->timers, mono_now_ns());
	n = epoll_wait(l->epfd, l->batch, LOOP_MAX_EVENTS, timeout);
	log_clock_tick(); /* what is read now is stamped with one clock read */
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -1;
	}
	l->batch_n = n;
	for (l->batch_i = 0; l->batch_i < l->batch_n; l->batch_i++) {
		w = l->batch[l->batch_i].data.ptr;
		if (w && w->fn)
			w->fn(w, l->batch[l->batch_i].events);
	}
	l->batch_n = l->batch_i = 0;
	if (timer_list_first(&l->timers))
		timer_list_run_due(&l->timers, mono_now_ns());
	return 0;
}

int loop_run(struct loop *l)
{
	while (!l->stopped)
		if (loop_run_once(l) < 0)
			return -1;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stopped = true;
}

bool loop_stopped(const struct loop *l)
{
	return l->stopped;
}
