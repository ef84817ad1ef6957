/* Unit tests: the plan carries what the supervisor reads: the policy with
 * durations in nanoseconds, the compiled seccomp program, the prebuilt spawn
 * request (kept in step with the environment), tcp/http addresses resolved at
 * start, and the [hfinit] values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "plan/plan.h"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/h4-plan-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0);
	setenv("HOME", tmp, 1);
	setenv("PATH", "/usr/bin:/bin", 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct config *parse(const char *text)
{
	struct err e;
	struct config *cfg = config_parse("t.ini", text, strlen(text), &e);

	assert_non_null(cfg);
	if (!config_ok(cfg))
		fail_msg("%s", cfg->diags[0].text);
	return cfg;
}

static const char *const CONF = "[hfinit]\n"
				"stop_timeout = 3s\n"
				"probe_interval = 250ms\n"
				"log_format = json\n"
				"[service:web]\n"
				"command = /bin/true a b\n"
				"ready = tcp:127.0.0.1:7860\n"
				"ready_timeout = 45s\n"
				"retries = 4\n"
				"retry_delay = 2s\n"
				"restart = always\n"
				"restart_delay = 1500ms\n"
				"restart_max_delay = 2m\n"
				"restart_burst = 7\n"
				"restart_window = 90s\n"
				"stop_signal = SIGINT\n"
				"stop_timeout = 5s\n"
				"health = http://localhost:7860/healthz\n"
				"health_interval = 20s\n"
				"health_failures = 2\n"
				"redact = false\n"
				"log_prefix = \"web| \"\n"
				"seccomp = worker\n"
				"umask = 027\n"
				"[service:worker]\n"
				"stage = 2\n"
				"required = false\n"
				"command = /bin/sleep 1\n"
				"ready = notify\n"
				"seccomp = worker\n";

static void test_policy_in_ns(void **state)
{
	struct config *cfg = parse(CONF);
	struct plan plan;
	struct err e;

	(void)state;
	assert_int_equal(plan_build(cfg, &plan, PLAN_CHECK, &e), 0);
	assert_int_equal(plan.nsvcs, 2);
	assert_int_equal(plan.log_format, LOG_FMT_JSON);
	assert_int_equal(plan.stop_timeout_ns, INT64_C(3000000000));
	assert_int_equal(plan.probe_interval_ns, INT64_C(250000000));
	assert_int_equal(plan.max_stage, 2);

	const struct svc_policy *p = &plan.svcs[0].policy;
	assert_string_equal(p->name, "web");
	assert_int_equal(p->stage, 1);
	assert_true(p->required);
	assert_int_equal(p->retries, 4);
	assert_int_equal(p->retry_delay_ns, INT64_C(2000000000));
	assert_int_equal(p->restart, RESTART_ALWAYS);
	assert_int_equal(p->restart_delay_ns, INT64_C(1500000000));
	assert_int_equal(p->restart_max_delay_ns, INT64_C(120000000000));
	assert_int_equal(p->restart_burst, 7);
	assert_int_equal(p->restart_window_ns, INT64_C(90000000000));
	assert_int_equal(p->stop_signal, SIGINT);
	assert_int_equal(p->stop_timeout_ns, INT64_C(5000000000));
	assert_int_equal(p->ready.spec->kind, PROBE_TCP);
	assert_int_equal(p->ready_timeout_ns, INT64_C(45000000000));
	assert_int_equal(p->health.spec->kind, PROBE_HTTP);
	assert_int_equal(p->health_interval_ns, INT64_C(20000000000));
	assert_int_equal(p->health_failures, 2);
	assert_false(p->redact);
	assert_string_equal(p->log_prefix, "web| ");
	/* check does not look hosts up */
	assert_false(p->ready.resolved);

	p = &plan.svcs[1].policy;
	assert_string_equal(p->name, "worker");
	assert_int_equal(p->stage, 2);
	assert_false(p->required);
	assert_int_equal(p->stop_timeout_ns, INT64_C(3000000000)); /* [hfinit]'s */
	assert_int_equal(p->health.spec->kind, PROBE_NONE);
	assert_null(p->log_prefix);
	plan_free(&plan);
	config_free(cfg);
}

static void test_spawn_and_seccomp(void **state)
{
	struct config *cfg = parse(CONF);
	struct plan plan;
	struct err e;

	(void)state;
	assert_int_equal(plan_build(cfg, &plan, PLAN_START, &e), 0);
	assert_int_equal(plan.sandbox_err.msg[0], '\0');
	assert_int_equal(plan.sandbox.n, 1); /* worker, compiled once for both */
	for (size_t i = 0; i < 2; i++) {
		const struct svc_plan *sp = &plan.svcs[i];
		assert_null(sp->error);
		assert_string_equal(sp->seccomp_name, "worker");
		assert_ptr_equal(sp->seccomp, &plan.sandbox.profiles[0]);
		assert_ptr_equal(sp->spawn.seccomp, &plan.sandbox.profiles[0].prog);
		assert_ptr_equal(sp->spawn.file, sp->file);
		assert_ptr_equal(sp->spawn.argv, sp->argv);
		assert_ptr_equal(sp->spawn.envp, sp->envp);
		assert_ptr_equal(sp->spawn.path, sp->path);
		assert_false(sp->spawn.dry_run);
	}
	assert_string_equal(plan.svcs[0].spawn.file, "/bin/true");
	assert_string_equal(plan.svcs[0].spawn.argv[2], "b");
	assert_int_equal(plan.svcs[0].spawn.umask, 027);
	assert_int_equal(plan.svcs[1].spawn.umask, -1);
	/* notify needs the abstract socket: no abstract-socket scope for it */
	if (plan.svcs[0].spawn.landlock_abi > 0)
		assert_true(plan.svcs[0].spawn.landlock_abstract);
	assert_false(plan.svcs[1].spawn.landlock_abstract);

	/* addresses resolved once, at start */
	const struct plan_probe *r = &plan.svcs[0].policy.ready;
	assert_true(r->resolved);
	assert_int_equal(r->sa.ss_family, AF_INET);
	assert_int_equal(ntohs(((const struct sockaddr_in *)&r->sa)->sin_port), 7860);
	assert_true(plan.svcs[0].policy.health.resolved);
	assert_false(plan.svcs[1].policy.ready.resolved); /* notify: nothing to resolve */

	/* the spawn requests follow the environment */
	assert_int_equal(plan_setenv(&plan, "HFINIT_STATUS_DIR", "/run/x"), 0);
	for (size_t i = 0; i < 2; i++) {
		const struct svc_plan *sp = &plan.svcs[i];
		assert_ptr_equal(sp->spawn.envp, sp->envp);
		assert_ptr_equal(sp->spawn.path, sp->path);
		assert_string_equal(env_get(sp->spawn.envp, "HFINIT_STATUS_DIR"), "/run/x");
		assert_string_equal(sp->spawn.path, "/usr/bin:/bin");
	}
	plan_free(&plan);
	config_free(cfg);
}

static void test_no_seccomp_no_program(void **state)
{
	struct config *cfg =
	    parse("[service:a]\ncommand = /bin/true\nready = tcp:no.such.host.invalid:1\n");
	struct plan plan;
	struct err e;

	(void)state;
	assert_int_equal(plan_build(cfg, &plan, PLAN_START, &e), 0);
	assert_null(plan.svcs[0].seccomp_name);
	assert_null(plan.svcs[0].seccomp);
	assert_null(plan.svcs[0].spawn.seccomp);
	assert_int_equal(plan.svcs[0].spawn.landlock_abi, 0);
	assert_int_equal(plan.sandbox.n, 0);
	/* an address that cannot be resolved: the reason, for the supervisor */
	assert_false(plan.svcs[0].policy.ready.resolved);
	assert_non_null(strstr(plan.svcs[0].policy.ready.err.msg, "service a"));
	plan_free(&plan);
	config_free(cfg);
}

static void test_exec_lookup(void **state)
{
	struct config *cfg = parse("[service:a]\ncommand = true\n"
				   "[service:b]\ncommand = no-such-program-h4\n"
				   "[service:c]\ncommand = ./x\nworkdir = /nonexistent-h4\n");
	struct plan plan;
	struct err e;

	(void)state;
	assert_int_equal(plan_build(cfg, &plan, PLAN_CHECK, &e), 0);
	assert_int_equal(plan.svcs[0].exec_errno, 0);
	assert_non_null(strstr(plan.svcs[0].exec_path, "/true"));
	assert_int_equal(plan.svcs[1].exec_errno, ENOENT);
	assert_int_equal(plan.svcs[2].exec_errno, ENOENT); /* looked up from its workdir */
	plan_free(&plan);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_policy_in_ns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spawn_and_seccomp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_seccomp_no_program, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_lookup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
