/* The key tables of the three section kinds, the rlimit table, the names of
 * the enums, and the defaults of each section. */
#include "conf/conf_ctx.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>

#define MS(x)  ((long long)(x))
#define SEC(x) (MS(x) * 1000)
#define MAXD   (SEC(3600) * 1000)
#define G(f)   offsetof(struct config, f)
#define S(f)   offsetof(struct service_conf, f)
#define P(f)   offsetof(struct seccomp_conf, f)

static const struct keydef hfinit_keys[] = {
    {"status_dir", V_AUTO_PATH, G(status_dir), 0, 0, NOLINE, false},
    {"app_dirs", V_DIRS, G(app_dirs), 0, 0, NOLINE, false},
    {"python", V_AUTO_PATH, G(python), 0, 0, G(python_line), false},
    {"python_timeout", V_DURATION, G(python_timeout_ms), MS(100), SEC(600), NOLINE, false},
    {"stop_timeout", V_DURATION, G(stop_timeout_ms), 0, SEC(3600), NOLINE, false},
    {"log_format", V_LOGFMT, G(log_format), 0, 0, NOLINE, false},
    {"log_timestamps", V_BOOL, G(log_timestamps), 0, 0, NOLINE, false},
    {"probe_interval", V_DURATION, G(probe_interval_ms), MS(10), SEC(3600), NOLINE, false},
};

static const struct keydef service_keys[] = {
    {"stage", V_UINT, S(stage), 1, 1000000, NOLINE, false},
    {"command", V_ARGV, S(command), 0, 0, S(command_line), false},
    {"script", V_SCRIPT, S(script), 0, 0, S(script_line), false},
    {"args", V_ARGV, S(args), 0, 0, NOLINE, false},
    {"ready", V_PROBE, S(ready), 0, 0, NOLINE, false},
    {"ready_timeout", V_DURATION, S(ready_timeout_ms), MS(10), MAXD, NOLINE, false},
    {"retries", V_UINT, S(retries), 1, 1000, NOLINE, false},
    {"retry_delay", V_DURATION, S(retry_delay_ms), 0, MAXD, NOLINE, false},
    {"required", V_BOOL, S(required), 0, 0, NOLINE, false},
    {"type", V_TYPE, S(type), 0, 0, NOLINE, false},
    {"success_exit_codes", V_CODES, S(success_codes), 0, 0, NOLINE, false},
    {"watchdog", V_DURATION, S(watchdog_ms), MS(10), MAXD, NOLINE, false},
    {"restart", V_RESTART, S(restart), 0, 0, NOLINE, false},
    {"restart_delay", V_DURATION, S(restart_delay_ms), MS(10), MAXD, NOLINE, false},
    {"restart_max_delay", V_DURATION, S(restart_max_delay_ms), MS(10), MAXD, NOLINE, false},
    {"restart_burst", V_UINT, S(restart_burst), 1, 1000000, NOLINE, false},
    {"restart_window", V_DURATION, S(restart_window_ms), MS(100), MAXD, NOLINE, false},
    {"health", V_HEALTH, S(health), 0, 0, NOLINE, false},
    {"health_interval", V_DURATION, S(health_interval_ms), MS(10), MAXD, NOLINE, false},
    {"health_failures", V_UINT, S(health_failures), 1, 1000, NOLINE, false},
    {"user", V_IDENT, S(user), 0, 0, S(user_line), false},
    {"group", V_IDENT, S(group), 0, 0, S(group_line), false},
    {"workdir", V_STRING, S(workdir), 0, 0, NOLINE, false},
    {"env", V_ENV, S(env), 0, 0, NOLINE, true},
    {"env_file", V_STRING, S(env_file), 0, 0, S(env_file_line), false},
    {"stop_signal", V_SIGNAL, S(stop_signal), 0, 0, NOLINE, false},
    {"stop_timeout", V_DURATION, S(stop_timeout_ms), 0, SEC(3600), NOLINE, false},
    {"oom_score_adj", V_OOM, S(oom_score_adj), 0, 0, NOLINE, false},
    {"umask", V_UMASK, S(umask), 0, 0, NOLINE, false},
    {"log_prefix", V_PREFIX, S(log_prefix), 0, 0, NOLINE, false},
    {"redact", V_BOOL, S(redact), 0, 0, NOLINE, false},
    {"seccomp", V_PROFILE, S(seccomp), 0, 0, S(seccomp_line), false},
    {"requires", V_MODULES, S(requires), 0, 0, S(requires_line), true},
    {"watch", V_PATHS, S(watch), 0, 0, NOLINE, false},
    {"watch_ignore", V_GLOBS, S(watch_ignore), 0, 0, NOLINE, false},
    {"watch_debounce", V_DURATION, S(watch_debounce_ms), 0, SEC(600), NOLINE, false},
    {"enabled", V_BOOL, S(enabled), 0, 0, NOLINE, false},
    {"condition", V_COND, S(conds), 0, 0, NOLINE, true},
    {"condition_timeout", V_DURATION, S(condition_timeout_ms), MS(10), SEC(3600), NOLINE, false},
    {"rlimit_as", V_RLIMIT, S(rlimits), CRL_AS, 0, NOLINE, false},
    {"rlimit_core", V_RLIMIT, S(rlimits), CRL_CORE, 0, NOLINE, false},
    {"rlimit_cpu", V_RLIMIT, S(rlimits), CRL_CPU, 0, NOLINE, false},
    {"rlimit_data", V_RLIMIT, S(rlimits), CRL_DATA, 0, NOLINE, false},
    {"rlimit_fsize", V_RLIMIT, S(rlimits), CRL_FSIZE, 0, NOLINE, false},
    {"rlimit_locks", V_RLIMIT, S(rlimits), CRL_LOCKS, 0, NOLINE, false},
    {"rlimit_memlock", V_RLIMIT, S(rlimits), CRL_MEMLOCK, 0, NOLINE, false},
    {"rlimit_msgqueue", V_RLIMIT, S(rlimits), CRL_MSGQUEUE, 0, NOLINE, false},
    {"rlimit_nice", V_RLIMIT, S(rlimits), CRL_NICE, 0, NOLINE, false},
    {"rlimit_nofile", V_RLIMIT, S(rlimits), CRL_NOFILE, 0, NOLINE, false},
    {"rlimit_nproc", V_RLIMIT, S(rlimits), CRL_NPROC, 0, NOLINE, false},
    {"rlimit_rss", V_RLIMIT, S(rlimits), CRL_RSS, 0, NOLINE, false},
    {"rlimit_rtprio", V_RLIMIT, S(rlimits), CRL_RTPRIO, 0, NOLINE, false},
    {"rlimit_rttime", V_RLIMIT, S(rlimits), CRL_RTTIME, 0, NOLINE, false},
    {"rlimit_sigpending", V_RLIMIT, S(rlimits), CRL_SIGPENDING, 0, NOLINE, false},
    {"rlimit_stack", V_RLIMIT, S(rlimits), CRL_STACK, 0, NOLINE, false},
};

static const struct keydef seccomp_keys[] = {
    {"default", V_ACTION, P(def), 0, 0, NOLINE, false},
    {"deny_action", V_DENY_ACT, P(deny_action), 0, 0, NOLINE, false},
    {"deny", V_SYSCALLS, P(deny), 0, 0, NOLINE, true},
    {"allow", V_SYSCALLS, P(allow), 0, 0, NOLINE, true},
    {"extends", V_PROFILE, P(extends), 0, 0, P(extends_line), false},
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

const struct rlimit_def conf_rlimits[CRL_COUNT] = {
    [CRL_AS] = {"as", RLIMIT_AS, true},
    [CRL_CORE] = {"core", RLIMIT_CORE, true},
    [CRL_CPU] = {"cpu", RLIMIT_CPU, false},
    [CRL_DATA] = {"data", RLIMIT_DATA, true},
    [CRL_FSIZE] = {"fsize", RLIMIT_FSIZE, true},
    [CRL_LOCKS] = {"locks", RLIMIT_LOCKS, false},
    [CRL_MEMLOCK] = {"memlock", RLIMIT_MEMLOCK, true},
    [CRL_MSGQUEUE] = {"msgqueue", RLIMIT_MSGQUEUE, true},
    [CRL_NICE] = {"nice", RLIMIT_NICE, false},
    [CRL_NOFILE] = {"nofile", RLIMIT_NOFILE, false},
    [CRL_NPROC] = {"nproc", RLIMIT_NPROC, false},
    [CRL_RSS] = {"rss", RLIMIT_RSS, true},
    [CRL_RTPRIO] = {"rtprio", RLIMIT_RTPRIO, false},
    [CRL_RTTIME] = {"rttime", RLIMIT_RTTIME, false},
    [CRL_SIGPENDING] = {"sigpending", RLIMIT_SIGPENDING, false},
    [CRL_STACK] = {"stack", RLIMIT_STACK, true},
};

const char *config_rlimit_name(enum config_rlimit r)
{
	return (unsigned)r < CRL_COUNT ? conf_rlimits[r].name : NULL;
}

const char *restart_policy_name(enum restart_policy p)
{
	static const char *const names[] = {
	    [RESTART_NO] = "no", [RESTART_ON_FAILURE] = "on-failure", [RESTART_ALWAYS] = "always"};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "?";
}

/* --- defaults ---------------------------------------------------------------------- */

void conf_service_defaults(struct service_conf *s)
{
	memset(s, 0, sizeof(*s));
	s->stage = 1;
	s->ready.kind = PROBE_STARTED;
	s->ready_timeout_ms = 30000;
	s->retries = 3;
	s->retry_delay_ms = 15000;
	s->required = true;
	s->redact = true;
	s->restart = RESTART_ON_FAILURE;
	s->restart_delay_ms = 1000;
	s->restart_max_delay_ms = 60000;
	s->restart_burst = 5;
	s->restart_window_ms = 60000;
	s->health.kind = PROBE_NONE;
	s->health_interval_ms = 10000;
	s->health_failures = 3;
	s->success_codes[0] = 1; /* exit 0 */
	s->stop_signal = SIGTERM;
	s->stop_timeout_ms = UINT64_MAX; /* inherit: filled in at the end */
	s->watch_debounce_ms = 500;
	s->enabled = true;
	s->condition_timeout_ms = 10000;
	for (int r = 0; r < CRL_COUNT; r++)
		s->rlimits[r].resource = conf_rlimits[r].resource;
}

void conf_profile_defaults(struct seccomp_conf *p)
{
	memset(p, 0, sizeof(*p));
	p->def.action = SECCOMP_ACT_ALLOW;
	p->deny_action.action = SECCOMP_ACT_ERRNO;
	p->deny_action.errnum = EPERM;
}

void conf_defaults(struct config *cfg)
{
	cfg->python_timeout_ms = 10000;
	cfg->stop_timeout_ms = 8000;
	cfg->log_format = LOG_FMT_TEXT;
	cfg->probe_interval_ms = 100;
}
const struct keydef *conf_keys_of(enum sec_kind kind, size_t *n)
{
	switch (kind) {
	case SEC_HFINIT:
		*n = NKEYS(hfinit_keys);
		return hfinit_keys;
	case SEC_SERVICE:
		*n = NKEYS(service_keys);
		return service_keys;
	case SEC_SECCOMP:
		*n = NKEYS(seccomp_keys);
		return seccomp_keys;
	case SEC_BAD:
		break;
	}
	*n = 0;
	return NULL;
}

ssize_t conf_key_index(const struct keydef *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}
