/* The services' environments: NAME=VALUE vectors and env_file parsing. */
#include "plan/plan.h"

#include "conf/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
