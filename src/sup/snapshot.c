/* The status snapshot: every service's state, published to the status files. */
#include "sup/sv.h"

#include "base/log.h"
#include "base/redact.h"
#include "base/strv.h"
#include "run/landlock.h"
#include "status/status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------- */
/* status */

/* The fields of service i that come from the plan: set once, by status_setup
 * (publish() runs at every change, and reading 1000 plans costs more than
 * the rest of it). */
static void ss_plan(struct sv *sv, size_t i)
{
	const struct svc *s = &sv->svcs[i];
	struct status_service *o = &sv->ss[i];

	o->name = s->name;
	o->stage = s->pol->stage;
	o->required = s->pol->required;
	o->oneshot = s->pol->oneshot;
	o->attempts = s->pol->retries;
	o->script = s->p->script;
	o->command = sv->commands[i];
	o->sandbox = s->p->seccomp_name;
	if (s->p->seccomp_name) {
		o->sandbox_rules = s->p->seccomp ? s->p->seccomp->rules : 0;
		o->sandbox_landlock = landlock_abi(NULL);
	}
	o->ready_spec = s->pol->ready.spec->spec;
}

/* The fields that change while hfinit runs: at every publish. */
static void ss_run(const struct svc *s, struct status_service *o)
{
	enum svc_state st = svc_public_state(s);

	o->state = svc_state_name(st);
	o->pid = s->running ? s->pid : 0;
	o->attempt = s->attempt;
	o->restarts = s->restarts;
	o->requested_restarts = s->requested_restarts;
	o->stopped_by = st == S_STOPPED ? s->stopped_by : NULL;
	o->started_at = s->started_wall;
	o->ready_at = st == S_READY || st == S_DONE ? s->ready_wall : (struct timespec){0, 0};
	o->finished_at = st == S_DONE ? s->ready_wall : (struct timespec){0, 0};
	o->ready_ms = s->ready_ns ? s->ready_ms : -1;
	o->has_exit = s->has_exit;
	o->exit_code = s->has_exit && WIFEXITED(s->last_status) ? WEXITSTATUS(s->last_status) : -1;
	o->exit_signal = s->has_exit && WIFSIGNALED(s->last_status) ? WTERMSIG(s->last_status) : 0;
	o->last_error = s->error.msg[0] ? s->error.msg : NULL;
	o->error_category = s->error.category;
	o->error_hint = s->error.hint[0] ? s->error.hint : NULL;
	o->errors = s->errors;
	o->warnings = s->warnings;
	o->notify_status = s->notify_status[0] ? s->notify_status : NULL;
	o->disabled_reason = st == S_DISABLED ? s->disabled_reason : NULL;
}

void svc_changed(struct svc *s)
{
	struct sv *sv = s->sv;

	sv->dirty = true;
	if (sv->changed)
		sv->changed[s - sv->svcs] = 1;
}

/* The services marked changed, read again: their fields and their part in
 * the overall state. The others are as the last publish left them, and the
 * writer compares only these (snap.changed). */
static void ss_changed(struct sv *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (!sv->changed[i])
			continue;
		unsigned b = overall_bits(&sv->svcs[i]);
		overall_count(sv->ov_count, sv->ov_bits[i], false); /* its old part out */
		overall_count(sv->ov_count, b, true);		    /* the new in */
		sv->ov_bits[i] = (unsigned char)b;
		ss_run(&sv->svcs[i], &sv->ss[i]);
	}
}

void publish(struct sv *sv, const char *final_state)
{
	struct status_snapshot snap;

	if (!sv->status || !sv->changed) /* none, or status_setup failed */
		return;
	memset(&snap, 0, sizeof(snap));
	if (final_state) /* the last write: everything read again */
		memset(sv->changed, 1, sv->n);
	ss_changed(sv);
	snap.state = overall_word(sv->ov_count, sv->all_started, sv->shutting_down,
				  &snap.all_required_ready);
	if (final_state) {
		snap.state = final_state;
		snap.all_required_ready = false;
	}
	snap.stage = sv->stage;
	snap.started_at = sv->started_wall;
	snap.exit_code = final_state ? sv->exit_code : -1;
	snap.python = sv->plan->python_needed ? &sv->plan->python : NULL;
	snap.services = sv->ss;
	snap.nservices = sv->n;
	snap.changed = sv->changed;
	snap.stages = sv->stages;
	snap.nstages = sv->nstages;
	const struct sink *k[2] = {&sv->out_sink, &sv->err_sink};
	for (int i = 0; i < 2; i++) {
		snap.output[i].dropped_lines = k[i]->dropped_lines;
		snap.output[i].dropped_bytes = k[i]->dropped_total;
		snap.output[i].reason = k[i]->why;
	}
	status_publish(sv->status, &snap);
	memset(sv->changed, 0, sv->n);
	sv->dirty = false;
}

static void on_status_dir(struct loop_watch *w, uint32_t ev)
{
	(void)ev;
	status_watch_event(((struct sv *)w->data)->status);
	control_renew(w->data); /* after the dir itself was made again */
}

int status_setup(struct sv *sv)
{
	unsigned st = 0;

	sv->ss = calloc(sv->n ? sv->n : 1, sizeof(*sv->ss));
	sv->stages = calloc(sv->n ? sv->n : 1, sizeof(*sv->stages));
	sv->commands = calloc(sv->n ? sv->n : 1, sizeof(*sv->commands));
	sv->changed = malloc(sv->n ? sv->n : 1);
	sv->ov_bits = calloc(sv->n ? sv->n : 1, 1);
	if (!sv->ss || !sv->stages || !sv->commands || !sv->changed || !sv->ov_bits)
		return -1;
	memset(sv->changed, 1, sv->n); /* the first publish reads every service */
	memset(sv->ov_count, 0, sizeof(sv->ov_count));
	while ((st = next_stage(sv->svcs, sv->n, st)) != 0) {
		sv->stages[sv->nstages].stage = st;
		sv->stages[sv->nstages].ready_ms = -1;
		sv->nstages++;
	}
	for (size_t i = 0; i < sv->n; i++) {
		sv->commands[i] = strv_join(sv->svcs[i].p->argv);
		if (sv->commands[i])
			redact_str(sv->commands[i], strlen(sv->commands[i]) + 1);
		ss_plan(sv, i);
	}
	if (status_watch_fd(sv->status) >= 0 &&
	    loop_watch_add(&sv->loop, &sv->w_status, status_watch_fd(sv->status), EPOLLIN,
			   on_status_dir, sv) < 0)
		log_errno(LOG_LVL_WARN, errno, "status: a removed status dir will not be seen");
	return 0;
}

void status_teardown(struct sv *sv)
{
	for (size_t i = 0; sv->commands && i < sv->n; i++)
		free(sv->commands[i]);
	free(sv->commands);
	free(sv->changed);
	free(sv->ov_bits);
	sv->changed = sv->ov_bits = NULL;
	free(sv->ss);
	free(sv->stages);
}
