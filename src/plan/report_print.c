#include "plan/report.h"
#include "run/landlock.h"
#include "plan/sandbox.h"

#include "conf/config.h"
#include "plan/env.h"
#include "base/json.h"
#include "plan/plan.h"
#include "base/redact.h"
#include "plan/resolve.h"
#include "run/runcmd.h"
#include "plan/statusdir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

static const char *const status_word[] = {"ok", "warn", "skip", "FAIL"};

#define IND "          " /* under a row's first column */

/* --- text output ----------------------------------------------------------------- */

static void row(FILE *f, enum report_status st, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row(FILE *f, enum report_status st, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(f, "%-5s %-16s ", status_word[st], what);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
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
		v[i] = (struct sandbox_svc){c->s->name, c->p->set_ids ? c->p->uid : geteuid(),
					    c->s->seccomp != NULL};
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

/* --- JSON output ------------------------------------------------------------------ */

static void json_strv(struct json *j, const char *key, char *const *v)
{
	json_key(j, key);
	if (!v) {
		json_null(j);
		return;
	}
	json_arr_begin(j);
	for (; *v; v++)
		json_str(j, *v);
	json_arr_end(j);
}

static void json_python(struct json *j, const struct report *r)
{
	json_key(j, "python");
	json_obj_begin(j);
	json_kstr(j, "status", status_word[r->py_status]);
	json_kbool(j, "needed", r->py_needed);
	if (r->plan.python.chosen >= 0) {
		const struct py_candidate *c = &r->plan.python.cands[r->plan.python.chosen];

		json_kstr(j, "path", c->path);
		json_kstr(j, "version", c->version);
		json_kstr(j, "source", c->source);
		json_kstr(j, "executable", c->executable);
	} else {
		json_kstr(j, "path", NULL);
		json_kstr(j, "error", r->plan.python.error);
		json_kstr(j, "hint", r->plan.python.hint[0] ? r->plan.python.hint : NULL);
	}
	json_key(j, "verified_as");
	json_arr_begin(j);
	for (size_t i = 0; i < r->plan.npy_users; i++)
		json_str(j, r->plan.py_users[i].as.switch_ids ? r->plan.py_users[i].name : "root");
	json_arr_end(j);
	json_key(j, "candidates");
	json_arr_begin(j);
	for (size_t i = 0; i < r->plan.python.ncands; i++) {
		const struct py_candidate *c = &r->plan.python.cands[i];

		json_obj_begin(j);
		json_kstr(j, "source", c->source);
		json_kstr(j, "path", c->path[0] ? c->path : NULL);
		json_kstr(j, "verdict", py_verdict_name(c->verdict));
		json_kstr(j, "detail", c->detail[0] ? c->detail : NULL);
		json_kstr(j, "version", c->version[0] ? c->version : NULL);
		json_kbool(j, "chosen", (int)i == r->plan.python.chosen);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void json_sandbox(struct json *j, const struct report *r, const struct svc_check *c)
{
	json_key(j, "sandbox");
	if (c->s->seccomp) {
		const struct sandbox_profile *p = c->p->seccomp;
		json_obj_begin(j);
		json_kstr(j, "profile", c->s->seccomp);
		json_key(j, "rules");
		if (p)
			json_int(j, p->rules);
		else
			json_null(j);
		json_kstr(j, "error", p ? NULL : r->plan.sandbox_err.msg);
		json_key(j, "landlock_abi");
		if (landlock_abi(NULL))
			json_int(j, landlock_abi(NULL));
		else
			json_null(j);
		json_obj_end(j);
	} else {
		json_null(j);
	}
}

/* The script and the paths tried, or the command and where it was found. */
static void json_program(struct json *j, const struct report *r, const struct svc_check *c)
{
	if (c->s->script) {
		json_kstr(j, "script", c->s->script);
		json_kstr(j, "resolved", c->p->spl.found ? c->p->spl.path : NULL);
		json_key(j, "tried");
		json_arr_begin(j);
		for (size_t k = 0; k < c->p->spl.ntried; k++) {
			json_obj_begin(j);
			json_kstr(j, "path", c->p->spl.tried[k].path);
			json_kstr(j, "verdict", script_verdict_name(c->p->spl.tried[k].verdict));
			json_kstr(j, "detail",
				  c->p->spl.tried[k].detail[0] ? c->p->spl.tried[k].detail : NULL);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_kstr(j, "python",
			  r->plan.python.chosen >= 0
			      ? r->plan.python.cands[r->plan.python.chosen].path
			      : NULL);
	} else {
		json_kstr(j, "command",
			  c->s->command && c->s->command[0] ? c->s->command[0] : NULL);
		json_kstr(j, "resolved",
			  c->p->exec_errno == 0 && c->p->exec_path[0] ? c->p->exec_path : NULL);
	}
}

static void json_user(struct json *j, const struct svc_check *c)
{
	json_key(j, "user");
	if (!c->p->has_user) {
		json_null(j);
	} else {
		json_obj_begin(j);
		json_kstr(j, "name", c->s->user);
		json_kstr(j, "group", c->s->group);
		json_kbool(j, "ok", c->p->user_ok);
		if (c->p->user_ok) {
			json_kint(j, "uid", c->p->user.as.uid);
			json_kint(j, "gid", c->p->user.as.gid);
		} else {
			json_kstr(j, "error", c->user_msg ? c->user_msg : "");
		}
		json_obj_end(j);
	}
}

static void json_requires(struct json *j, const struct svc_check *c)
{
	json_key(j, "requires");
	if (!c->s->requires) {
		json_null(j);
	} else {
		json_obj_begin(j);
		json_strv(j, "modules", c->s->requires);
		json_kstr(j, "status",
			  c->req_state == 1   ? "ok"
			  : c->req_state == 2 ? "FAIL"
					      : "not checked");
		json_kstr(j, "message", c->req_msg[0] ? c->req_msg : NULL);
		json_key(j, "failed");
		json_arr_begin(j);
		for (size_t k = 0; k < c->nmissing; k++) {
			json_obj_begin(j);
			json_kstr(j, "module", c->missing[k].module);
			json_kbool(j, "missing", c->missing[k].not_found);
			json_kstr(j, "error", c->missing[k].error);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
}

static void json_service(struct json *j, const struct report *r, const struct svc_check *c)
{
	json_key(j, c->s->name);
	json_obj_begin(j);
	json_kstr(j, "status", status_word[c->status]);
	json_kstr(j, "summary", c->summary);
	json_kstr(j, "kind", c->s->script ? "script" : "command");
	json_sandbox(j, r, c);
	json_program(j, r, c);
	json_user(j, c);
	json_kstr(j, "setup_error", c->setup_msg);
	json_kstr(j, "workdir_error", c->workdir_msg);
	json_kstr(j, "env_file_error", c->envfile_msg);
	json_kbool(j, "redact", c->s->redact);
	json_key(j, "env");
	json_arr_begin(j);
	for (char **v = c->s->env; v && *v; v++) {
		char shown[1024];

		env_redact_assignment(*v, shown, sizeof(shown));
		json_str(j, shown);
	}
	json_arr_end(j);
	json_requires(j, c);
	json_key(j, "hints");
	json_arr_begin(j);
	for (int k = 0; k < c->nhints; k++)
		json_str(j, c->hints[k]);
	json_arr_end(j);
	json_obj_end(j);
}

static int print_json_doc(struct json *j)
{
	char *out;
	size_t len;

	if (json_finish(j, &out, &len) != 0) {
		fprintf(stderr, "hfinit: error: building the JSON report: %s\n", strerror(errno));
		return -1;
	}
	fwrite(out, 1, len, stdout);
	fputc('\n', stdout);
	free(out);
	return 0;
}

static void json_config(struct json *j, const struct report *r)
{
	json_key(j, "config");
	json_obj_begin(j);
	json_kstr(j, "file", r->cfg ? r->cfg->file : r->loc.path);
	json_kstr(j, "source", config_source_name(r->loc.source));
	json_kbool(j, "ok", config_ok(r->cfg));
	json_key(j, "errors");
	json_arr_begin(j);
	if (!r->cfg) {
		json_obj_begin(j);
		json_kstr(j, "text", r->load_error);
		json_obj_end(j);
	}
	for (size_t i = 0; r->cfg && i < r->cfg->ndiags; i++) {
		const struct config_diag *d = &r->cfg->diags[i];

		json_obj_begin(j);
		json_kint(j, "line", d->line);
		json_kstr(j, "section", d->section);
		json_kstr(j, "key", d->key);
		json_kstr(j, "message", d->msg);
		json_kstr(j, "text", d->text);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

int report_print_json(const struct report *r, int exit_code)
{
	struct json j;

	json_init(&j, 1);
	j.redact = 1; /* no secret in any string (redact.h) */
	json_obj_begin(&j);
	json_kint(&j, "schema", 1);
	json_kstr(&j, "hfinit", HFINIT_VERSION);
	json_kstr(&j, "result", exit_code == 0 ? "ok" : exit_code == 2 ? "config error" : "fail");
	json_kint(&j, "exit", exit_code);
	json_kint(&j, "problems", config_ok(r->cfg) ? r->problems : -1);
	json_config(&j, r);
	if (config_ok(r->cfg)) {
		json_key(&j, "status_dir");
		json_obj_begin(&j);
		json_kstr(&j, "status", status_word[r->sd_status]);
		json_kstr(&j, "path", statusdir_path(&r->sd));
		json_kstr(&j, "hint", r->sd_hint[0] ? r->sd_hint : NULL);
		json_key(&j, "tried");
		json_arr_begin(&j);
		for (int i = 0; i < r->sd.ntried; i++) {
			json_obj_begin(&j);
			json_kstr(&j, "path", r->sd.tried[i].path);
			json_kstr(&j, "source", r->sd.tried[i].source);
			json_kbool(&j, "usable", r->sd.tried[i].usable);
			json_kbool(&j, "exists", r->sd.tried[i].exists);
			json_kstr(&j, "why", r->sd.tried[i].why[0] ? r->sd.tried[i].why : NULL);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);

		json_key(&j, "seccomp");
		json_obj_begin(&j);
		json_kstr(&j, "status", status_word[r->sc_status]);
		json_kbool(&j, "needed", r->sc_needed);
		json_kstr(&j, "detail", r->sc_detail);
		json_obj_end(&j);

		json_python(&j, r);

		json_key(&j, "environment");
		json_arr_begin(&j);
		for (size_t i = 0; i < r->nenvs; i++) {
			const struct env_check *ec = &r->envs[i];

			json_obj_begin(&j);
			json_kstr(&j, "user", ec->user);
			const struct envsane *es = &ec->sp->env;
			const char *warn = NULL;
			for (char **w = ec->sp->warnings; w && *w && !warn; w++)
				if (strncmp(*w, "HOME: ", 6) == 0 || strncmp(*w, "HF_HOME", 7) == 0)
					warn = *w;
			json_kstr(&j, "status", warn ? "warn" : "ok");
			json_kstr(&j, "home", es->home);
			json_kbool(&j, "home_replaced", es->home_replaced);
			json_kstr(&j, "home_reason", es->home_reason[0] ? es->home_reason : NULL);
			json_kbool(&j, "home_create", es->home_create && !ec->sp->home_unusable);
			json_kstr(&j, "hf_home", es->hf_home);
			json_kbool(&j, "hf_home_default", es->hf_home_default);
			json_kstr(&j, "warning", warn);
			json_obj_end(&j);
		}
		json_arr_end(&j);

		json_key(&j, "services");
		json_obj_begin(&j);
		for (size_t i = 0; i < r->nsvcs; i++)
			json_service(&j, r, &r->svcs[i]);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	return print_json_doc(&j);
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
