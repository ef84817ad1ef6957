/* Rendering: a status snapshot to status.json, and the one-line summary
 * (docs/status.md). Pure: no files, no sockets. */
#include "status/status_render.h"

#include "base/fmt.h"
#include "base/json.h"
#include "base/signame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef HFINIT_VERSION
#define HFINIT_VERSION "unknown"
#endif

/* ------------------------------------------------------------------------- */
/* time */

void status_rfc3339(const struct timespec *ts, char *buf, size_t n)
{
	if (fmt_rfc3339(ts, buf, n) < 0)
		fmt_trunc(buf, n, "%s", UPDATED_PLACEHOLDER);
}

/* n decimal digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Our own format back ("2026-11-27T00:17:23.123Z"); 0 or -1. Parsed by
 * hand: sscanf would pull libc's scanner into the binary. */
int status_parse_rfc3339(const char *s, struct timespec *ts)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	struct tm tm;
	int ms;

	if (!s || strlen(s) != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] != 'd' && s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 5, 2) - 1;
	tm.tm_mday = digits(s + 8, 2);
	tm.tm_hour = digits(s + 11, 2);
	tm.tm_min = digits(s + 14, 2);
	tm.tm_sec = digits(s + 17, 2);
	ms = digits(s + 20, 3);
	if (tm.tm_year < -1900 || tm.tm_mon < -1 || tm.tm_mday < 0 || tm.tm_hour < 0 ||
	    tm.tm_min < 0 || tm.tm_sec < 0 || ms < 0)
		return -1;
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = (long)ms * 1000000;
	return ts->tv_sec == (time_t)-1 ? -1 : 0;
}

void status_now(struct timespec *ts)
{
	if (clock_gettime(CLOCK_REALTIME, ts) != 0) {
		ts->tv_sec = time(NULL);
		ts->tv_nsec = 0;
	}
}

/* ------------------------------------------------------------------------- */
/* rendering */

static void kts(struct json *j, const char *key, const struct timespec *ts)
{
	char buf[40];

	if (ts->tv_sec == 0) {
		json_key(j, key);
		json_null(j);
		return;
	}
	status_rfc3339(ts, buf, sizeof(buf));
	json_kstr(j, key, buf);
}

static void kstr_nonempty(struct json *j, const char *key, const char *s)
{
	json_kstr(j, key, s && s[0] ? s : NULL);
}

static void kint_or_null(struct json *j, const char *key, long long v, int is_null)
{
	json_key(j, key);
	if (is_null)
		json_null(j);
	else
		json_int(j, v);
}

static void render_python(struct json *j, const struct python_plan *py)
{
	const struct py_candidate *c = py->chosen >= 0 ? &py->cands[py->chosen] : NULL;

	json_obj_begin(j);
	kstr_nonempty(j, "path", c ? c->path : NULL);
	kstr_nonempty(j, "executable", c ? c->executable : NULL);
	kstr_nonempty(j, "version", c ? c->version : NULL);
	kstr_nonempty(j, "source", c ? c->source : NULL);
	kstr_nonempty(j, "error", c ? NULL : py->error);
	kstr_nonempty(j, "hint", c ? NULL : py->hint);
	json_key(j, "candidates");
	json_arr_begin(j);
	for (size_t i = 0; i < py->ncands; i++) {
		const struct py_candidate *k = &py->cands[i];
		json_obj_begin(j);
		kstr_nonempty(j, "path", k->path);
		kstr_nonempty(j, "source", k->source);
		json_kstr(j, "verdict", py_verdict_name(k->verdict));
		kstr_nonempty(j, "detail", k->detail);
		kstr_nonempty(j, "version", k->verdict == PV_OK ? k->version : NULL);
		json_kint(j, "elapsed_ms", k->elapsed_ms);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* One service's fields: "NAME": {...}. A new field of struct
 * status_service is rendered here (and, if it is a string, listed in
 * STATUS_SERVICE_TEXTS, status.h, if it points into a buffer). */
static void render_service(struct json *j, const struct status_service *s)
{
	char sig[24];

	json_key(j, s->name);
	json_obj_begin(j);
	json_kstr(j, "state", s->state);
	json_kint(j, "stage", s->stage);
	json_kbool(j, "required", s->required);
	kint_or_null(j, "pid", s->pid, s->pid <= 0);
	json_kint(j, "attempt", s->attempt);
	json_kint(j, "attempts", s->attempts);
	json_kint(j, "restarts", s->restarts);
	json_kint(j, "requested_restarts", s->requested_restarts);
	json_kstr(j, "stopped_by", s->stopped_by);
	kts(j, "started_at", &s->started_at);
	kts(j, "ready_at", &s->ready_at);
	kint_or_null(j, "ready_ms", s->ready_ms, s->ready_ms < 0);
	json_key(j, "last_exit");
	json_obj_begin(j);
	kint_or_null(j, "code", s->exit_code, !s->has_exit || s->exit_code < 0);
	kint_or_null(j, "signal", s->exit_signal, !s->has_exit || s->exit_signal <= 0);
	if (s->has_exit && s->exit_signal > 0 && signame(s->exit_signal)) {
		fmt_trunc(sig, sizeof(sig), "SIG%s", signame(s->exit_signal));
		json_kstr(j, "signal_name", sig);
	} else {
		json_kstr(j, "signal_name", NULL);
	}
	json_obj_end(j);
	json_key(j, "last_error");
	json_obj_begin(j);
	kstr_nonempty(j, "text", s->last_error);
	kstr_nonempty(j, "category", s->error_category);
	kstr_nonempty(j, "hint", s->error_hint);
	json_obj_end(j);
	json_kint(j, "errors", s->errors);
	json_kint(j, "warnings", s->warnings);
	kstr_nonempty(j, "script", s->script);
	kstr_nonempty(j, "command", s->command);
	kstr_nonempty(j, "sandbox", s->sandbox);
	kint_or_null(j, "sandbox_rules", s->sandbox_rules, !s->sandbox || !s->sandbox[0]);
	kint_or_null(j, "sandbox_landlock", s->sandbox_landlock, s->sandbox_landlock <= 0);
	json_kstr(j, "notify_status", s->notify_status);
	kstr_nonempty(j, "ready_spec", s->ready_spec);
	json_kstr(j, "type", s->oneshot ? "oneshot" : "longrun");
	kts(j, "finished_at", &s->finished_at);
	json_kstr(j, "disabled_reason", s->disabled_reason);
	json_obj_end(j);
}

/* A piece of the document: a writer that starts at depth (status_doc.c
 * joins the pieces). At depth 1 the piece follows an item of the top level,
 * at depth 2 it is a service after another one: its comma is written either
 * way (status_doc.c leaves out the first service's). Objects below the
 * second level are folded: a service, a stage, a blame entry is one line
 * (docs/status.md). */
static void piece_begin(struct json *j, int depth)
{
	json_init(j, 1);
	j->fold = 2;
	j->redact = 1; /* command lines, error lines, STATUS= texts: no secrets */
	j->depth = depth;
	j->first[depth] = depth == 0;
}

/* The piece's text (an unbalanced document, so not json_finish). */
static int piece_end(struct json *j, struct status_text *t)
{
	if (j->failed) {
		errno = j->failed;
		json_free(j);
		return -1;
	}
	t->s = j->buf;
	t->len = j->len;
	return 0;
}

struct blamed {
	int64_t ready_ms;
	size_t i;
};

/* Slowest first; equal times in config order. */
static int blame_cmp(const void *a, const void *b)
{
	const struct blamed *x = a, *y = b;

	if (x->ready_ms != y->ready_ms)
		return x->ready_ms < y->ready_ms ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* "blame": services that became ready, slowest first (systemd-analyze blame). */
static void render_blame(struct json *j, const struct status_snapshot *snap)
{
	struct blamed *b = NULL;
	size_t n = 0;

	json_key(j, "blame");
	json_arr_begin(j);
	if (snap->nservices)
		b = malloc(snap->nservices * sizeof(*b));
	if (snap->nservices && !b)
		j->failed = ENOMEM;
	for (size_t i = 0; b && i < snap->nservices; i++)
		if (snap->services[i].ready_ms >= 0)
			b[n++] = (struct blamed){snap->services[i].ready_ms, i};
	if (n > 1)
		qsort(b, n, sizeof(*b), blame_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct status_service *s = &snap->services[b[i].i];
		json_obj_begin(j);
		json_kstr(j, "service", s->name);
		json_kint(j, "stage", s->stage);
		json_kint(j, "ready_ms", s->ready_ms);
		json_obj_end(j);
	}
	json_arr_end(j);
	free(b);
}

/* "{", "schema" .. "stages"; *updated_off: where the placeholder is. */
static void render_head(struct json *j, const struct status_snapshot *snap, size_t *updated_off)
{
	json_obj_begin(j);
	json_kint(j, "schema", STATUS_SCHEMA);
	json_kstr(j, "hfinit", HFINIT_VERSION);
	json_kint(j, "pid", (long long)getpid());
	json_kstr(j, "state", snap->state);
	json_kint(j, "stage", snap->stage);
	kts(j, "started_at", &snap->started_at);
	json_kstr(j, "updated_at", UPDATED_PLACEHOLDER);
	/* offset of the placeholder: it is followed by the closing quote */
	*updated_off = j->len - sizeof(UPDATED_PLACEHOLDER);
	kint_or_null(j, "exit_code", snap->exit_code, snap->exit_code < 0);
	json_kbool(j, "all_required_ready", snap->all_required_ready);
	json_key(j, "python");
	if (snap->python)
		render_python(j, snap->python);
	else
		json_null(j);
	json_key(j, "stages");
	json_arr_begin(j);
	for (size_t i = 0; i < snap->nstages; i++) {
		json_obj_begin(j);
		json_kint(j, "stage", snap->stages[i].stage);
		kint_or_null(j, "ready_ms", snap->stages[i].ready_ms, snap->stages[i].ready_ms < 0);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* "output", and "services": { left open. */
static void render_rest(struct json *j, const struct status_snapshot *snap)
{
	json_key(j, "output");
	json_obj_begin(j);
	for (int i = 0; i < 2; i++) {
		json_key(j, i ? "stderr" : "stdout");
		json_obj_begin(j);
		json_kint(j, "dropped_lines", (long long)snap->output[i].dropped_lines);
		json_kint(j, "dropped_bytes", (long long)snap->output[i].dropped_bytes);
		json_kstr(j, "reason", snap->output[i].reason);
		json_obj_end(j);
	}
	json_obj_end(j);
	json_key(j, "services");
	json_obj_begin(j);
}

int status_render_piece(enum status_piece which, const struct status_snapshot *snap,
			struct status_text *t, size_t *updated_off)
{
	struct json j;

	piece_begin(&j, which == SP_HEAD ? 0 : 1);
	if (which == SP_HEAD)
		render_head(&j, snap, updated_off);
	else if (which == SP_BLAME)
		render_blame(&j, snap);
	else
		render_rest(&j, snap);
	return piece_end(&j, t);
}

int status_render_service(const struct status_service *s, struct status_text *t)
{
	struct json j;

	piece_begin(&j, 2);
	render_service(&j, s);
	return piece_end(&j, t);
}

void status_summary(const struct status_snapshot *snap, char *buf, size_t n)
{
	size_t ready = 0, used;
	int first = 1;

	/* A one-shot that is done (finished_at set) counts as ready. */
	for (size_t i = 0; i < snap->nservices; i++)
		if ((snap->services[i].state && strcmp(snap->services[i].state, "ready") == 0) ||
		    snap->services[i].finished_at.tv_sec)
			ready++;
	if (strcmp(snap->state, "starting") == 0)
		fmt_trunc(buf, n, "starting: stage %u, %zu/%zu services ready", snap->stage, ready,
			  snap->nservices);
	else
		fmt_trunc(buf, n, "%s: %zu/%zu services ready", snap->state, ready,
			  snap->nservices);
	for (size_t i = 0; i < snap->nservices; i++) {
		const struct status_service *s = &snap->services[i];
		if (!s->state || strcmp(s->state, "failed") != 0)
			continue;
		used = strlen(buf);
		fmt_trunc(buf + used, n - used, "%s%s", first ? "; failed: " : ", ", s->name);
		first = 0;
	}
	if (snap->exit_code >= 0) {
		used = strlen(buf);
		fmt_trunc(buf + used, n - used, "; exit code %d", snap->exit_code);
	}
}
