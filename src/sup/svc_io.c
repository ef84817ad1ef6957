/* A service's output: pipes -> line buffer -> classifier -> sink, with
 * back-pressure per stream, and JSON log lines. */
#include "sup/sv.h"

#include "base/json.h"
#include "base/log.h"
#include "base/redact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_pipe(struct loop_watch *w, uint32_t ev);

/* ------------------------------------------------------------------------- */
/* output */

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
void pipe_watch(struct sv *sv, struct pipe_in *pi)
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

/* Called at the end of every callback that may have queued output, and of
 * every loop turn: what was queued goes out now, in one write per stream
 * (a line read in this turn is written in this turn), unless the fd is full;
 * then EPOLLOUT is watched and the services' pipes of that stream wait. */
void sinks_changed(struct sv *sv)
{
	struct sink *k[2] = {&sv->out_sink, &sv->err_sink};
	for (int i = 0; i < 2; i++) {
		if (sink_pending(k[i]) > 0 && !k[i]->stalled)
			(void)sink_flush(k[i]); /* an error: broken, told below */
		if (k[i]->broken && !sv->told[i]) {
			sv->told[i] = true;
			log_warn("%s: %s: output to it is dropped", i ? "stderr" : "stdout",
				 k[i]->why);
		}
	}
	update_sink_watch(sv, &sv->out_sink, &sv->w_out);
	update_sink_watch(sv, &sv->err_sink, &sv->w_err);
	set_paused(sv, 0, sink_pending(&sv->out_sink) > SINK_HIGH);
	set_paused(sv, 1, sink_pending(&sv->err_sink) > SINK_HIGH);
}

/* At exit: what each stream lost, and why. */
void report_dropped(struct sv *sv)
{
	struct sink *k[2] = {&sv->out_sink, &sv->err_sink};
	for (int i = 0; i < 2; i++)
		if (k[i]->dropped_total > 0)
			log_warn("%s: %llu lines (%llu bytes) dropped: %s", i ? "stderr" : "stdout",
				 (unsigned long long)k[i]->dropped_lines,
				 (unsigned long long)k[i]->dropped_total, k[i]->why);
}

void on_sink_writable(struct loop_watch *w, uint32_t ev)
{
	struct sv *sv = w->data;
	(void)ev;
	if (sink_flush(&sv->out_sink) < 0 && w == &sv->w_out)
		(void)loop_watch_del(&sv->loop, w);
	if (sink_flush(&sv->err_sink) < 0 && w == &sv->w_err)
		(void)loop_watch_del(&sv->loop, w);
	sinks_changed(sv);
}

/* The one place a service's line is framed for hfinit's output: the prefix
 * (or the JSON frame), the text, the newline, queued as one unit. */
static void emit_line(struct svc *s, bool is_stderr, const char *line, size_t len,
		      enum line_class cls)
{
	struct sink *k = is_stderr ? &s->sv->err_sink : &s->sv->out_sink;

	if (s->sv->plan->log_format == LOG_FMT_JSON) {
		static const char *const lv[] = {"info", "warning", "error"};
		struct json j;
		char *txt;
		size_t tl;
		json_init(&j, 0);
		json_obj_begin(&j);
		json_kstr(&j, "ts", log_time());
		json_kstr(&j, "svc", s->name);
		json_kstr(&j, "stream", is_stderr ? "stderr" : "stdout");
		json_kstr(&j, "level", lv[cls]);
		json_key(&j, "msg");
		json_strn(&j, line, len);
		json_obj_end(&j);
		if (json_finish(&j, &txt, &tl) == 0) {
			struct iovec v[2] = {{txt, tl}, {"\n", 1}};
			(void)sink_putv(k, v, 2);
			free(txt);
		}
		json_free(&j);
		return;
	}
	char stamp[LOG_STAMP_LEN];
	size_t tl = log_stamp(stamp); /* log_timestamps: the time in front */
	struct iovec v[4] = {
	    {stamp, tl}, {s->prefix, s->prefix_len}, {(char *)line, len}, {"\n", 1}};
	(void)sink_putv(k, v, 4);
}

/* A line: or regex: ready probe still looks at every line. */
static bool awaits_ready_line(const struct svc *s)
{
	enum probe_kind k = s->pol->ready.spec->kind;

	return s->state == S_STARTING && (k == PROBE_LINE || k == PROBE_REGEX);
}

static bool line_matches_ready(struct svc *s, const char *line, size_t len)
{
	const struct probe *p = s->pol->ready.spec;

	if (!awaits_ready_line(s))
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

/* The line with secrets as *** (docs/config.md) in red, its length, or -1:
 * nothing to redact. A line in place in the read is looked at only when the
 * read's next mark (redact_next) falls in it; the mark then moves past it. */
static size_t redact_line(struct pipe_in *pi, const char *line, size_t len, unsigned flags,
			  char *red)
{
	size_t off, rl;

	if (!(flags & LINE_IN_PLACE) || !pi->chunk)
		return redact_to(line, len, red, LINEBUF_MAX + 1);
	off = (size_t)(line - pi->chunk);
	if (pi->next_mark < off)
		pi->next_mark = redact_next(pi->chunk, off, pi->chunk_n);
	if (off + len <= pi->next_mark)
		return (size_t)-1;
	rl = redact_to(line, len, red, LINEBUF_MAX + 1);
	pi->next_mark = redact_next(pi->chunk, off + len, pi->chunk_n);
	return rl;
}

static void on_line(void *arg, const char *line, size_t len, unsigned flags)
{
	struct pipe_in *pi = arg;
	struct svc *s = pi->s;
	struct line_verdict v = {LINE_INFO, false, false};
	struct err d;
	char red[LINEBUF_MAX + 1]; /* the line with secrets as *** (docs/config.md) */
	const char *raw = line;
	size_t rawlen = len, rl = redact_line(pi, line, len, flags, red);

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
			svc_changed(s);
		if (v.is_detail) {
			size_t n = len < SVC_ERROR_MAX - 1 ? len : SVC_ERROR_MAX - 1;
			memcpy(s->error.msg, line, n);
			s->error.msg[n] = '\0';
			s->error_line = true;
		}
	}
	if ((pi->is_stderr || v.cls != LINE_INFO) && diagnose_line(line, len, &d)) {
		if (!s->error.category || strcmp(s->error.category, d.category) != 0 ||
		    strcmp(s->error.hint, d.hint) != 0) {
			s->error.category = d.category;
			snprintf(s->error.hint, sizeof(s->error.hint), "%s", d.hint);
			log_warn("[%s] %s: %s", s->name, d.category, d.hint);
		}
	}
	if (s->pol->redact)
		emit_line(s, pi->is_stderr, line, len, v.cls);
	else
		emit_line(s, pi->is_stderr, raw, rawlen, v.cls);
	if (line_matches_ready(s, raw, rawlen))
		svc_ready(s, pi->is_stderr ? "ready line on stderr" : "ready line on stdout");
}

/* Whether the next lines of a read may be framed in bulk (sink_put_lines):
 * text lines, where on_line would only add the time stamp and prefix (a ready
 * line is looked for in each, a traceback's lines are classified by their
 * place in it, and a cut line ends in the line buffer). */
static bool bulk_ok(const struct pipe_in *pi)
{
	const struct svc *s = pi->s;

	return s->sv->plan->log_format != LOG_FMT_JSON && pi->lb.len == 0 && !pi->lb.continuing &&
	       !pi->cls.in_traceback && !awaits_ready_line(s);
}

/* The bytes from off a run may take: up to where a secret may begin (unless
 * redact = no: then stdout's lines are shown as written) and, on stderr, where
 * a text the classifier looks for may begin. */
static size_t run_limit(struct pipe_in *pi, const char *buf, size_t off, size_t n)
{
	size_t lim = n;

	if (pi->next_mark < off)
		pi->next_mark = redact_next(buf, off, n);
	if (pi->s->pol->redact)
		lim = pi->next_mark;
	if (pi->is_stderr) {
		if (pi->next_class <= off) /* 0 at the start of a read: not looked for yet */
			pi->next_class = classify_next(buf, off, n);
		lim = pi->next_class < lim ? pi->next_class : lim;
	}
	return lim - off;
}

/* What one read brought. The runs of lines that need only framing go to the
 * sink at once; each line that stops a run (a mark, no room left in one
 * stretch, too long, the last one cut), and each line while bulk_ok does not
 * hold, goes through on_line, then the next run starts after it. A stdout
 * shown as written (redact = no) is not scanned for secrets: nothing there
 * uses the redacted line. */
static void feed(struct pipe_in *pi, const char *buf, size_t n)
{
	struct svc *s = pi->s;
	struct sink *k = pi->is_stderr ? &s->sv->err_sink : &s->sv->out_sink;
	char head[LOG_STAMP_LEN + sizeof(s->prefix)];
	size_t hl = log_stamp(head), off = 0;

	memcpy(head + hl, s->prefix, s->prefix_len);
	hl += s->prefix_len;
	pi->chunk = buf;
	pi->chunk_n = n;
	pi->next_mark = s->pol->redact || pi->is_stderr ? redact_next(buf, 0, n) : n;
	pi->next_class = 0; /* by run_limit, for the reads that go in runs */
	while (off < n) {
		if (bulk_ok(pi))
			off += sink_put_lines(k, head, hl, buf + off, n - off,
					      run_limit(pi, buf, off, n));
		const char *nl = off < n ? memchr(buf + off, '\n', n - off) : NULL;
		if (!nl)
			break;
		linebuf_feed(&pi->lb, buf + off, (size_t)(nl + 1 - buf) - off, on_line, pi);
		off = (size_t)(nl + 1 - buf);
	}
	linebuf_feed(&pi->lb, buf + off, n - off, on_line, pi);
	pi->chunk = NULL;
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
bool pipe_drain(struct pipe_in *pi)
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
		feed(pi, sv->readbuf, (size_t)n);
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
		feed(pi, sv->readbuf, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR))
		pipe_eof(pi);
	sinks_changed(sv);
}

void pipe_close_all(struct svc *s)
{
	/* Everything the writers left in the pipe is read first; when writers
	 * still hold it (a process escaped the group): keep what is here, stop
	 * listening. */
	struct pipe_in *ps[2] = {&s->out, &s->err};
	for (int k = 0; k < 2; k++)
		if (ps[k]->fd >= 0 && pipe_drain(ps[k]))
			pipe_eof(ps[k]);
}
