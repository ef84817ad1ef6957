/* The check report as text (docs/check.md): one row per check, details
 * indented under it, every secret shown as ***. */
#include "plan/report.h"

#include "base/redact.h"
#include "plan/env.h"
#include "plan/sandbox.h"
#include "run/landlock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const report_status_word[] = {"ok", "warn", "skip", "FAIL"};

#define IND "          " /* under a row's first column */

/* --- text output ----------------------------------------------------------------- */

static void row(FILE *f, enum report_status st, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row(FILE *f, enum report_status st, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-5s %-16s ", report_status_word[st], what);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* type, success_exit_codes and watchdog, when not the defaults. */
static void print_kind(FILE *f, const struct service_conf *s)
{
	bool codes = s->success_codes[0] != 1;

	for (int i = 1; i < 32; i++)
		codes |= s->success_codes[i] != 0;
	if (s->type == TYPE_ONESHOT)
		fprintf(f, IND "type: oneshot (done when it exits with a success code)\n");
	if (codes) {
		fprintf(f, IND "success_exit_codes:");
		for (int i = 0; i < 256; i++)
			if (s->success_codes[i / 8] >> (i % 8) & 1)
				fprintf(f, " %d", i);
		fputc('\n', f);
	}
	if (s->watchdog_ms) {
		char d[32];
		fprintf(f, IND "watchdog: WATCHDOG=1 at least every %s\n",
			fmt_duration(s->watchdog_ms, d, sizeof(d)));
	}
}

/* enabled = no, and path: and env: as they are now; exec: only runs when the
 * stage opens. */
static void print_conditions(FILE *f, const struct service_conf *s)
{
	if (!s->enabled)
		fprintf(f, IND "disabled: enabled = no\n");
	for (size_t k = 0; k < s->nconds; k++) {
		const struct condition *d = &s->conds[k];
		char why[64] = "not run by check";
		bool t = d->kind != COND_EXEC && plan_cond_test(d, why, sizeof(why));
		fprintf(f, IND "condition %s: %s%s\n", d->spec, why,
			d->kind != COND_EXEC && t == d->negate ? ": would be disabled" : "");
	}
}

static void print_service(FILE *f, const struct report *r, const struct svc_check *c)
{
	char what[96];

	fmt_trunc(what, sizeof(what), "service %s", c->s->name);
	row(f, c->status, what, "%s", c->summary);
	if (c->s->user || c->s->group)
		fprintf(f, IND "user: %s%s\n",
			c->p->user_ok ? (c->s->user ? c->s->user : "(self)") : "",
			c->p->user_ok ? "" : c->user_msg);
	print_conditions(f, c->s);
	for (char **w = c->p->warnings; w && *w; w++)
		if (strncmp(*w, "HOME: ", 6) != 0 && strncmp(*w, "HF_HOME", 7) != 0 &&
		    (!c->user_msg || *w != c->user_msg))
			fprintf(f, IND "%s\n", *w);
	if (c->s->script && (!c->p->spl.found || c->p->spl.ntried > 1))
		for (size_t k = 0; k < c->p->spl.ntried; k++) {
			const struct script_try *t = &c->p->spl.tried[k];

			fprintf(f, IND "%s %s: %s",
				c->p->spl.found && k + 1 == c->p->spl.ntried ? "*" : "-", t->path,
				script_verdict_name(t->verdict));
			if (t->detail[0])
				fprintf(f, " (%s)", t->detail);
			fputc('\n', f);
		}
	print_kind(f, c->s);
	if (c->s->seccomp) {
		const struct sandbox_profile *p = c->p->seccomp;
		if (p)
			fprintf(f, IND "sandbox: %s (%u rules), %s\n", p->name, p->rules,
				landlock_abi(NULL) ? "own Landlock domain" : "no Landlock");
		else
			fprintf(f, IND "sandbox: %s: cannot be built: %s\n", c->s->seccomp,
				r->plan.sandbox_err.msg);
	}
	if (c->setup_msg)
		fprintf(f, IND "cannot start: %s\n", c->setup_msg);
	if (c->workdir_msg)
		fprintf(f, IND "%s\n", c->workdir_msg);
	if (c->envfile_msg)
		fprintf(f, IND "%s\n", c->envfile_msg);
	for (char **v = c->s->env; v && *v; v++) {
		char shown[1024];

		env_redact_assignment(*v, shown, sizeof(shown));
		fprintf(f, IND "env %s\n", shown);
	}
	if (!c->s->redact)
		fprintf(f, IND "output: not redacted (redact = no)\n");
	if (c->p->policy.watch) {
		char *paths = strv_join(c->p->policy.watch),
		     *ign = strv_join(c->p->policy.watch_ignore);
		char d[32];

		fprintf(f, IND "watch: %s (restart after %s of quiet; ignoring %s)\n",
			paths ? paths : "", fmt_duration(c->s->watch_debounce_ms, d, sizeof(d)),
			ign && *ign ? ign : "nothing");
		free(paths);
		free(ign);
	}
	if (c->s->requires) {
		char *joined = strv_join(c->s->requires);

		if (c->req_state == 1)
			fprintf(f, IND "requires %s: all import\n", joined ? joined : "");
		else if (c->req_state == 2)
			for (size_t k = 0; k < c->nmissing; k++)
				fprintf(f, IND "requires %s: %s\n", c->missing[k].module,
					c->missing[k].error);
		else
			fprintf(f, IND "requires %s: %s\n", joined ? joined : "", c->req_msg);
		free(joined);
	}
	for (int k = 0; k < c->nhints; k++)
		fprintf(f, IND "hint: %s\n", c->hints[k]);
}

/* The Landlock row (only when filtered services get no domain). */
static void print_landlock(FILE *f, const struct report *r)
{
	struct sandbox_svc *v = calloc(r->nsvcs ? r->nsvcs : 1, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < r->nsvcs; i++) {
		const struct svc_check *c = &r->svcs[i];
		v[i] = (struct sandbox_svc){c->s->name, c->p->run_uid, c->s->seccomp != NULL};
	}
	sandbox_landlock_check(f, IND, v, r->nsvcs);
	free(v);
}

static void print_status_dir(FILE *f, const struct report *r)
{
	if (r->sd_status == RS_OK) {
		const struct statusdir_try *t = &r->sd.tried[r->sd.chosen];

		row(f, RS_OK, "status dir", "%s%s", t->path, t->exists ? "" : " (will be created)");
	} else {
		row(f, RS_WARN, "status dir", "no usable status directory: no status files");
	}
	for (int i = 0; i < r->sd.ntried; i++)
		if (!r->sd.tried[i].usable)
			fprintf(f, IND "%s (%s): %s\n", r->sd.tried[i].path, r->sd.tried[i].source,
				r->sd.tried[i].why);
	if (r->sd_status != RS_OK)
		fprintf(f, IND "hint: %s\n", r->sd_hint);
}

static void print_seccomp(FILE *f, const struct report *r)
{
	row(f, r->sc_status, "seccomp", "%s%s", r->sc_detail,
	    r->sc_status == RS_WARN ? " (no service uses a profile)" : "");
	if (r->sc_status == RS_FAIL)
		fprintf(f, IND "hint: run the container without a seccomp profile that blocks "
			       "seccomp(2)/prctl, or remove `seccomp =` from the services\n");
	print_landlock(f, r);
}

static void print_python(FILE *f, const struct report *r)
{
	char desc[1024];

	if (r->plan.python.chosen >= 0) {
		const struct py_candidate *c = &r->plan.python.cands[r->plan.python.chosen];

		row(f, r->py_status, "python", "%s (Python %s, from %s)", c->path, c->version,
		    c->source);
		if (r->py_skipped >= 0) {
			char w[3072];
			plan_python_skipped_text(&r->plan.python, r->py_skipped, w, sizeof(w));
			fprintf(f, IND "%s\n", w);
		}
	} else {
		row(f, r->py_status, "python", "%s%s", r->plan.python.error,
		    r->py_needed ? "" : " (no service uses `script =`)");
	}
	if (r->plan.npy_users) {
		fprintf(f, IND "verified as:");
		for (size_t i = 0; i < r->plan.npy_users; i++)
			fprintf(f, " %s",
				r->plan.py_users[i].as.switch_ids ? r->plan.py_users[i].name
								  : "root");
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->plan.python.ncands; i++) {
		const struct py_candidate *c = &r->plan.python.cands[i];

		py_candidate_describe(c, desc, sizeof(desc));
		fprintf(f, IND "%s %-22s %s%s%s\n", (int)i == r->plan.python.chosen ? "*" : "-",
			c->source, c->path, c->path[0] ? ": " : "", desc);
	}
	if (r->plan.python.chosen < 0 && r->plan.python.hint[0])
		fprintf(f, IND "hint: %s\n", r->plan.python.hint);
}

/* One row per user the services run as: its HOME and HF_HOME. */
static void print_envs(FILE *f, const struct report *r)
{
	for (size_t i = 0; i < r->nenvs; i++) {
		const struct env_check *ec = &r->envs[i];
		char what[96];

		fmt_trunc(what, sizeof(what), "env (%s)", ec->user);
		const struct envsane *es = &ec->sp->env;

		row(f, es->hf_home_warning[0] || ec->sp->home_unusable ? RS_WARN : RS_OK, what,
		    "HOME=%s%s, HF_HOME=%s%s", es->home,
		    es->home_create && !ec->sp->home_unusable ? " (will be created)" : "",
		    es->hf_home, es->hf_home_default ? " (default)" : "");
		if (es->home_replaced)
			fprintf(f, IND "%s: services get HOME=%s instead\n", es->home_reason,
				es->home);
		for (char **w = ec->sp->warnings; w && *w; w++)
			if (strncmp(*w, "HOME: ", 6) == 0 || strncmp(*w, "HF_HOME", 7) == 0)
				fprintf(f, IND "%s\n", *w);
	}
}

static void print_text(FILE *f, const struct report *r)
{
	int warnings = (r->sd_status == RS_WARN) + (r->py_status == RS_WARN), degraded = 0;

	for (size_t i = 0; i < r->nsvcs; i++) {
		warnings += r->svcs[i].status == RS_WARN;
		degraded |= r->svcs[i].status == RS_WARN && r->svcs[i].p->error;
	}

	fprintf(f, "hfinit check: %s (%s)\n\n", r->cfg->file, config_source_name(r->loc.source));
	row(f, RS_OK, "config", "%zu service%s, %zu seccomp profile%s", r->cfg->nservices,
	    r->cfg->nservices == 1 ? "" : "s", r->cfg->nprofiles,
	    r->cfg->nprofiles == 1 ? "" : "s");
	for (size_t i = 0; i < r->cfg->nsubsts; i++) {
		const struct config_subst *v = &r->cfg->substs[i];

		fprintf(f, IND "%s:%d: [%s] %s = %s (from %s)\n", r->cfg->file, v->line, v->section,
			v->key, v->value, v->vars);
	}

	print_status_dir(f, r);
	print_seccomp(f, r);
	print_python(f, r);
	print_envs(f, r);
	for (size_t i = 0; i < r->nsvcs; i++)
		print_service(f, r, &r->svcs[i]);
	fputc('\n', f);
	if (r->problems)
		fprintf(f, "%d problem%s: hfinit would not start everything.\n", r->problems,
			r->problems == 1 ? "" : "s");
	else if (warnings)
		fprintf(f, "all checks passed, %d warning%s: hfinit would start%s.\n", warnings,
			warnings == 1 ? "" : "s", degraded ? ", degraded" : "");
	else
		fprintf(f, "all checks passed.\n");
}

/* --- entry ------------------------------------------------------------------------ */

/* print_text to stdout with every secret as *** (values and shapes, redact.h). */
void report_print_text(const struct report *r)
{
	char *doc = NULL, *red;
	size_t len = 0, rl;
	FILE *m = open_memstream(&doc, &len);

	if (!m) {
		fprintf(stderr, "hfinit: error: check: out of memory\n");
		return;
	}
	print_text(m, r);
	if (fclose(m) != 0 || !doc) {
		fprintf(stderr, "hfinit: error: check: out of memory\n");
		free(doc);
		return;
	}
	/* *** replaces at least one byte: 3 per byte is always enough */
	red = malloc(len * 3 + 1);
	rl = red ? redact_to(doc, len, red, len * 3 + 1) : (size_t)-1;
	if (red && rl != (size_t)-1)
		fwrite(red, 1, rl, stdout);
	else if (red || !redact_needed(doc, len))
		fwrite(doc, 1, len, stdout);
	else
		fprintf(stderr, "hfinit: error: check: out of memory\n");
	free(red);
	free(doc);
}

void report_print_config_errors(const struct report *r)
{
	printf("hfinit check: %s (%s)\n\n", r->cfg ? r->cfg->file : r->loc.path,
	       config_source_name(r->loc.source));
	if (!r->cfg) {
		printf("FAIL  config           %s\n", r->load_error);
	} else {
		printf("FAIL  config           %zu error%s\n", r->cfg->ndiags,
		       r->cfg->ndiags == 1 ? "" : "s");
		for (size_t i = 0; i < r->cfg->ndiags; i++)
			printf(IND "%s\n", r->cfg->diags[i].text);
	}
	printf("\nconfig errors: nothing would start (exit 2).\n");
}
