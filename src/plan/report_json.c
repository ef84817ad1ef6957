/* The check report as one JSON document (docs/check.md, "--json"). */
#include "plan/report.h"

#include "base/json.h"
#include "plan/env.h"
#include "run/landlock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	json_kstr(j, "status", report_status_word[r->py_status]);
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

static void json_watch(struct json *j, const struct svc_policy *po)
{
	json_key(j, "watch");
	if (!po->watch) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_strv(j, "paths", po->watch);
	json_strv(j, "ignore", po->watch_ignore);
	json_kint(j, "debounce_ms", po->watch_debounce_ns / 1000000);
	json_obj_end(j);
}

static void json_service(struct json *j, const struct report *r, const struct svc_check *c)
{
	json_key(j, c->s->name);
	json_obj_begin(j);
	json_kstr(j, "status", report_status_word[c->status]);
	json_kstr(j, "summary", c->summary);
	json_kstr(j, "kind", c->s->script ? "script" : "command");
	json_kstr(j, "type", c->s->type == TYPE_ONESHOT ? "oneshot" : "longrun");
	json_key(j, "success_exit_codes");
	json_arr_begin(j);
	for (int i = 0; i < 256; i++)
		if (c->s->success_codes[i / 8] >> (i % 8) & 1)
			json_int(j, i);
	json_arr_end(j);
	json_key(j, "watchdog_ms");
	if (c->s->watchdog_ms)
		json_int(j, (long long)c->s->watchdog_ms);
	else
		json_null(j);
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
	json_watch(j, &c->p->policy);
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
	json_key(j, "from_env");
	json_arr_begin(j);
	for (size_t i = 0; r->cfg && i < r->cfg->nsubsts; i++) {
		const struct config_subst *v = &r->cfg->substs[i];

		json_obj_begin(j);
		json_kint(j, "line", v->line);
		json_kstr(j, "section", v->section);
		json_kstr(j, "key", v->key);
		json_kstr(j, "value", v->value);
		json_kstr(j, "from", v->vars);
		json_obj_end(j);
	}
	json_arr_end(j);
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
		json_kstr(&j, "status", report_status_word[r->sd_status]);
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
		json_kstr(&j, "status", report_status_word[r->sc_status]);
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
