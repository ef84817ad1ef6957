/* The configuration file (docs/design.md, "Config"): INI through inih into typed structs.
 *
 * config_parse() and config_load() never stop at the first problem: every error
 * of the file is collected as a diagnostic ("FILE:LINE: [section] key: what is
 * wrong; expected ..."), and a config with diagnostics must not be used to start
 * anything (exit 2). Pure code: apart from reading the file (and getenv in
 * config_locate and for ${VAR} in values) it makes no system calls, so it is
 * unit-tested directly.
 *
 * Conventions in the structs below:
 *   - durations are milliseconds (uint64_t, names end in _ms);
 *   - argv-like lists are NULL-terminated arrays of strings (char **), NULL
 *     when the key was not given;
 *   - strings are NULL when the key was not given (then the default applies,
 *     documented per field);
 *   - `*_line` fields keep the line of a key so later stages (resolve, check)
 *     can point at it: "hfinit.ini:12: [service:tts] script: ...". 0 = not set.
 * Everything is owned by the struct config and freed by config_free(). */
#ifndef HFINIT_CONFIG_H
#define HFINIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/err.h"
#include "base/log.h"
#include "base/strv.h"
#include "conf/probe_spec.h"

#define CONFIG_DEFAULT_PATH "/etc/hfinit/hfinit.ini"
#define CONFIG_ENV_VAR	    "HFINIT_CONFIG"
#define CONFIG_MAX_FILE	    (1024 * 1024) /* bytes; a larger file is refused */
#define CONFIG_MAX_LINE	    16000	  /* bytes per line, without the newline */
#define CONFIG_MAX_VALUE    4096 /* bytes for a path/name value (argv lines: CONFIG_MAX_LINE) */
#define CONFIG_MAX_DIAGS    100	 /* diagnostics kept; the rest are counted in a last one */
#define CONFIG_NAME_MAX	    64	 /* service and seccomp profile names: [A-Za-z0-9_.-] */
#define CONFIG_PREFIX_MAX   95	 /* log_prefix bytes (without the quotes) */

/* rlimit_* keys. Values are numbers, sizes (64M) or "unlimited", optionally
 * "SOFT:HARD"; one value sets both. CONFIG_RLIM_INFINITY stands for unlimited. */
#define CONFIG_RLIM_INFINITY UINT64_MAX
enum config_rlimit {
	CRL_AS,
	CRL_CORE,
	CRL_CPU, /* seconds (a duration is accepted too: 2m = 120) */
	CRL_DATA,
	CRL_FSIZE,
	CRL_LOCKS,
	CRL_MEMLOCK,
	CRL_MSGQUEUE,
	CRL_NICE,
	CRL_NOFILE,
	CRL_NPROC,
	CRL_RSS,
	CRL_RTPRIO,
	CRL_RTTIME, /* microseconds */
	CRL_SIGPENDING,
	CRL_STACK,
	CRL_COUNT
};
struct rlimit_conf {
	bool set;
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};
/* "nofile" -> RLIMIT_NOFILE etc.; name is the part after "rlimit_". */
const char *config_rlimit_name(enum config_rlimit r);

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };
const char *restart_policy_name(enum restart_policy p);

/* type =: a longrun is ready by its ready = probe; a oneshot when it exits with
 * one of its success_exit_codes (state done). */
enum service_type { TYPE_LONGRUN, TYPE_ONESHOT };

/* condition = [!]KIND:ARG (docs/config.md, "Conditions"): every one must hold
 * when the service's stage opens, else the service is disabled. */
enum cond_kind { COND_PATH, COND_ENV, COND_EXEC };
struct condition {
	enum cond_kind kind;
	bool negate;	 /* written with a leading ! */
	char *spec;	 /* as written ("!path:/dev/nvidia0"), for messages */
	const char *arg; /* into spec: the path, the variable, the command */
	char **argv;	 /* COND_EXEC: the command, split like `command` */
};

struct service_conf {
	char *name;	/* from [service:NAME] */
	int line;	/* line of the section header */
	unsigned stage; /* >= 1, default 1 */

	/* Exactly one of command / script (checked). */
	char **command; /* argv split shell-like, no shell involved */
	char *script;	/* path as written; relative ones resolve against app_dirs */
	char **args;	/* extra argv after the script (only with script); NULL = none */
	int command_line, script_line;

	struct probe ready;	   /* default PROBE_STARTED */
	uint64_t ready_timeout_ms; /* 30s */
	unsigned retries;	   /* attempts in all, >= 1, default 3 */
	uint64_t retry_delay_ms;   /* 15s */
	bool required;		   /* default true: see docs/config.md */
	enum service_type type;	   /* default longrun */
	/* success_exit_codes: bit N of byte N/8 set when exit N is clean (default: 0 only) */
	unsigned char success_codes[32];
	uint64_t watchdog_ms; /* ready = notify only: WATCHDOG=1 at least this often; 0: none */

	enum restart_policy restart;   /* default on-failure */
	uint64_t restart_delay_ms;     /* 1s: backoff start, doubles each restart */
	uint64_t restart_max_delay_ms; /* 1m: backoff cap (>= restart_delay) */
	unsigned restart_burst;	       /* 5: give up after this many restarts ... */
	uint64_t restart_window_ms;    /* 1m: ... within this window */

	struct probe health;	     /* PROBE_NONE when unset; only tcp/http/file/exec */
	uint64_t health_interval_ms; /* 10s */
	unsigned health_failures;    /* 3 in a row -> restart */

	char *user;  /* name or numeric uid, NULL = as hfinit; not looked up here */
	char *group; /* name or numeric gid, NULL = the user's primary group */
	int user_line, group_line;
	char *workdir;	/* NULL = hfinit's working directory */
	char **env;	/* "K=V" in file order (repeated env lines append), NULL = none */
	char *env_file; /* NULL = none; read at start-up, not here */
	int env_file_line;
	int stop_signal;	  /* default SIGTERM */
	uint64_t stop_timeout_ms; /* default: [hfinit] stop_timeout (filled in by the parser) */
	bool has_oom_score_adj;
	int oom_score_adj; /* -1000..1000 */
	bool has_umask;
	mode_t umask; /* 0..0777 */
	struct rlimit_conf rlimits[CRL_COUNT];
	char *log_prefix; /* NULL = "[NAME] " */
	bool redact;	  /* default true: secret values in output lines become *** */
	char *seccomp;	  /* profile name ("worker" or a [seccomp:NAME]), NULL = no sandbox */
	int seccomp_line;
	char **requires; /* Python module names for `hfinit check`, NULL = none */
	int requires_line;
	/* Dev Mode (docs/devmode.md): a change under these restarts the service */
	char **watch;		    /* files or directories as written, NULL = none */
	char **watch_ignore;	    /* globs on one name; NULL = the default, {NULL} = none */
	uint64_t watch_debounce_ms; /* 500ms of quiet first */
	/* conditions (docs/config.md, "Conditions") */
	bool enabled;		 /* default true; no: disabled unconditionally */
	struct condition *conds; /* condition = lines in file order, NULL = none */
	size_t nconds;
	uint64_t condition_timeout_ms; /* 10s: an exec: condition at most */
};

/* [seccomp:NAME] (docs/design.md, "Sandbox"). A profile that `extends` another
 * starts from the parent's rules (recursively): it inherits the parent's
 * default action unless it sets its own, its deny list adds to the parent's,
 * and its allow list removes calls from the combined deny list. */
enum seccomp_action { SECCOMP_ACT_ALLOW, SECCOMP_ACT_ERRNO, SECCOMP_ACT_KILL, SECCOMP_ACT_LOG };
struct seccomp_action_conf {
	enum seccomp_action action;
	int errnum; /* SECCOMP_ACT_ERRNO: the errno returned (EPERM unless errno:NAME) */
};
#define SECCOMP_BUILTIN_WORKER "worker"
struct seccomp_conf {
	char *name; /* from [seccomp:NAME]; never "worker" (built in) */
	int line;
	bool has_default;
	struct seccomp_action_conf def;		/* default: action for calls not listed (allow) */
	struct seccomp_action_conf deny_action; /* deny_action: for the deny list (errno:EPERM) */
	char **deny;   /* syscall names, each resolved by libseccomp on this arch; NULL = none */
	char **allow;  /* syscall names exempted (from default, deny, and extended profiles) */
	char *extends; /* NULL, "worker" or another [seccomp:NAME] (no cycles: checked) */
	int extends_line;
};

/* One problem found in the file. */
struct config_diag {
	int line;      /* 0 when not tied to a line */
	char *section; /* "service:web", or NULL */
	char *key;     /* or NULL */
	char *msg;     /* "what is wrong; expected ..." */
	char *text;    /* the full line: "FILE:LINE: [section] key: msg" */
	size_t seq;    /* internal: order of discovery (ties in line order) */
};

/* A value that came from the environment (${VAR}): `hfinit check` lists it. */
struct config_subst {
	int line;
	char *section, *key;
	char *value; /* as expanded; "***" when a variable names a secret */
	char *vars;  /* "${A}, ${B}" */
};

struct config {
	char *file;   /* path the config was read from (or the name given to config_parse) */
	char *source; /* how it was chosen ("-c", "$HFINIT_CONFIG", "default"), may be NULL */

	/* [hfinit] */
	char *status_dir; /* absolute path, NULL = auto */
	char **app_dirs;  /* NULL = default ($APP_DIR, /app, $HOME/app, cwd) */
	char *python;	  /* absolute path, NULL = auto */
	int python_line;
	uint64_t python_timeout_ms; /* 10s */
	uint64_t stop_timeout_ms;   /* 8s */
	enum log_format log_format; /* text */
	bool log_timestamps;	    /* no: text lines without a time in front */
	uint64_t probe_interval_ms; /* 100ms */

	struct service_conf *services; /* in file order */
	size_t nservices;
	struct seccomp_conf *profiles; /* in file order */
	size_t nprofiles;

	struct config_subst *substs; /* the values with ${VAR}, in file order */
	size_t nsubsts;

	struct config_diag *diags; /* every error, in line order */
	size_t ndiags;
};

/* Where the config file comes from: -c FILE, else $HFINIT_CONFIG, else the default. */
enum config_source { CONFIG_SRC_OPTION, CONFIG_SRC_ENV, CONFIG_SRC_DEFAULT };
struct config_location {
	const char *path; /* points into opt_path, the environment or a constant */
	enum config_source source;
};
/* opt_path: the -c argument or NULL. An empty $HFINIT_CONFIG counts as unset. */
void config_locate(const char *opt_path, struct config_location *loc);
/* "-c option", "$HFINIT_CONFIG", "default path" */
const char *config_source_name(enum config_source s);

/* Parse len bytes of text as the contents of `file` (a name for messages).
 * Returns a config, possibly with diagnostics (config_ok() false); NULL only
 * when out of memory (e filled). */
struct config *config_parse(const char *file, const char *text, size_t len, struct err *e);

/* Read loc->path and parse it. NULL with e filled when the file cannot be read;
 * the message names the path and how it was chosen, e.g.
 * "cannot read config /etc/hfinit/hfinit.ini (default path; set -c FILE or
 * $HFINIT_CONFIG): No such file or directory". */
struct config *config_load(const struct config_location *loc, struct err *e);

void config_free(struct config *cfg);

/* The env = duplicate check, in O(n log n): for each of the n K=V words of
 * env, first[i] gets the index of the first word setting the same K (i
 * itself when none before it does). Returns how many words repeat a K set
 * earlier, or (size_t)-1 when out of memory. */
size_t config_env_dups(char *const *env, size_t n, size_t *first);

static inline bool config_ok(const struct config *cfg)
{
	return cfg && cfg->ndiags == 0;
}

/* Look-ups; NULL when absent. */
const struct service_conf *config_service(const struct config *cfg, const char *name);
const struct seccomp_conf *config_profile(const struct config *cfg, const char *name);
/* A valid service or profile name: [A-Za-z0-9_.-], CONFIG_NAME_MAX bytes at
 * most, not starting with . or - (conf_scan.c; also the control protocol's). */
bool conf_name_ok(const char *n);
/* Highest stage number in use (0 when there are no services). */
unsigned config_max_stage(const struct config *cfg);

/* How deny = and allow = names are checked: fn returns 0 for a syscall of
 * this architecture, else -1 with e saying "unknown syscall ...; expected
 * ...", and the parser reports it at the key's line. The check needs
 * libseccomp, which the config layer does not use: it is the plan layer's
 * syscall_name_check (plan/syscalls.h), installed by main before any mode
 * runs. Without one (NULL, the default, e.g. in the fuzz target) any name is
 * taken, and sandbox_compile refuses an unknown one later. */
typedef int config_syscall_check_fn(const char *name, struct err *e);
void config_set_syscall_check(config_syscall_check_fn *fn);

/* Print each diagnostic's text, one per line, to out, followed by
 * "FILE: N error(s)" when there are any. Returns the number printed. */
size_t config_diags_print(const struct config *cfg, FILE *out);

#endif
