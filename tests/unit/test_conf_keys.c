/* Unit tests: conf/conf_keys.c, the key tables, the rlimit table, the enum
 * names and the defaults of each section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "conf/conf_ctx.h"

static void test_tables(void **state)
{
	static const enum sec_kind kinds[] = {SEC_HFINIT, SEC_SERVICE, SEC_SECCOMP};
	size_t n;
	const struct keydef *k;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		k = conf_keys_of(kinds[i], &n);
		assert_non_null(k);
		assert_true(n > 0 && n <= MAXKEYS);
		for (size_t j = 0; j < n; j++) {
			/* every name is found, once, at its own index */
			assert_int_equal(conf_key_index(k, n, k[j].name), (ssize_t)j);
			assert_true((unsigned)k[j].type < V_COUNT);
			if (k[j].type == V_DURATION || k[j].type == V_UINT)
				assert_true(k[j].min <= k[j].max);
		}
		assert_int_equal(conf_key_index(k, n, "no_such_key"), -1);
	}
	assert_null(conf_keys_of(SEC_BAD, &n));
	assert_int_equal(n, 0);
	k = conf_keys_of(SEC_SERVICE, &n);
	assert_int_equal(k[conf_key_index(k, n, "ready_timeout")].type, V_DURATION);
	assert_true(k[conf_key_index(k, n, "env")].repeat);
	assert_false(k[conf_key_index(k, n, "command")].repeat);
	assert_int_equal(k[conf_key_index(k, n, "rlimit_nofile")].min, CRL_NOFILE);
	k = conf_keys_of(SEC_SECCOMP, &n);
	assert_true(k[conf_key_index(k, n, "deny")].repeat);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(restart_policy_name(RESTART_NO), "no");
	assert_string_equal(restart_policy_name(RESTART_ON_FAILURE), "on-failure");
	assert_string_equal(restart_policy_name(RESTART_ALWAYS), "always");
	assert_string_equal(restart_policy_name((enum restart_policy)7), "?");
	assert_string_equal(config_rlimit_name(CRL_NOFILE), "nofile");
	assert_string_equal(config_rlimit_name(CRL_SIGPENDING), "sigpending");
	assert_null(config_rlimit_name(CRL_COUNT));
	for (int r = 0; r < CRL_COUNT; r++) {
		size_t n;
		const struct keydef *k = conf_keys_of(SEC_SERVICE, &n);
		char key[64];

		/* each limit has its rlimit_NAME key */
		snprintf(key, sizeof(key), "rlimit_%s", config_rlimit_name((enum config_rlimit)r));
		assert_true(conf_key_index(k, n, key) >= 0);
	}
	assert_int_equal(conf_rlimits[CRL_AS].resource, RLIMIT_AS);
	assert_true(conf_rlimits[CRL_AS].is_size);
	assert_int_equal(conf_rlimits[CRL_CPU].resource, RLIMIT_CPU);
	assert_false(conf_rlimits[CRL_CPU].is_size);
}

static void test_defaults(void **state)
{
	struct service_conf s;
	struct seccomp_conf p;
	struct config cfg = {0};

	(void)state;
	conf_service_defaults(&s);
	assert_int_equal(s.stage, 1);
	assert_int_equal(s.ready.kind, PROBE_STARTED);
	assert_int_equal(s.ready_timeout_ms, 30000);
	assert_int_equal(s.retries, 3);
	assert_true(s.required);
	assert_true(s.redact);
	assert_int_equal(s.restart, RESTART_ON_FAILURE);
	assert_int_equal(s.health.kind, PROBE_NONE);
	assert_int_equal(s.stop_signal, SIGTERM);
	assert_true(s.stop_timeout_ms == UINT64_MAX); /* inherited at the end */
	assert_int_equal(s.rlimits[CRL_NOFILE].resource, RLIMIT_NOFILE);
	assert_false(s.rlimits[CRL_NOFILE].set);
	conf_profile_defaults(&p);
	assert_int_equal(p.def.action, SECCOMP_ACT_ALLOW);
	assert_int_equal(p.deny_action.action, SECCOMP_ACT_ERRNO);
	assert_int_equal(p.deny_action.errnum, 1);
	conf_defaults(&cfg);
	assert_int_equal(cfg.python_timeout_ms, 10000);
	assert_int_equal(cfg.stop_timeout_ms, 8000);
	assert_int_equal(cfg.log_format, LOG_FMT_TEXT);
	assert_int_equal(cfg.probe_interval_ms, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
