#include "plan/env.h"

#include "base/words.h"
#include "base/log.h"
#include "plan/safedir.h"

#include "base/redact.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int env_is_secret(const char *name)
{
	return redact_secret_name(name, strlen(name));
}

const char *env_shown(const char *name, const char *value)
{
	if (value && env_is_secret(name))
		return ENV_REDACTED;
	return value;
}

void env_redact_assignment(const char *assignment, char *buf, size_t bufsz)
{
	const char *eq = strchr(assignment, '=');
	char name[256];
	size_t k;

	if (bufsz == 0)
		return;
	if (!eq) {
		fmt_trunc(buf, bufsz, "%s", assignment);
		return;
	}
	k = (size_t)(eq - assignment);
	if (k >= sizeof(name))
		k = sizeof(name) - 1;
	memcpy(name, assignment, k);
	name[k] = '\0';
	if (env_is_secret(name))
		fmt_trunc(buf, bufsz, "%s=%s", name, ENV_REDACTED);
	else if (redact_to(assignment, strlen(assignment), buf, bufsz) == (size_t)-1)
		fmt_trunc(buf, bufsz, "%s", assignment); /* nothing shaped like a secret */
}

/* 1 if path is a directory the user can write into and enter. */
static int dir_usable(const char *path, const struct runas *as, struct err *e)
{
	struct stat st;
	int r = 0;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	r = access_as(as, path, W_OK | X_OK, e);
	if (r < 0)
		return -1;
	return r == 0;
}

int dir_writable_or_creatable(const char *dir, const struct runas *as, struct err *e)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return 0;
	for (;;) {
		char *slash;

		if (stat(p, &st) == 0)
			return S_ISDIR(st.st_mode) ? dir_usable(p, as, e) : 0;
		if (errno != ENOENT)
			return 0;
		slash = strrchr(p, '/');
		if (!slash)
			return 0; /* relative and nothing exists: cannot tell */
		if (slash == p) {
			p[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

/* A fallback HOME that exists may be used as it is only when nobody else
 * could have prepared it: a real directory of root or uid, not writable by
 * group or others, in a parent that others cannot write or that is sticky.
 * Anything else goes through envsane_apply (which refuses or replaces it). */
static int home_trusted(const char *path, uid_t uid)
{
	struct stat st;

	if (stat("/tmp", &st) != 0 || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
		return 0;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_uid == uid || st.st_uid == 0) && !(st.st_mode & 022);
}

int envsane_plan(struct envsane *p, const char *home, const char *hf_home, const char *pw_home,
		 const struct runas *as, struct err *e)
{
	int r = 0;

	memset(p, 0, sizeof(*p));
	if (home && home[0] == '\0')
		home = NULL;
	if (!home) {
		fmt_trunc(p->home_reason, sizeof(p->home_reason), "HOME is unset");
	} else if (strcmp(home, "/") == 0 || strcmp(home, "/nonexistent") == 0) {
		fmt_trunc(p->home_reason, sizeof(p->home_reason), "HOME=%.200s is a placeholder",
			  home);
	} else if ((r = dir_usable(home, as, e)) != 1) {
		if (r < 0)
			return -1;
		fmt_trunc(p->home_reason, sizeof(p->home_reason),
			  "HOME=%.200s is not a writable directory", home);
	} else {
		fmt_trunc(p->home, sizeof(p->home), "%s", home);
	}
	if (!p->home[0]) {
		p->home_replaced = 1;
		if (pw_home && pw_home[0] && strcmp(pw_home, "/") != 0 &&
		    (r = dir_usable(pw_home, as, e)) == 1) {
			fmt_trunc(p->home, sizeof(p->home), "%s", pw_home);
		} else {
			if (pw_home && pw_home[0] && r < 0)
				return -1;
			/* Shared by every user that needs it: per uid when not ours. */
			if (as && as->switch_ids && as->uid != 0)
				fmt_trunc(p->home, sizeof(p->home), "/tmp/home-%u",
					  (unsigned)as->uid);
			else
				fmt_trunc(p->home, sizeof(p->home), "/tmp/home");
			r = dir_usable(p->home, as, e);
			if (r < 0)
				return -1;
			p->home_create =
			    r == 0 ||
			    !home_trusted(p->home, as && as->switch_ids ? as->uid : geteuid());
		}
	}
	if (hf_home && hf_home[0]) {
		fmt_trunc(p->hf_home, sizeof(p->hf_home), "%s", hf_home);
		r = dir_writable_or_creatable(hf_home, as, e);
		if (r < 0)
			return -1;
		if (r == 0)
			fmt_trunc(p->hf_home_warning, sizeof(p->hf_home_warning),
				  "HF_HOME=%s is not writable: model downloads will fail", hf_home);
	} else {
		p->hf_home_default = 1;
		fmt_trunc(p->hf_home, sizeof(p->hf_home), "%s/.cache/huggingface",
			  strcmp(p->home, "/") == 0 ? "" : p->home);
	}
	return 0;
}

/* A fresh name next to the refused one (base: its last component, inside
 * p->home); HF_HOME follows when it was derived from HOME. */
static int home_fresh(struct envsane *p, int pfd, const char *base, uid_t uid, gid_t gid, char *why,
		      size_t whysz)
{
	char name[NAME_MAX + 1];
	size_t off = (size_t)(base - p->home);
	int fd = safedir_mktemp(pfd, base, name, sizeof(name), 0700, uid, gid, why, whysz);

	if (fd < 0)
		return -1;
	fmt_trunc(p->home + off, sizeof(p->home) - off, "%s", name);
	if (p->hf_home_default)
		fmt_trunc(p->hf_home, sizeof(p->hf_home), "%s/.cache/huggingface", p->home);
	return fd;
}

/* 1 when name does not exist in dirfd (errno is kept). */
static int nothing_there(int dirfd, const char *name)
{
	int saved = errno;
	struct stat st;
	int none = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;

	errno = saved;
	return none;
}

int envsane_apply(struct envsane *p, uid_t uid, gid_t gid, struct err *e)
{
	char why[PATH_MAX + 64], why2[PATH_MAX + 64], old[PATH_MAX];
	const char *base;
	int pfd, fd;

	if (!p->home_create)
		return 0;
	/* The fallback homes live in /tmp; a FROM scratch image may have none.
	 * Create it as a normal /tmp would be (sticky, world-writable). */
	if (strncmp(p->home, "/tmp/", 5) == 0 && mkdir("/tmp", 01777) == 0 &&
	    chmod("/tmp", 01777) != 0)
		return err_sys(e, "chmod /tmp");
	/* Through fds only: a symlink swapped in is never followed, and a dir
	 * that another uid prepared (files planted in it) is never adopted. */
	pfd = safedir_parent(p->home, &base, why, sizeof(why));
	if (pfd < 0)
		return err_set(e, EPERM, "HOME %s: %s", p->home, why);
	fmt_trunc(old, sizeof(old), "%s", p->home);
	fd = safedir_openat(pfd, base, 0700, uid, gid, why, sizeof(why));
	if (fd < 0 && nothing_there(pfd, base)) { /* e.g. a read-only /tmp: no other name helps */
		int saved = errno;
		(void)close(pfd); /* O_RDONLY directory */
		return err_set(e, saved, "cannot create %s: %s", old, strerror(saved));
	}
	if (fd < 0) {
		fd = home_fresh(p, pfd, base, uid, gid, why2, sizeof(why2));
		if (fd >= 0)
			log_warn("HOME %s not used (%s); HOME=%s instead", old, why, p->home);
	}
	(void)close(pfd); /* O_RDONLY directory */
	if (fd < 0)
		return err_set(e, EPERM, "HOME %s: %s; a fresh one: %s", old, why, why2);
	(void)close(fd); /* O_RDONLY directory */
	return 0;
}

/* --- NAME=VALUE vectors and env_file parsing ------------------------------------ */

/* Variables of hfinit's own that services must not inherit as they are. */
static const char *const own_vars[] = {"HFINIT_CONFIG", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
				       "LISTEN_FDNAMES"};

const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int env_put(char ***envp, char *kv)
{
	size_t n = strcspn(kv, "=");
	size_t len = 0;
	char **v = *envp;

	for (; v && v[len]; len++)
		if (strncmp(v[len], kv, n) == 0 && v[len][n] == '=') {
			free(v[len]);
			v[len] = kv;
			return 0;
		}
	v = realloc(v, (len + 2) * sizeof(*v));
	if (!v) {
		free(kv);
		return -1;
	}
	v[len] = kv;
	v[len + 1] = NULL;
	*envp = v;
	return 0;
}

int env_set(char ***envp, const char *name, const char *value)
{
	size_t n = strlen(name), m = strlen(value);
	char *kv = malloc(n + m + 2);

	if (!kv)
		return -1;
	memcpy(kv, name, n);
	kv[n] = '=';
	memcpy(kv + n + 1, value, m + 1);
	return env_put(envp, kv);
}

int env_set_kv(char ***envp, const char *kv)
{
	char *dup = strdup(kv);
	return dup ? env_put(envp, dup) : -1;
}

bool env_is_own(const char *kv)
{
	for (size_t i = 0; i < sizeof(own_vars) / sizeof(own_vars[0]); i++) {
		size_t n = strlen(own_vars[i]);
		if (strncmp(kv, own_vars[i], n) == 0 && kv[n] == '=')
			return true;
	}
	return false;
}

/* K=V lines; blank lines and # comments skipped; "export " prefix allowed;
 * values may be quoted with ' or " (the quotes are removed). */
int env_file_load(const char *file, char ***envp, struct err *e)
{
	FILE *f = fopen(file, "re");
	char line[8192];
	int lineno = 0;

	if (!f)
		return err_sys(e, "env_file %s", file);
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *eq;
		size_t n;
		lineno++;
		n = strlen(s);
		if (n && s[n - 1] == '\n')
			s[--n] = '\0';
		else if (!feof(f)) {
			fclose(f);
			return err_set(e, EINVAL, "%s:%d: line too long (over %zu bytes)", file,
				       lineno, sizeof(line) - 2);
		}
		if (n && s[n - 1] == '\r')
			s[--n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s += 7;
		eq = strchr(s, '=');
		if (!eq || !env_name_ok(s, (size_t)(eq - s))) {
			fclose(f);
			return err_set(e, EINVAL, "%s:%d: expected NAME=VALUE", file, lineno);
		}
		char *val = eq + 1;
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			memmove(val, val + 1, vl - 1);
		}
		*eq = '\0';
		if (env_set(envp, s, val) < 0) {
			fclose(f);
			return err_set(e, ENOMEM, "env_file %s: out of memory", file);
		}
	}
	fclose(f);
	return 0;
}
