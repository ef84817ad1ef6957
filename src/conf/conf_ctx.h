/* Inside the config parser: what its files share (conf_scan.c the line
 * scanner, conf_keys.c the key tables, conf_set.c the setters, conf_rules.c
 * the checks across keys and sections, config.c the driver). Not for use
 * outside conf/. */
#ifndef HFINIT_CONF_CTX_H
#define HFINIT_CONF_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"
#include "conf/config.h"

enum sec_kind { SEC_HFINIT, SEC_SERVICE, SEC_SECCOMP, SEC_BAD };

enum vtype {
	V_DURATION,  /* uint64_t ms in [min, max] */
	V_UINT,	     /* unsigned in [min, max] */
	V_BOOL,	     /* bool */
	V_STRING,    /* char *, non-empty, <= CONFIG_MAX_VALUE */
	V_SCRIPT,    /* char *, a path, not "app.py --with args" */
	V_PREFIX,    /* char *, may be empty, surrounding "" removed */
	V_IDENT,     /* char *, a user or group name or number */
	V_AUTO_PATH, /* char *: "auto" -> NULL, else an absolute path */
	V_ARGV,	     /* char **, split shell-like, shell operators refused */
	V_ENV,	     /* char **, K=V words, appended */
	V_DIRS,	     /* char **, split shell-like */
	V_PATHS,     /* char **, files or directories, split shell-like */
	V_GLOBS,     /* char **, name globs, split shell-like; empty: none */
	V_MODULES,   /* char **, Python module names, appended */
	V_SIGNAL,    /* int */
	V_UMASK,     /* mode_t + has_umask */
	V_OOM,	     /* int -1000..1000 + has_oom_score_adj */
	V_PROBE,     /* struct probe */
	V_HEALTH,    /* struct probe, polled kinds only */
	V_RESTART,   /* enum restart_policy */
	V_LOGFMT,    /* enum log_format */
	V_PROFILE,   /* char *, a profile name (checked after parsing) */
	V_SYSCALLS,  /* char **, syscall names, appended */
	V_ACTION,    /* struct seccomp_action_conf (+ has_default) */
	V_DENY_ACT,  /* struct seccomp_action_conf, not allow */
	V_RLIMIT,    /* struct rlimit_conf rlimits[min] */
	V_TYPE,	     /* enum service_type */
	V_CODES,     /* unsigned char[32], a bit per exit code 0..255 */
	V_COND,	     /* struct condition, appended to conds (conf_cond_add) */
	V_COUNT
};

#define NOLINE ((size_t)-1)

struct keydef {
	const char *name;
	enum vtype type;
	size_t off;	    /* the field in the section's struct */
	long long min, max; /* V_UINT / V_DURATION range; V_RLIMIT: the enum config_rlimit */
	size_t line_off;    /* an int *_line field, or NOLINE */
	bool repeat;	    /* may appear more than once (the values add up) */
};

#define MAXKEYS 64
#define MAXSECS 1000 /* section headers kept; a file with more is refused */

struct rlimit_def {
	const char *name;
	int resource;
	bool is_size;
};
extern const struct rlimit_def conf_rlimits[CRL_COUNT];

struct section {
	int line;
	enum sec_kind kind;
	char *label; /* as written between the brackets, trimmed */
	size_t idx;  /* into services / profiles */
	int seen[MAXKEYS];
	int *env_lines; /* the line of each env = word, for the duplicate check */
	size_t nenv, capenv;
};

struct ctx {
	struct config *cfg;
	struct section *secs;
	size_t nsecs;
	bool *bad; /* per line: reported by the pre-scan, inih must not see it */
	size_t nlines;
	int hfinit_line;	 /* first [hfinit] header */
	int over_line;		 /* first section header past MAXSECS, 0: none */
	struct section *cur_sec; /* where the key being set is, and its line */
	int cur_line;
	const char *cur_key; /* its name */
	size_t ndiag_all;
	bool oom;
};

/* config.c */
char *conf_strdup(struct ctx *c, const char *s);
void conf_diag(struct ctx *c, int line, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void conf_diag_free(struct config_diag *d);

/* conf_keys.c */
void conf_service_defaults(struct service_conf *s);
void conf_profile_defaults(struct seccomp_conf *p);
void conf_defaults(struct config *cfg);
const struct keydef *conf_keys_of(enum sec_kind kind, size_t *n);
ssize_t conf_key_index(const struct keydef *keys, size_t n, const char *name);

/* conf_scan.c (conf_name_ok: config.h) */
void conf_scan(struct ctx *c, char *buf, size_t len);

/* conf_set.c */
int conf_set_value(struct ctx *c, const struct keydef *k, void *base, const char *v, struct err *e);

/* cond_spec.c: parse one condition = value and append it to sc->conds (the
 * key may repeat); condition_free frees one's fields. */
#define COND_KINDS "path:/PATH, env:NAME or exec:CMD (! in front negates)"
int conf_cond_add(struct ctx *c, struct service_conf *sc, const char *v, struct err *e);
void condition_free(struct condition *c);

/* conf_rules.c */
void conf_rules_check(struct ctx *c);

#endif
