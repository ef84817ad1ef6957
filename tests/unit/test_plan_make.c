/* Unit tests: plan making, the pure half of the planner (plan/plan_make.c).
 * Config text and hand-made facts (who hfinit is, the users looked up, the
 * scripts found, the env_file read) in; svc_plan fields and verdict texts
 * out. No fork, no file, no lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf/config.h"
#include "plan/plan.h"
#include "plan/plan_make.h"
#include "run/watch.h"

struct fixture {
	struct config *cfg;
	struct plan plan;
};

/* A plan with its services allocated and the globals made, nothing resolved. */
static void make(struct fixture *fx, const char *text)
{
	struct err e;

	fx->cfg = config_parse("t.ini", text, strlen(text), &e);
	assert_non_null(fx->cfg);
	if (!config_ok(fx->cfg))
		fail_msg("%s", fx->cfg->diags[0].text);
	memset(&fx->plan, 0, sizeof(fx->plan));
	fx->plan.python.chosen = -1;
	fx->plan.svcs = calloc(fx->cfg->nservices, sizeof(*fx->plan.svcs));
	assert_non_null(fx->plan.svcs);
	plan_make_globals(fx->cfg, &fx->plan);
}

static void done(struct fixture *fx)
{
	plan_free(&fx->plan);
	config_free(fx->cfg);
}

static void facts_self(struct user_facts *f, uid_t euid)
{
	memset(f, 0, sizeof(*f));
	f->euid = euid;
	f->egid = euid;
	f->self.as.uid = euid;
	f->self.as.gid = euid;
	snprintf(f->self.home, sizeof(f->self.home), "/home/self");
}

static void facts_found(struct user_facts *f, uid_t euid, uid_t uid, gid_t gid)
{
	facts_self(f, euid);
	snprintf(f->found.name, sizeof(f->found.name), "app");
	f->found.as.uid = uid;
	f->found.as.gid = gid;
	f->found.groups[0] = gid;
	f->found.groups[1] = 27;
	f->found.as.groups = f->found.groups;
	f->found.as.ngroups = 2;
	snprintf(f->found.home, sizeof(f->found.home), "/home/app");
}

static void facts_missing(struct user_facts *f, uid_t euid)
{
	facts_self(f, euid);
	f->lookup = -1;
	(void)err_set(&f->lookup_err, 0, "user app does not exist (not in /etc/passwd)");
}

/* --- globals and policy ------------------------------------------------------ */

static void test_globals_and_default_policy(void **state)
{
	struct fixture fx;

	(void)state;
	make(&fx, "[service:web]\ncommand = /bin/true\n"
		  "[service:tts]\nstage = 3\nscript = w.py\nseccomp = worker\n");
	assert_int_equal(fx.plan.nsvcs, 2);
	assert_int_equal(fx.plan.log_format, LOG_FMT_TEXT);
	assert_int_equal(fx.plan.stop_timeout_ns, INT64_C(8000000000));
	assert_int_equal(fx.plan.probe_interval_ns, INT64_C(100000000));
	assert_int_equal(fx.plan.max_stage, 3);
	assert_true(fx.plan.python_needed);

	const struct svc_plan *sp = &fx.plan.svcs[0];
	assert_ptr_equal(sp->policy.name, fx.cfg->services[0].name);
	assert_false(sp->python);
	assert_null(sp->seccomp_name);
	assert_string_equal(sp->policy.name, "web");
	assert_int_equal(sp->policy.stage, 1);
	assert_true(sp->policy.required);
	assert_int_equal(sp->policy.retries, 3);
	assert_int_equal(sp->policy.retry_delay_ns, INT64_C(15000000000));
	assert_int_equal(sp->policy.restart, RESTART_ON_FAILURE);
	assert_int_equal(sp->policy.restart_delay_ns, INT64_C(1000000000));
	assert_int_equal(sp->policy.restart_max_delay_ns, INT64_C(60000000000));
	assert_int_equal(sp->policy.restart_burst, 5);
	assert_int_equal(sp->policy.restart_window_ns, INT64_C(60000000000));
	assert_int_equal(sp->policy.stop_signal, SIGTERM);
	assert_int_equal(sp->policy.stop_timeout_ns, INT64_C(8000000000));
	assert_int_equal(sp->policy.ready.spec->kind, PROBE_STARTED);
	assert_int_equal(sp->policy.ready_timeout_ns, INT64_C(30000000000));
	assert_int_equal(sp->policy.health.spec->kind, PROBE_NONE);
	assert_int_equal(sp->policy.health_interval_ns, INT64_C(10000000000));
	assert_int_equal(sp->policy.health_failures, 3);
	assert_true(sp->policy.redact);
	assert_null(sp->policy.log_prefix);

	sp = &fx.plan.svcs[1];
	assert_true(sp->python);
	assert_string_equal(sp->seccomp_name, "worker");
	assert_int_equal(sp->policy.stage, 3);
	done(&fx);
}

static void test_policy_durations(void **state)
{
	struct fixture fx;
	struct svc_policy po;

	(void)state;
	make(&fx, "[hfinit]\nstop_timeout = 2m\n[service:a]\ncommand = /bin/true\n"
		  "ready_timeout = 1500ms\nrestart_window = 2h\nretry_delay = 0s\n");
	plan_make_policy(&fx.cfg->services[0], &po);
	assert_int_equal(po.ready_timeout_ns, INT64_C(1500000000));
	assert_int_equal(po.restart_window_ns, INT64_C(7200000000000));
	assert_int_equal(po.retry_delay_ns, 0);
	assert_int_equal(po.stop_timeout_ns, INT64_C(120000000000)); /* [hfinit]'s */
	assert_int_equal(fx.plan.stop_timeout_ns, INT64_C(120000000000));
	assert_int_equal(ms_ns(1), INT64_C(1000000));
	assert_ptr_equal(po.watch_ignore, watch_default_ignore);
	assert_int_equal(po.watch_debounce_ns, INT64_C(500000000));
	assert_null(po.watch);
	done(&fx);
}

/* watch = paths: absolute as given, else from workdir, itself from cwd. */
static void test_watch_paths(void **state)
{
	struct fixture fx;
	struct svc_policy po;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\nwatch = /abs src\nwatch_ignore =\n"
		  "[service:b]\ncommand = /bin/true\nworkdir = app\nwatch = . x/y.py\n"
		  "watch_debounce = 1ms\n[service:c]\ncommand = /bin/true\nworkdir = /srv\n"
		  "watch = src\n");
	for (int i = 0; i < 3; i++) {
		plan_make_policy(&fx.cfg->services[i], &po);
		assert_int_equal(plan_make_watch(&fx.cfg->services[i], "/cwd", &po), 0);
		char *j = strv_join(po.watch);
		assert_string_equal(j, i == 0	? "/abs /cwd/src"
				       : i == 1 ? "/cwd/app/. /cwd/app/x/y.py"
						: "/srv/src");
		free(j);
		if (i == 0)
			assert_null(po.watch_ignore[0]);
		if (i == 1)
			assert_int_equal(po.watch_debounce_ns, INT64_C(1000000));
		strv_free(po.watch);
	}
	done(&fx);
}

/* --- users ------------------------------------------------------------------- */

static void test_user_none_is_self(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\n");
	sp = &fx.plan.svcs[0];
	facts_self(&f, 0);
	assert_int_equal(plan_make_user(&fx.cfg->services[0], &f, sp), 0);
	assert_false(sp->has_user);
	assert_false(sp->set_ids);
	assert_int_equal(sp->run_uid, 0);
	assert_null(sp->error);
	assert_null(sp->warnings);
	assert_string_equal(sp->user.home, "/home/self");
	done(&fx);
}

static void test_user_as_root_switches(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\nuser = app\n");
	sp = &fx.plan.svcs[0];
	facts_found(&f, 0, 1000, 1001);
	assert_int_equal(plan_make_user(&fx.cfg->services[0], &f, sp), 0);
	assert_true(sp->has_user);
	assert_true(sp->user_ok);
	assert_true(sp->set_ids);
	assert_int_equal(sp->uid, 1000);
	assert_int_equal(sp->run_uid, 1000);
	assert_int_equal(sp->gid, 1001);
	assert_int_equal(sp->ngroups, 2);
	assert_int_equal(sp->groups[1], 27);
	assert_true(sp->user.as.switch_ids);
	assert_ptr_equal(sp->user.as.groups, sp->user.groups); /* its own copy */
	assert_string_equal(sp->user.home, "/home/app");
	assert_null(sp->error);
	assert_null(sp->warnings);
	done(&fx);
}

static void test_user_missing_as_root_fails(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\n\nuser = app\n");
	sp = &fx.plan.svcs[0];
	facts_missing(&f, 0);
	assert_int_equal(plan_make_user(&fx.cfg->services[0], &f, sp), 0);
	assert_true(sp->has_user);
	assert_false(sp->user_ok);
	assert_false(sp->set_ids);
	assert_string_equal(sp->error, "user app does not exist (not in /etc/passwd)");
	assert_string_equal(sp->hint, "create the user in the image (useradd -m -u 1000 app) or "
				      "fix `user =` (line 4)");
	done(&fx);
}

/* Not root: the service runs as hfinit, with a warning; the same in check
 * and at start (no verdict that fails). */
static void test_user_not_root_warns(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\nuser = app\n"
		  "[service:b]\ncommand = /bin/true\nuser = app\n"
		  "[service:c]\ncommand = /bin/true\nuser = app\n");
	facts_missing(&f, 1000);
	sp = &fx.plan.svcs[0];
	assert_int_equal(plan_make_user(&fx.cfg->services[0], &f, sp), 0);
	assert_null(sp->error);
	assert_false(sp->set_ids);
	assert_string_equal(sp->warnings[0],
			    "user = app: user app does not exist (not in /etc/passwd); hfinit "
			    "runs as uid 1000, not root, and it runs as that");

	facts_found(&f, 1000, 0, 0);
	sp = &fx.plan.svcs[1];
	assert_int_equal(plan_make_user(&fx.cfg->services[1], &f, sp), 0);
	assert_null(sp->error);
	assert_false(sp->set_ids);
	assert_int_equal(sp->run_uid, 1000); /* as hfinit, not as configured */
	assert_false(sp->user_ok);
	assert_string_equal(sp->warnings[0],
			    "user = app (uid 0 gid 0): hfinit runs as uid 1000 gid 1000, not root: "
			    "it cannot switch, the service runs as uid 1000");

	facts_found(&f, 1000, 1000, 1000); /* ourselves: fine, no switch */
	sp = &fx.plan.svcs[2];
	assert_int_equal(plan_make_user(&fx.cfg->services[2], &f, sp), 0);
	assert_true(sp->user_ok);
	assert_false(sp->set_ids);
	assert_false(sp->user.as.switch_ids);
	assert_null(sp->warnings);
	done(&fx);
}

static void test_user_group_only_stays_self(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\ngroup = video\n");
	sp = &fx.plan.svcs[0];
	facts_found(&f, 0, 4242, 44);
	assert_int_equal(plan_make_user(&fx.cfg->services[0], &f, sp), 0);
	assert_true(sp->set_ids);
	assert_int_equal(sp->uid, 0); /* hfinit's uid */
	assert_int_equal(sp->gid, 44);
	done(&fx);
}

static void test_python_users(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct resolve_user users[5], self;

	(void)state;
	make(&fx, "[service:a]\nscript = a.py\nuser = app\n"
		  "[service:b]\nscript = b.py\nuser = app\n"
		  "[service:c]\nscript = c.py\n"
		  "[service:d]\ncommand = /bin/true\nuser = other\n"
		  "[service:e]\nscript = e.py\nuser = broken\n");
	facts_found(&f, 0, 1000, 1000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(plan_make_user(&fx.cfg->services[i], &f, &fx.plan.svcs[i]), 0);
	facts_self(&f, 0);
	assert_int_equal(plan_make_user(&fx.cfg->services[2], &f, &fx.plan.svcs[2]), 0);
	facts_found(&f, 0, 2000, 2000);
	assert_int_equal(plan_make_user(&fx.cfg->services[3], &f, &fx.plan.svcs[3]), 0);
	facts_missing(&f, 0);
	assert_int_equal(plan_make_user(&fx.cfg->services[4], &f, &fx.plan.svcs[4]), 0);
	memset(&self, 0, sizeof(self));
	/* app once, then ourselves; not the command service, not the broken one */
	assert_int_equal(plan_python_users(&fx.plan, &self, users), 2);
	assert_int_equal(users[0].as.uid, 1000);
	assert_ptr_equal(users[0].as.groups, users[0].groups);
	assert_int_equal(users[1].as.uid, 0);
	assert_false(users[1].as.switch_ids);
	done(&fx);
}

/* --- program ------------------------------------------------------------------ */

static void test_program_command(void **state)
{
	struct fixture fx;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = node dist/index.js --port 7860\n");
	sp = &fx.plan.svcs[0];
	assert_int_equal(plan_make_program(&fx.cfg->services[0], "/usr/bin/python3", sp), 0);
	assert_string_equal(sp->file, "node");
	assert_string_equal(sp->argv[0], "node");
	assert_string_equal(sp->argv[3], "7860");
	assert_null(sp->argv[4]);
	assert_null(sp->script);
	done(&fx);
}

static void test_program_script(void **state)
{
	struct fixture fx;
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\nscript = w.py\nargs = --workers 2\n[service:b]\nscript = x.py\n");
	sp = &fx.plan.svcs[0];
	sp->spl.found = 1;
	snprintf(sp->spl.path, sizeof(sp->spl.path), "/app/src/w.py");
	assert_int_equal(plan_make_program(&fx.cfg->services[0], "/app/.venv/bin/python3", sp), 0);
	assert_string_equal(sp->file, "/app/.venv/bin/python3");
	assert_string_equal(sp->script, "/app/src/w.py");
	assert_string_equal(sp->argv[0], "/app/.venv/bin/python3");
	assert_string_equal(sp->argv[1], "/app/src/w.py");
	assert_string_equal(sp->argv[2], "--workers");
	assert_string_equal(sp->argv[3], "2");
	assert_null(sp->argv[4]);
	assert_null(sp->error);

	/* no Python yet: "python3"; not found: the verdict, and the path as written */
	sp = &fx.plan.svcs[1];
	sp->spl.ntried = 3;
	sp->spl.tried = calloc(3, sizeof(*sp->spl.tried));
	assert_non_null(sp->spl.tried);
	assert_int_equal(plan_make_program(&fx.cfg->services[1], NULL, sp), 0);
	assert_string_equal(sp->file, "python3");
	assert_string_equal(sp->script, "x.py");
	assert_string_equal(sp->error, "script x.py not found (3 paths tried)");
	assert_string_equal(sp->hint, "set app_dirs in [hfinit] to the directory that holds it, "
				      "or fix `script =` (line 5); `hfinit check` lists every "
				      "path tried");
	done(&fx);
}

static void test_no_python(void **state)
{
	struct fixture fx;

	(void)state;
	make(&fx, "[service:a]\nscript = a.py\n[service:b]\ncommand = /bin/true\n"
		  "[service:c]\nscript = c.py\n");
	assert_int_equal(plan_fail(&fx.plan.svcs[2], NULL, "earlier"), 0);
	assert_int_equal(plan_make_no_python(&fx.plan), 0);
	assert_string_equal(fx.plan.svcs[0].error, "no working Python to run it");
	assert_string_equal(fx.plan.svcs[0].hint,
			    "see the Python candidates above, or run `hfinit check`");
	assert_null(fx.plan.svcs[1].error);
	assert_string_equal(fx.plan.svcs[2].error, "earlier"); /* the first error wins */
	assert_null(fx.plan.svcs[2].hint);
	done(&fx);
}

/* --- environment ---------------------------------------------------------------- */

static void test_env_layers(void **state)
{
	struct fixture fx;
	struct svc_plan *sp;
	char *inherited[] = {"A=1",
			     "HFINIT_CONFIG=/etc/x.ini",
			     "NOTIFY_SOCKET=@s",
			     "no-equals-sign",
			     "PATH=/opt/bin:/bin",
			     "LISTEN_FDS=2",
			     NULL};
	char *file_env[] = {"A=2", "B=3", "C=file", NULL};

	(void)state;
	make(&fx, "[service:a]\nscript = a.py\nenv = B=4 D=5\nenv_file = /etc/app.env\n");
	sp = &fx.plan.svcs[0];
	assert_int_equal(plan_make_env_base(sp, inherited), 0);
	assert_null(env_get(sp->envp, "HFINIT_CONFIG"));
	assert_null(env_get(sp->envp, "NOTIFY_SOCKET"));
	assert_null(env_get(sp->envp, "LISTEN_FDS"));
	assert_null(env_get(sp->envp, "no-equals-sign"));
	assert_string_equal(env_get(sp->envp, "A"), "1");
	assert_int_equal(plan_make_env(&fx.cfg->services[0], file_env, NULL, sp), 0);
	assert_string_equal(env_get(sp->envp, "A"), "2"); /* env_file over inherited */
	assert_string_equal(env_get(sp->envp, "B"), "4"); /* env = over env_file */
	assert_string_equal(env_get(sp->envp, "C"), "file");
	assert_string_equal(env_get(sp->envp, "D"), "5");
	assert_string_equal(env_get(sp->envp, "PYTHONUNBUFFERED"), "1"); /* a script */
	assert_string_equal(sp->path, "/opt/bin:/bin");
	assert_ptr_equal(sp->path, env_get(sp->envp, "PATH"));
	assert_null(sp->error);
	done(&fx);
}

static void test_env_defaults_and_own_choice(void **state)
{
	struct fixture fx;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\n"
		  "[service:b]\nscript = b.py\nenv = PYTHONUNBUFFERED=0\n");
	assert_int_equal(plan_make_env(&fx.cfg->services[0], NULL, NULL, &fx.plan.svcs[0]), 0);
	assert_string_equal(fx.plan.svcs[0].path, "/usr/local/bin:/usr/bin:/bin");
	assert_null(env_get(fx.plan.svcs[0].envp, "PYTHONUNBUFFERED")); /* not a script */
	assert_int_equal(plan_make_env(&fx.cfg->services[1], NULL, NULL, &fx.plan.svcs[1]), 0);
	assert_string_equal(env_get(fx.plan.svcs[1].envp, "PYTHONUNBUFFERED"), "0");
	assert_null(fx.plan.svcs[1].path); /* no PATH given, none invented */
	done(&fx);
}

static void test_env_file_verdicts(void **state)
{
	struct fixture fx;
	struct err fe;
	char *file_env[] = {"PARTIAL=1", NULL};

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true\nenv_file = /etc/app.env\n"
		  "[service:b]\ncommand = /bin/true\n\nenv_file = /etc/b.env\n");
	(void)err_set(&fe, ENOENT, "env_file /etc/app.env: No such file or directory");
	assert_int_equal(plan_make_env(&fx.cfg->services[0], file_env, &fe, &fx.plan.svcs[0]), 0);
	assert_string_equal(fx.plan.svcs[0].error,
			    "env_file /etc/app.env: No such file or directory");
	assert_string_equal(fx.plan.svcs[0].hint,
			    "create /etc/app.env in the image or fix `env_file =` (line 3)");
	assert_null(env_get(fx.plan.svcs[0].envp, "PARTIAL")); /* nothing of a bad file */

	(void)err_set(&fe, 0, "/etc/b.env:2: not KEY=VALUE");
	assert_int_equal(plan_make_env(&fx.cfg->services[1], NULL, &fe, &fx.plan.svcs[1]), 0);
	assert_string_equal(fx.plan.svcs[1].hint, "fix /etc/b.env or `env_file =` (line 7)");
	done(&fx);
}

/* --- spawn request ---------------------------------------------------------------- */

static void test_spawn_request(void **state)
{
	struct fixture fx;
	struct user_facts f;
	struct sandbox_profile prof = {.name = "worker", .rules = 7};
	struct svc_plan *sp;

	(void)state;
	make(&fx, "[service:a]\ncommand = /bin/true x\nworkdir = /srv\numask = 077\n"
		  "oom_score_adj = 500\nrlimit_nofile = 1024:4096\nrlimit_core = unlimited\n"
		  "user = app\nseccomp = worker\n"
		  "[service:b]\ncommand = /bin/true\nready = notify\nseccomp = worker\n"
		  "[service:c]\ncommand = /bin/true\n");
	facts_found(&f, 0, 1000, 1000);
	for (size_t i = 0; i < 3; i++) {
		sp = &fx.plan.svcs[i];
		assert_int_equal(plan_make_user(&fx.cfg->services[i], &f, sp), 0);
		assert_int_equal(plan_make_program(&fx.cfg->services[i], NULL, sp), 0);
		assert_int_equal(plan_make_env(&fx.cfg->services[i], NULL, NULL, sp), 0);
		if (sp->seccomp_name)
			sp->seccomp = &prof;
		plan_make_spawn(&fx.cfg->services[i], sp, 4);
	}
	sp = &fx.plan.svcs[0];
	assert_ptr_equal(sp->spawn.file, sp->file);
	assert_ptr_equal(sp->spawn.argv, sp->argv);
	assert_ptr_equal(sp->spawn.envp, sp->envp);
	assert_ptr_equal(sp->spawn.path, sp->path);
	assert_string_equal(sp->spawn.workdir, "/srv");
	assert_int_equal(sp->spawn.umask, 077);
	assert_int_equal(sp->spawn.oom_score_adj, 500);
	assert_true(sp->spawn.set_ids);
	assert_int_equal(sp->spawn.uid, 1000);
	assert_ptr_equal(sp->spawn.groups, sp->groups);
	assert_int_equal(sp->spawn.ngroups, 2);
	assert_int_equal(sp->spawn.nrlimits, 2);
	assert_int_equal(sp->spawn.rlimits[0].resource, RLIMIT_CORE);
	assert_true(sp->spawn.rlimits[0].lim.rlim_cur == RLIM_INFINITY);
	assert_int_equal(sp->spawn.rlimits[1].resource, RLIMIT_NOFILE);
	assert_string_equal(sp->spawn.rlimits[1].name, "nofile");
	assert_int_equal(sp->spawn.rlimits[1].lim.rlim_cur, 1024);
	assert_int_equal(sp->spawn.rlimits[1].lim.rlim_max, 4096);
	assert_ptr_equal(sp->spawn.seccomp, &prof.prog);
	assert_int_equal(sp->spawn.landlock_abi, 4);
	assert_true(sp->spawn.landlock_abstract);
	assert_false(sp->spawn.dry_run);
	assert_int_equal(sp->spawn.stdout_fd, -1); /* stdio: the supervisor's */

	sp = &fx.plan.svcs[1];
	assert_ptr_equal(sp->spawn.seccomp, &prof.prog);
	assert_false(sp->spawn.landlock_abstract); /* notify is an abstract socket */

	sp = &fx.plan.svcs[2];
	assert_null(sp->spawn.seccomp);
	assert_int_equal(sp->spawn.landlock_abi, 0);
	assert_int_equal(sp->spawn.umask, -1);
	assert_int_equal(sp->spawn.nrlimits, 0);
	done(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_globals_and_default_policy),
	    cmocka_unit_test(test_policy_durations),
	    cmocka_unit_test(test_watch_paths),
	    cmocka_unit_test(test_user_none_is_self),
	    cmocka_unit_test(test_user_as_root_switches),
	    cmocka_unit_test(test_user_missing_as_root_fails),
	    cmocka_unit_test(test_user_not_root_warns),
	    cmocka_unit_test(test_user_group_only_stays_self),
	    cmocka_unit_test(test_python_users),
	    cmocka_unit_test(test_program_command),
	    cmocka_unit_test(test_program_script),
	    cmocka_unit_test(test_no_python),
	    cmocka_unit_test(test_env_layers),
	    cmocka_unit_test(test_env_defaults_and_own_choice),
	    cmocka_unit_test(test_env_file_verdicts),
	    cmocka_unit_test(test_spawn_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
