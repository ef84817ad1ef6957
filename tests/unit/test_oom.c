/* Unit tests: the OOM kill counter found in cgroup v1 and v2 layouts (fake trees). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sup/oom.h"

static char root[PATH_MAX];

/* Write TEXT to root/REL, creating the directories on the way. */
static void put(const char *rel, const char *text)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || access(path, F_OK) == 0);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static long long kills(void)
{
	char cg[PATH_MAX + 16], fs[PATH_MAX + 16];
	snprintf(cg, sizeof(cg), "%s/cgroup", root);
	snprintf(fs, sizeof(fs), "%s/fs", root);
	return oom_kills_at(cg, fs);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/hfinit-test-oom.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

#define DOCKER_V1                                                                                  \
	"9:name=systemd:/docker/abc\n4:memory:/docker/abc\n1:cpu:/docker/abc\n0::/docker/abc\n"

/* cgroup v1, Docker with the host's cgroup namespace: /proc/self/cgroup names
 * /docker/abc, but the container's memory cgroup is the mount's root. */
static void test_v1_docker_host_cgroupns(void **state)
{
	(void)state;
	put("cgroup", DOCKER_V1);
	assert_int_equal(kills(), -1); /* no counter anywhere yet */
	put("fs/memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	assert_int_equal(kills(), 2);
}

/* cgroup v1 on a host: the full path exists and wins over the mount root's counter. */
static void test_v1_full_path(void **state)
{
	(void)state;
	put("cgroup", "5:memory:/user.slice/u1\n");
	put("fs/memory/memory.oom_control", "oom_kill 9\n");
	put("fs/memory/user.slice/u1/memory.oom_control", "oom_kill_disable 0\noom_kill 4\n");
	assert_int_equal(kills(), 4);
	/* A middle suffix: the mount's root is /user.slice. */
	put("cgroup", "5:cpu,memory:/user.slice/u2\n");
	put("fs/memory/u2/memory.oom_control", "oom_kill 6\n");
	assert_int_equal(kills(), 6);
}

/* cgroup v2: the namespace's root ("0::/") and a host path seen from inside. */
static void test_v2(void **state)
{
	(void)state;
	put("cgroup", "0::/\n");
	put("fs/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
	assert_int_equal(kills(), 1);
	put("cgroup", "0::/system.slice/docker-abc.scope\n");
	assert_int_equal(kills(), 1); /* --cgroupns=host: the mount's root is the container's */
	put("fs/system.slice/docker-abc.scope/memory.events", "oom 0\noom_kill 0\n");
	assert_int_equal(kills(), 0);
}

/* No memory controller, no counter, unreadable /proc file: unknown. */
static void test_unknown(void **state)
{
	(void)state;
	put("cgroup", "8:pids:/\n7:blkio:/x\ngarbage\n1:memory:relative\n");
	put("fs/memory/memory.oom_control", "oom_kill_disable 0\n");
	assert_int_equal(kills(), -1);
	put("fs/memory/memory.oom_control", "oom_kill 12x\n");
	assert_int_equal(kills(), -1);
	put("fs/memory/memory.oom_control", "oom_kill 99999999999999999999\n");
	assert_int_equal(kills(), -1);
	assert_int_equal(oom_kills_at("/nonexistent/cgroup", root), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v1_docker_host_cgroupns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1_full_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
