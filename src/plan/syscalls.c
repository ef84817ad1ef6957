/* The syscall-name check of the config's deny = / allow = lists (moved here
 * from the config parser, so that conf/ does not use libseccomp). */
#include "plan/syscalls.h"

#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/words.h"

/* Did-you-mean for a syscall name: libseccomp knows every name of this arch.
 * The names are collected once per process (asking libseccomp for each number
 * is slow), and never freed: a few KB, reachable until exit. */
static const char *syscall_near(const char *name, char *buf, size_t len)
{
	static char *names[1024];
	static bool loaded;
	size_t best = 3;

	if (!loaded) {
		uint32_t arch = seccomp_arch_native();
		for (int nr = 0; nr < 1024; nr++)
			names[nr] = seccomp_syscall_resolve_num_arch(arch, nr);
		loaded = true;
	}
	buf[0] = '\0';
	if (strlen(name) > 64)
		return NULL;
	for (int nr = 0; nr < 1024; nr++) {
		size_t d;
		if (!names[nr])
			continue;
		d = edit_distance(name, names[nr], 2);
		if (d < best) {
			best = d;
			snprintf(buf, len, "%s", names[nr]);
		}
	}
	return buf[0] ? buf : NULL;
}

int syscall_name_check(const char *name, struct err *e)
{
	char near[64];

	if (seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR)
		return 0;
	if (syscall_near(name, near, sizeof(near)))
		return err_set(e, 0,
			       "unknown syscall \"%.60s\" (did you mean %s?); "
			       "expected syscall names of this architecture",
			       name, near);
	return err_set(e, 0,
		       "unknown syscall \"%.60s\"; expected syscall names "
		       "of this architecture",
		       name);
}
