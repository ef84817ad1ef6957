/* Unit tests: a fake file tree under a fresh /tmp directory (tmp), shared by
 * the tests of the plan's resolution (user, Python, scripts, env, status dir)
 * and runcmd: mk() makes a file (content) or a directory (NULL), ln() a
 * symlink, at() names a path in the tree, fakepy() is a shell script that
 * answers like Python VERSION; setup/teardown make and remove the tree. */
#ifndef HFINIT_TEST_FAKETREE_H
#define HFINIT_TEST_FAKETREE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmp[256];

static inline void mk(const char *rel, const char *content, mode_t mode)
{
	char p[512], dir[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	for (char *s = p + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(s - p), p);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", dir, strerror(errno));
	}
	if (!content) {
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			fail_msg("mkdir %s", p);
		assert_int_equal(chmod(p, mode), 0);
		return;
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static inline void ln(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	assert_int_equal(symlink(target, p), 0);
}

static inline const char *at(const char *rel)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmp, rel);
	return buf[i];
}

static inline char *fakepy(const char *version)
{
	static char s[256];

	snprintf(s, sizeof(s), "#!/bin/sh\necho \"$0\"\necho %s\n", version);
	return s;
}

static inline int setup(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/h5-unit-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0);
	unsetenv("PYTHON_PATH");
	unsetenv("VIRTUAL_ENV");
	unsetenv("UV_PROJECT_ENVIRONMENT");
	unsetenv("CONDA_PREFIX");
	setenv("HOME", at("home"), 1);
	snprintf(cmd, sizeof(cmd), "%s:/usr/bin:/bin", at("bin"));
	setenv("PATH", cmd, 1);
	return 0;
}

static inline int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "/bin/rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

#endif
