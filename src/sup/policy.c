/* The pure policy of the life cycle (fsm.h): the state names, restart
 * limits, back-off, the stage gate and the overall state. No I/O, no clock:
 * tests/unit/test_fsm.c calls these directly. */
#include "sup/sv.h"

#include <sys/wait.h>

static const char *const state_names[S_NSTATES] = {
    [S_PENDING] = "pending",   [S_STARTING] = "starting", [S_READY] = "ready",
    [S_STOPPING] = "stopping", [S_RETRYING] = "retrying", [S_RESTARTING] = "restarting",
    [S_FAILED] = "failed",     [S_STOPPED] = "stopped",	  [S_DONE] = "done",
    [S_DISABLED] = "disabled",
};

const char *svc_state_name(enum svc_state st)
{
	return st < S_NSTATES ? state_names[st] : "?";
}

enum svc_state svc_public_state(const struct svc *s)
{
	return s->state == S_STOPPING ? s->shown : s->state;
}

bool restart_burst_hit(int64_t *times, unsigned *n, unsigned burst, int64_t window, int64_t now)
{
	unsigned k = 0;

	/* Restarts within the window, oldest dropped. */
	for (unsigned i = 0; i < *n; i++)
		if (now - times[i] < window)
			times[k++] = times[i];
	*n = k;
	return burst == 0 || k >= burst;
}

int64_t backoff_next(int64_t cur, int64_t first, int64_t max, bool stayed_up)
{
	if (cur == 0 || stayed_up)
		return first;
	if (cur * 2 <= max)
		return cur * 2;
	return max;
}

bool restart_wanted(enum restart_policy p, bool clean)
{
	return p == RESTART_ALWAYS || (p == RESTART_ON_FAILURE && !clean);
}

bool exit_clean(const struct svc_policy *p, int status)
{
	int c = WEXITSTATUS(status);

	return WIFEXITED(status) && (p->success_codes[c / 8] >> (c % 8) & 1);
}

/* A longrun that exited clean and is not restarted, or a one-shot done. */
static bool finished_clean(const struct svc *s)
{
	return s->state == S_DONE ||
	       (s->state == S_STOPPED && s->has_exit && exit_clean(s->pol, s->last_status));
}

bool stage_done(const struct svc *v, size_t n, unsigned stage)
{
	for (size_t i = 0; i < n; i++) {
		const struct svc *s = &v[i];
		enum svc_state st = svc_public_state(s);
		if (s->pol->stage != stage)
			continue;
		/* became_ready: ready earlier in this turn, gone again by its end. */
		if (st == S_READY || s->became_ready || finished_clean(s))
			continue;
		if (st == S_DISABLED) /* as good as done: never started (docs/supervise.md) */
			continue;
		if (!s->pol->required && (st == S_FAILED || st == S_STOPPED))
			continue;
		if (st == S_STOPPED && s->stopped_by) /* a requested stop holds no stage back */
			continue;
		return false;
	}
	return true;
}

unsigned next_stage(const struct svc *v, size_t n, unsigned after)
{
	unsigned best = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned st = v[i].pol->stage;
		if (st > after && (best == 0 || st < best))
			best = st;
	}
	return best;
}

unsigned overall_bits(const struct svc *s)
{
	enum svc_state st = svc_public_state(s);
	unsigned b = 0;

	if (st == S_DISABLED) /* neither serving nor degraded: not counted */
		return 0;
	if (s->pol->required)
		b |= 1u << OV_REQUIRED;
	if (s->pol->required && st != S_READY && !finished_clean(s))
		b |= 1u << OV_REQUIRED_DOWN;
	if (!s->pol->required && st == S_FAILED)
		b |= 1u << OV_OPTIONAL_FAILED;
	return b;
}

void overall_count(unsigned count[OV_NBITS], unsigned bits, bool add)
{
	for (int k = 0; k < OV_NBITS; k++)
		if (bits >> k & 1)
			count[k] = add ? count[k] + 1 : count[k] - 1;
}

const char *overall_word(const unsigned count[OV_NBITS], bool all_started, bool shutting_down,
			 bool *all_required_ready)
{
	bool req_ready = count[OV_REQUIRED_DOWN] == 0;

	/* Not gated on the later stages: an optional stage-2 pool still loading
	 * leaves the state `starting`, but the required services are serving.
	 * With no required service at all, ready once every stage started. */
	*all_required_ready =
	    req_ready && (count[OV_REQUIRED] > 0 || all_started) && !shutting_down;
	if (shutting_down)
		return "stopping";
	if (!all_started)
		return "starting";
	return req_ready && count[OV_OPTIONAL_FAILED] == 0 ? "ready" : "degraded";
}

const char *overall_state(const struct svc *v, size_t n, bool all_started, bool shutting_down,
			  bool *all_required_ready)
{
	unsigned count[OV_NBITS] = {0};

	for (size_t i = 0; i < n; i++)
		overall_count(count, overall_bits(&v[i]), true);
	return overall_word(count, all_started, shutting_down, all_required_ready);
}
