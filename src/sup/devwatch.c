/* Dev Mode (docs/devmode.md): a change under a service's `watch =` paths
 * restarts it, as a requested restart (not counted toward restart_burst).
 * The inotify fd (run/watch.c) is one loop watch; a change (re)arms the
 * service's t_watch, so the restart comes after watch_debounce of quiet and a
 * burst of writes is one restart. Nothing changed: no timer, no wake-up. */
#include "sup/sv.h"

#include "base/fmt.h"
#include "base/log.h"

#include <errno.h>
#include <stdio.h>

static void note(struct svc *s, const char *path)
{
	if (!s->pol->watch || s->sv->shutting_down)
		return;
	if (!s->watch_changes++) {
		/* a name is untrusted: no control character reaches the log */
		snprintf(s->watch_path, sizeof(s->watch_path), "%s", path);
		fmt_ascii(s->watch_path);
	}
	loop_timer_arm_in(&s->sv->loop, &s->t_watch, s->pol->watch_debounce_ns);
}

static void on_change(void *owner, const char *path, void *data)
{
	struct sv *sv = data;

	if (owner) {
		note(owner, path);
		return;
	}
	for (size_t i = 0; i < sv->n; i++) /* the queue overflowed: every watch */
		note(&sv->svcs[i], path);
}

static void on_inotify(struct loop_watch *w, uint32_t ev)
{
	struct sv *sv = w->data;

	(void)ev;
	watcher_read(&sv->watch, on_change, sv);
}

/* watch_debounce of quiet: a requested restart. A failed or stopped service
 * starts again (the fix of a crash is a change), but not one stopped on
 * request, a disabled one, nor one whose stage has not started. */
static void on_quiet(struct loop_timer *t, void *data)
{
	struct svc *s = data;
	unsigned more = s->watch_changes - 1;

	(void)t;
	s->watch_changes = 0;
	if (s->sv->shutting_down || s->stopped_by || s->state == S_PENDING ||
	    s->state == S_DISABLED)
		return;
	if (more)
		log_info("[%s] changed: %s and %u more; restarting", s->name, s->watch_path, more);
	else
		log_info("[%s] changed: %s; restarting", s->name, s->watch_path);
	(void)svc_request(s, E_REQ_RESTART, "watch");
}

void devwatch_setup(struct sv *sv)
{
	bool any = false;

	watcher_init(&sv->watch);
	sv->w_watch.fd = -1;
	for (size_t i = 0; i < sv->n; i++) {
		loop_timer_init(&sv->svcs[i].t_watch, on_quiet, &sv->svcs[i]);
		any |= sv->svcs[i].pol->watch != NULL;
	}
	if (!any || watcher_open(&sv->watch) < 0)
		return;
	for (size_t i = 0; i < sv->n; i++)
		for (char **p = sv->svcs[i].pol->watch; p && *p; p++)
			watcher_add(&sv->watch, &sv->svcs[i], *p, sv->svcs[i].pol->watch_ignore);
	if (loop_watch_add(&sv->loop, &sv->w_watch, sv->watch.fd, EPOLLIN, on_inotify, sv) < 0)
		log_errno(LOG_LVL_WARN, errno, "watch: epoll: nothing is watched");
}

void devwatch_teardown(struct sv *sv)
{
	(void)loop_watch_del(&sv->loop, &sv->w_watch);
	watcher_close(&sv->watch);
}
