/* The control socket (docs/control.md): `control` in the status dir, a unix
 * stream socket of mode 0600, served by the event loop. A client sends one
 * request line (status/ctlmsg.h) and gets reply lines, the last "end CODE".
 *
 * Only root and hfinit's own uid may ask (SO_PEERCRED; 0600 already keeps
 * others from connecting). A client has CTL_READ_NS to send its line; a
 * request that waits (restart, start, stop, wait) is answered at the end of
 * the loop turn that sees its outcome (control_settle), never by polling.
 * One loop timer, armed only while a client has a deadline: idle, the socket
 * costs no wake-up. */
#include "sup/sv.h"

#include "base/fmt.h"
#include "base/log.h"
#include "base/redact.h"
#include "base/signame.h"
#include "status/ctlmsg.h"
#include "status/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_READ_NS (2 * NS_PER_SEC) /* a client's time to send its request line */
#define CTL_CLIENTS 32		     /* connected at once; more are refused */
/* Connections not yet accepted: room for a client past CTL_CLIENTS to be
 * accepted and told busy, instead of EAGAIN at its connect() while the loop
 * is busy elsewhere. */
#define CTL_BACKLOG  (2 * CTL_CLIENTS)
#define CTL_TEXT_MAX 300 /* bytes of a reply's text (a last_error) */

struct client {
	struct ctl *ctl;
	struct client *next;
	int fd;
	struct loop_watch w;
	bool dead; /* a reply could not be sent */
	uid_t uid;
	pid_t pid; /* 0: in another PID namespace */
	bool parsed;
	int code; /* the end's: 1 once a name failed */
	struct ctl_req req;
	struct svc *svc[CTL_NAMES_MAX];
	unsigned long long pending; /* bit i: names[i] (all services: svc[i]) not answered */
	int64_t deadline;	    /* reading, or the wait's --timeout; 0: none */
	size_t len;
	char in[CTL_MAX + 1];
};

struct ctl {
	struct sv *sv;
	int fd;
	struct loop_watch w;
	struct loop_timer t;
	struct client *clients;
	unsigned nclients;
	bool warned;	/* the socket could not be made: said */
	bool full_said; /* accept ran out of descriptors: said (until one is accepted) */
	int64_t paused; /* then the listener is unwatched (see resume); 0: watched */
	dev_t dev;
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ------------------------------------------------------------------------- */
/* replies */

/* One reply line; a client that does not read its replies is dead: it is
 * dropped at the end of the turn (its fd closed only after its watch). */
static void reply(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct client *c, const char *fmt, ...)
{
	char line[CTL_MAX];
	va_list ap;
	int n;

	if (c->dead)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	redact_str(line, sizeof(line) - 1);
	fmt_ascii(line); /* a last_error is a service's raw stderr line */
	n = (int)strlen(line);
	line[n++] = '\n';
	c->dead = send(c->fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n;
}

/* The listener unwatched for want of descriptors (on_accept) is watched
 * again: at once (force: one of ours was just closed, the status dir changed)
 * or at the end of a turn 1 s after it was unwatched (another fd may have
 * been freed); nothing wakes hfinit for it. */
static void resume(struct ctl *ctl, bool force)
{
	if (ctl->paused && (force || ctl->sv->ops->now() - ctl->paused >= NS_PER_SEC) &&
	    loop_watch_mod(&ctl->sv->loop, &ctl->w, EPOLLIN) == 0)
		ctl->paused = 0;
}

static void client_free(struct client *c)
{
	struct ctl *ctl = c->ctl;

	for (struct client **p = &ctl->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	ctl->nclients--;
	(void)loop_watch_del(&ctl->sv->loop, &c->w);
	(void)close(c->fd);
	free(c);
	resume(ctl, true);
}

static void client_end(struct client *c)
{
	reply(c, "end %d", c->code);
	client_free(c);
}

static void answer(struct client *c, size_t i, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void answer(struct client *c, size_t i, bool ok, const char *fmt, ...)
{
	char text[CTL_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	reply(c, "%s %s %s", ok ? "ok" : "fail", c->svc[i]->name, text);
	if (!ok)
		c->code = 1;
	c->pending &= ~(1ULL << i);
}

/* ------------------------------------------------------------------------- */
/* outcomes */

static const char *state_of(struct svc *s)
{
	return svc_state_name(svc_public_state(s));
}

/* The outcome of names[i] for its request, when it is known. */
static void judge(struct client *c, size_t i)
{
	struct svc *s = c->svc[i];
	struct sv *sv = s->sv;
	enum svc_state st = s->state;
	bool down = !sv->ops->up(s) &&
		    (st == S_STOPPED || st == S_FAILED || st == S_DONE || st == S_DISABLED);

	if (c->req.verb == CTL_STOP) {
		if (down)
			answer(c, i, true, "%s", state_of(s));
		return;
	}
	if (st == S_READY && !(c->req.verb == CTL_WAIT && c->req.started))
		answer(c, i, true, "ready in %lld ms", (long long)s->ready_ms);
	else if ((st == S_STARTING || st == S_READY) && c->req.verb == CTL_WAIT && c->req.started)
		answer(c, i, true, "started, pid %d", (int)s->pid);
	else if (st == S_DONE)
		answer(c, i, true, "done");
	else if (st == S_FAILED)
		answer(c, i, false, "failed: %s", s->error.msg[0] ? s->error.msg : "(no error)");
	else if (down && c->req.verb != CTL_WAIT)
		answer(c, i, false, "%s", state_of(s));
	else if (sv->shutting_down)
		answer(c, i, false, "hfinit is stopping (state %s)", state_of(s));
}

/* wait without names: the whole of hfinit, as `health --ready|--started`. */
static void judge_all(struct client *c)
{
	struct sv *sv = c->ctl->sv;
	bool rr;
	const char *st = overall_state(sv->svcs, sv->n, sv->all_started, sv->shutting_down, &rr);

	if (c->req.started ? sv->all_started && !sv->shutting_down : rr) {
		reply(c, "ok - %s", st);
		c->pending = 0;
	} else if (sv->shutting_down) {
		reply(c, "fail - hfinit is stopping");
		c->code = 1;
		c->pending = 0;
	}
}

static void judge_client(struct client *c)
{
	if (c->req.nnames == 0)
		judge_all(c);
	for (size_t i = 0; i < c->req.nnames; i++)
		if (c->pending & (1ULL << i))
			judge(c, i);
}

/* ------------------------------------------------------------------------- */
/* requests */

static struct svc *svc_named(struct sv *sv, const char *name)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->svcs[i].name, name) == 0)
			return &sv->svcs[i];
	return NULL;
}

static void do_signal(struct client *c)
{
	struct svc *s = c->svc[0];
	const char *nm = signame(c->req.sig);

	if (!s->running || !c->ctl->sv->ops->up(s)) {
		answer(c, 0, false, "not running (state %s)", state_of(s));
		return;
	}
	c->ctl->sv->ops->signal(s, c->req.sig);
	answer(c, 0, true, "SIG%s sent to process group %d", nm ? nm : "?", (int)s->pgid);
}

static void do_request(struct client *c)
{
	static const enum svc_event ev[] = {E_REQ_RESTART, E_REQ_STOP, E_REQ_START};
	struct sv *sv = c->ctl->sv;
	const char *why;

	for (size_t i = 0; i < c->req.nnames; i++) {
		c->svc[i] = svc_named(sv, c->req.names[i]);
		if (!c->svc[i]) {
			reply(c, "fail %s no such service", c->req.names[i]);
			c->code = 1;
			continue;
		}
		c->pending |= 1ULL << i;
	}
	if (c->req.verb == CTL_SIGNAL && c->pending) {
		do_signal(c);
		return;
	}
	if (c->req.verb == CTL_WAIT) {
		if (c->req.nnames == 0)
			c->pending = 1; /* the whole of hfinit */
		if (c->req.timeout_ms >= 0)
			c->deadline = sv->ops->now() + c->req.timeout_ms * NS_PER_MS;
		return;
	}
	for (size_t i = 0; i < c->req.nnames; i++) {
		if (!(c->pending & (1ULL << i)))
			continue;
		why = svc_request(c->svc[i], ev[c->req.verb], "control");
		if (why)
			answer(c, i, false, "%s", why);
		else if (c->req.no_wait)
			answer(c, i, true, "accepted");
	}
}

static void on_line(struct client *c, size_t len)
{
	struct sv *sv = c->ctl->sv;
	char why[160], show[CTL_MAX];

	c->parsed = true;
	c->deadline = 0;
	if (ctl_parse(c->in, len, &c->req, why, sizeof(why)) < 0) {
		log_warn("control: uid %u pid %d: bad request: %s", (unsigned)c->uid, (int)c->pid,
			 why);
		reply(c, "error %s", why);
		c->code = 1;
		return;
	}
	if (ctl_format(&c->req, show, sizeof(show)) < 0) /* not reached: it was parsed */
		snprintf(show, sizeof(show), "%s ?", CTL_VERSION);
	show[strcspn(show, "\n")] = '\0';
	log_info("control: uid %u pid %d: %s", (unsigned)c->uid, (int)c->pid,
		 show + sizeof(CTL_VERSION));
	if (sv->shutting_down || sv->shutdown_why) {
		reply(c, "error hfinit is stopping");
		c->code = 1;
		return;
	}
	do_request(c);
}

/* ------------------------------------------------------------------------- */
/* the loop's side */

static void arm(struct ctl *ctl)
{
	int64_t first = 0;

	for (struct client *c = ctl->clients; c; c = c->next)
		if (c->deadline && (!first || c->deadline < first))
			first = c->deadline;
	if (first)
		loop_timer_arm(&ctl->sv->loop, &ctl->t, first);
	else
		loop_timer_cancel(&ctl->sv->loop, &ctl->t);
}

static void on_client(struct loop_watch *w, uint32_t ev)
{
	struct client *c = w->data;
	char *nl;
	ssize_t n;

	(void)ev;
	if (c->parsed) { /* only a hang-up is watched now: gone before its answer */
		client_free(c);
		return;
	}
	n = read(c->fd, c->in + c->len, CTL_MAX - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone, or an error, before a whole line: nothing to answer */
		client_free(c);
		return;
	}
	nl = memchr(c->in + c->len, '\n', (size_t)n);
	c->len += (size_t)n;
	if (!nl && c->len < CTL_MAX)
		return;
	on_line(c, nl ? (size_t)(nl - c->in) : CTL_MAX);
	if (loop_watch_mod(&c->ctl->sv->loop, &c->w, 0) < 0)
		c->pending = 0; /* cannot watch it: answer what is known now */
}

/* A client's deadline passed: one that sent no whole line is dropped; a
 * wait's names still pending fail. */
static void on_timer(struct loop_timer *t, void *data)
{
	struct ctl *ctl = data;
	int64_t now = ctl->sv->ops->now();
	char d[32];
	(void)t;

	for (struct client *c = ctl->clients, *next; c; c = next) {
		next = c->next;
		if (!c->deadline || c->deadline > now)
			continue;
		c->deadline = 0;
		if (!c->parsed) {
			log_warn("control: uid %u pid %d: no request line within %s: dropped",
				 (unsigned)c->uid, (int)c->pid,
				 fmt_duration(CTL_READ_NS / NS_PER_MS, d, sizeof(d)));
			client_free(c);
			continue;
		}
		(void)fmt_duration((uint64_t)c->req.timeout_ms, d, sizeof(d));
		for (size_t i = 0; i < c->req.nnames; i++)
			if (c->pending & (1ULL << i))
				answer(c, i, false, "not %s within %s (state %s)",
				       c->req.started ? "started" : "ready", d,
				       state_of(c->svc[i]));
		if (c->pending && !c->req.nnames)
			reply(c, "fail - not %s within %s", c->req.started ? "started" : "ready",
			      d);
		c->code |= c->pending != 0;
		c->pending = 0;
	}
}

/* A new client; a uid other than root and hfinit's own gets its refusal at
 * the end of the turn, like any answer. */
static void on_accept(struct loop_watch *w, uint32_t ev)
{
	static const char busy[] = "error busy: too many clients\nend 1\n";
	struct ctl *ctl = w->data;
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct client *c;
	int fd;
	(void)ev;

	while ((fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = ctl->nclients < CTL_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			(void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			(void)close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0)
			cr.uid = (uid_t)-1, cr.pid = 0;
		c->ctl = ctl;
		c->fd = fd;
		c->w.fd = -1;
		c->uid = cr.uid;
		c->pid = cr.pid;
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->nclients++;
		if (cr.uid != 0 && cr.uid != geteuid()) {
			log_warn("control: refused uid %u pid %d: only root and uid %u may control "
				 "hfinit",
				 (unsigned)cr.uid, (int)cr.pid, (unsigned)geteuid());
			reply(c, "error permission denied: only root and uid %u may control hfinit",
			      (unsigned)geteuid());
			c->parsed = true;
			c->code = 1;
		} else if (loop_watch_add(&ctl->sv->loop, &c->w, fd, EPOLLIN, on_client, c) < 0) {
			c->parsed = true; /* dropped at the end of the turn */
			c->dead = true;
		} else {
			c->deadline = ctl->sv->ops->now() + CTL_READ_NS;
		}
		ctl->full_said = false;
	}
	if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
		return;
	if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
		/* the connection stays queued: watched, it would make the loop spin */
		if (!ctl->full_said)
			log_errno(LOG_LVL_WARN, errno,
				  "control: accept: new clients wait until a descriptor is freed");
		ctl->full_said = true;
		if (loop_watch_mod(&ctl->sv->loop, &ctl->w, 0) == 0)
			ctl->paused = ctl->sv->ops->now() | 1; /* never 0 */
		return;
	}
	log_errno(LOG_LVL_WARN, errno, "control: accept");
}

void control_settle(struct sv *sv)
{
	struct ctl *ctl = sv->ctl;

	if (!ctl)
		return;
	for (struct client *c = ctl->clients, *next; c; c = next) {
		next = c->next;
		if (!c->parsed)
			continue;
		if (!c->dead && c->pending)
			judge_client(c);
		if (c->dead || !c->pending)
			client_end(c);
	}
	resume(ctl, false);
	arm(ctl);
}

/* ------------------------------------------------------------------------- */
/* the socket */

/* Bind path; a socket of ours left by an earlier run (nobody listens) is
 * replaced, anything else there (a link, a file, another uid's socket) is
 * left alone and refused. bind() itself never follows a link. */
static int bind_once(int fd, const struct sockaddr_un *sa, bool *retry)
{
	struct stat st;
	mode_t old = umask(0177); /* the socket is made 0600 */
	int rc = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int err = errno;

	(void)umask(old);
	if (rc == 0 || err != EADDRINUSE || *retry)
		return rc == 0 ? 0 : (errno = err, -1);
	if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return errno = EEXIST, -1;
	/* non-blocking: a listener that never accepts, its backlog full, must not
	 * hang PID 1; it is live all the same */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	rc = probe < 0 ? -1 : connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	if (probe >= 0)
		(void)close(probe);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
		return errno = EADDRINUSE, -1; /* a live one: another hfinit's */
	*retry = true;
	if (unlink(sa->sun_path) < 0)
		return -1;
	return bind_once(fd, sa, retry);
}

/* The socket at ctl->path, listening and watched; -1 (said once until it
 * works again) and ctl->fd -1. */
static int listen_at(struct ctl *ctl)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	bool retry = false;

	memcpy(sa.sun_path, ctl->path, sizeof(sa.sun_path));
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0 || bind_once(ctl->fd, &sa, &retry) < 0 || lstat(sa.sun_path, &st) < 0 ||
	    listen(ctl->fd, CTL_BACKLOG) < 0 ||
	    loop_watch_add(&ctl->sv->loop, &ctl->w, ctl->fd, EPOLLIN, on_accept, ctl) < 0) {
		if (!ctl->warned)
			log_warn(
			    "control: %s: %s: no control socket%s", sa.sun_path, strerror(errno),
			    errno == EEXIST ? " (something that is not hfinit's socket is there)"
					    : "");
		ctl->warned = true;
		if (ctl->fd >= 0)
			(void)close(ctl->fd);
		ctl->fd = -1;
		return -1;
	}
	ctl->warned = false;
	ctl->paused = 0;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	return 0;
}

/* Is the socket at the path still ours? */
static bool ours(const struct ctl *ctl)
{
	struct stat st;

	return ctl->fd >= 0 && lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	       st.st_ino == ctl->ino;
}

int control_open(struct sv *sv)
{
	const char *dir = status_dir(sv->status);
	struct ctl *ctl;

	if (!dir)
		return 0; /* no status dir: no control socket (said by the status set-up) */
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -1;
	if ((size_t)snprintf(ctl->path, sizeof(ctl->path), "%s/control", dir) >=
	    sizeof(ctl->path)) {
		log_warn("control: %s/control is longer than a socket path may be: no control "
			 "socket",
			 dir);
		free(ctl);
		return 0;
	}
	ctl->sv = sv;
	ctl->w.fd = -1;
	loop_timer_init(&ctl->t, on_timer, ctl);
	sv->ctl = ctl;
	if (listen_at(ctl) == 0)
		log_debug("control: listening on %s", ctl->path);
	return 0;
}

void control_renew(struct sv *sv)
{
	struct ctl *ctl = sv->ctl;

	if (!ctl)
		return;
	resume(ctl, true);
	if (ours(ctl))
		return;
	if (ctl->fd >= 0) {
		(void)loop_watch_del(&sv->loop, &ctl->w);
		(void)close(ctl->fd);
	}
	if (listen_at(ctl) == 0)
		log_info("control: %s was removed: made again", ctl->path);
}

/* At exit: the clients still waiting are told, the socket goes. */
void control_close(struct sv *sv)
{
	struct ctl *ctl = sv->ctl;

	if (!ctl)
		return;
	control_settle(sv);
	while (ctl->clients) {
		struct client *c = ctl->clients;
		if (c->parsed)
			reply(c, "error hfinit has stopped");
		c->code = 1;
		client_end(c);
	}
	loop_timer_cancel(&sv->loop, &ctl->t);
	if (ours(ctl))
		(void)unlink(ctl->path);
	if (ctl->fd >= 0) {
		(void)loop_watch_del(&sv->loop, &ctl->w);
		(void)close(ctl->fd);
	}
	free(ctl);
	sv->ctl = NULL;
}
