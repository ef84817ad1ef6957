#include "envsane.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const secret_words[] = {"TOKEN", "KEY", "SECRET", "PASSWORD"};

int env_is_secret(const char *name)
{
	size_t n = strlen(name);

	for (size_t w = 0; w < sizeof(secret_words) / sizeof(secret_words[0]); w++) {
		size_t k = strlen(secret_words[w]);

		for (size_t i = 0; i + k <= n; i++)
			if (strncasecmp(name + i, secret_words[w], k) == 0)
				return 1;
	}
	return 0;
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
	else
		fmt_trunc(buf, bufsz, "%s", assignment);
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
			p->home_create = r == 0;
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

int envsane_apply(const struct envsane *p, uid_t uid, gid_t gid, struct err *e)
{
	struct stat st;

	if (!p->home_create)
		return 0;
	/* The fallback homes live in /tmp; a FROM scratch image may have none.
	 * Create it as a normal /tmp would be (sticky, world-writable). */
	if (strncmp(p->home, "/tmp/", 5) == 0 && mkdir("/tmp", 01777) == 0 &&
	    chmod("/tmp", 01777) != 0)
		return err_sys(e, "chmod /tmp");
	if (mkdir(p->home, 0700) != 0 && errno != EEXIST)
		return err_sys(e, "creating HOME %s", p->home);
	if (lstat(p->home, &st) != 0)
		return err_sys(e, "HOME %s", p->home);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ENOTDIR, "HOME %s exists and is not a directory", p->home);
	if (st.st_uid != uid && geteuid() == 0 && chown(p->home, uid, gid) != 0)
		return err_sys(e, "chown HOME %s to %u", p->home, (unsigned)uid);
	return 0;
}
