/* Unit tests: who listens on a probed port, from fixture /proc trees (net/tcp,
 * net/tcp6, PID/stat, PID/fd links, PID/cmdline) in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sup/portown.h"

#define HDR4                                                                                       \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout inode\n"
#define HDR6                                                                                       \
	"  sl  local_address                         remote_address                        st "    \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
/* 127.0.0.1:7860 LISTEN inode 111; 0.0.0.0:7860 LISTEN 222 is impossible at the
 * same time, so the tables below each hold what one situation shows. */
#define V4_LOOP_7860                                                                               \
	"   0: 0100007F:1EB4 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000       " \
	" "                                                                                        \
	"0 111 1 0000000000000000 100 0 0 10 0\n"
#define V4_ANY_7860                                                                                \
	"   1: 00000000:1EB4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0       " \
	" "                                                                                        \
	"0 222 1 0000000000000000 100 0 0 10 0\n"
/* an established connection to 7860 (st 01): never a listener */
#define V4_ESTAB_7860                                                                              \
	"   2: 0100007F:1EB4 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0       " \
	" "                                                                                        \
	"0 333 1 0000000000000000 20 4 30 10 -1\n"
#define V4_LOOP_8000                                                                               \
	"   3: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0       " \
	" "                                                                                        \
	"0 444 1 0000000000000000 100 0 0 10 0\n"
#define V6_ANY_7860                                                                                \
	"   0: 00000000000000000000000000000000:1EB4 00000000000000000000000000000000:0000 0A "    \
	"00000000:00000000 00:00000000 00000000  1000        0 555 1 0000000000000000 100 0 0 10 " \
	"0\n"
#define V6_LOOP_7860                                                                               \
	"   1: 00000000000000000000000001000000:1EB4 00000000000000000000000000000000:0000 0A "    \
	"00000000:00000000 00:00000000 00000000  1000        0 666 1 0000000000000000 100 0 0 10 " \
	"0\n"

static void sa4(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
}

static void sa6(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
}

static void scan(struct portown *po, const char *t4, const char *t6,
		 const struct sockaddr_storage *ss)
{
	memset(po, 0, sizeof(*po));
	if (t4)
		portown_scan(po, t4, 0, ss);
	if (t6)
		portown_scan(po, t6, 1, ss);
}

static void test_scan_tiers(void **state)
{
	struct sockaddr_storage ss;
	struct portown po;
	(void)state;

	/* 127.0.0.1:7860: the exact listener, not the established one, not 8000 */
	sa4(&ss, "127.0.0.1", 7860);
	scan(&po, HDR4 V4_LOOP_7860 V4_ESTAB_7860 V4_LOOP_8000, HDR6, &ss);
	assert_int_equal(po.ninodes, 1);
	assert_int_equal(po.inode[0], 111);
	assert_int_equal(po.tier, 3);
	/* a server on 0.0.0.0 */
	scan(&po, HDR4 V4_ANY_7860, HDR6, &ss);
	assert_int_equal(po.ninodes, 1);
	assert_int_equal(po.inode[0], 222);
	assert_int_equal(po.tier, 2);
	/* a dual-stack server on :: (Node's default) reached over IPv4 */
	scan(&po, HDR4, HDR6 V6_ANY_7860, &ss);
	assert_int_equal(po.ninodes, 1);
	assert_int_equal(po.inode[0], 555);
	assert_int_equal(po.tier, 1);
	/* 0.0.0.0 beats :: for an IPv4 connection, whatever the file order */
	scan(&po, HDR4 V4_ANY_7860, HDR6 V6_ANY_7860, &ss);
	assert_int_equal(po.ninodes, 1);
	assert_int_equal(po.inode[0], 222);
	/* 127.0.0.2 is not 127.0.0.1, but 0.0.0.0 takes it */
	sa4(&ss, "127.0.0.2", 7860);
	scan(&po, HDR4 V4_LOOP_7860, HDR6, &ss);
	assert_int_equal(po.ninodes, 0);
	scan(&po, HDR4 V4_LOOP_7860 V4_ANY_7860, HDR6, &ss);
	assert_int_equal(po.inode[0], 222);
	/* a probe to 0.0.0.0 reaches loopback */
	sa4(&ss, "0.0.0.0", 7860);
	scan(&po, HDR4 V4_LOOP_7860, HDR6, &ss);
	assert_int_equal(po.inode[0], 111);
	/* IPv6: ::1 exact, then ::; never an IPv4 listener */
	sa6(&ss, "::1", 7860);
	scan(&po, HDR4 V4_ANY_7860, HDR6 V6_ANY_7860 V6_LOOP_7860, &ss);
	assert_int_equal(po.ninodes, 1);
	assert_int_equal(po.inode[0], 666);
	scan(&po, HDR4 V4_ANY_7860, HDR6 V6_ANY_7860, &ss);
	assert_int_equal(po.inode[0], 555);
	assert_int_equal(po.tier, 2);
	/* a v4-mapped target is IPv4 */
	sa6(&ss, "::ffff:127.0.0.1", 7860);
	scan(&po, HDR4 V4_LOOP_7860, HDR6, &ss);
	assert_int_equal(po.inode[0], 111);
	/* garbage lines are skipped */
	sa4(&ss, "127.0.0.1", 7860);
	scan(&po, HDR4 "   0: zz\n\n   1: 0100007F:1EB4\n" V4_LOOP_7860 "   2: 0100007F", "", &ss);
	assert_int_equal(po.ninodes, 1);
	scan(&po, HDR4 "   0: 0100007F:1EB4 00000000:0000 0A", HDR6 "   0: 0000", &ss);
	assert_int_equal(po.ninodes, 0);
}

/* --- fixture trees --------------------------------------------------------------- */

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void dir(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* A process PID in session SID with its command line and one socket fd. */
static void proc_entry(int pid, int sid, const char *cmdline, size_t cmdlen, unsigned long ino)
{
	char rel[64], text[128], path[256];
	int fd;

	snprintf(rel, sizeof(rel), "%d", pid);
	dir(rel);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(text, sizeof(text), "%d (my (odd) name) S 1 %d %d 0 -1 4194560 0\n", pid, sid,
		 sid);
	put(rel, text);
	snprintf(rel, sizeof(rel), "%d/fd", pid);
	dir(rel);
	snprintf(path, sizeof(path), "%s/%d/fd/0", root, pid);
	assert_int_equal(symlink("/dev/null", path), 0);
	snprintf(path, sizeof(path), "%s/%d/fd/3", root, pid);
	snprintf(text, sizeof(text), "socket:[%lu]", ino);
	assert_int_equal(symlink(text, path), 0);
	snprintf(path, sizeof(path), "%s/%d/cmdline", root, pid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, cmdline, cmdlen), (ssize_t)cmdlen);
	assert_int_equal(close(fd), 0);
}

static int setup_tree(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/hfinit-portown-XXXXXX");
	assert_non_null(mkdtemp(root));
	dir("net");
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const char CMD_PY[] = "python3\0-m\0http.server\0007860\0";

static void test_check_ours_and_foreign(void **state)
{
	struct sockaddr_storage ss;
	struct portown po;
	(void)state;

	put("net/tcp", HDR4 V4_LOOP_7860);
	put("net/tcp6", HDR6);
	proc_entry(10, 10, "node\0server.js\0", 15, 999); /* the service: other sockets */
	proc_entry(11, 10, "node\0worker.js\0", 15, 111); /* its child holds the listener */
	proc_entry(20, 20, CMD_PY, sizeof(CMD_PY), 777);
	sa4(&ss, "127.0.0.1", 7860);
	assert_int_equal(portown_check(root, &ss, 10, &po), PORTOWN_OURS);
	/* seen from another session: taken, by pid 11 */
	assert_int_equal(portown_check(root, &ss, 20, &po), PORTOWN_FOREIGN);
	assert_int_equal(po.holder, 11);
	assert_string_equal(po.cmd, "node worker.js");
}

static void test_check_names_the_holder(void **state)
{
	struct sockaddr_storage ss;
	struct portown po;
	static const char longcmd[] =
	    "python3\0-m\0http.server\0--bind\000127.0.0.1\0--directory\0/home/user/app/a/very/"
	    "long/directory/name/that/does/not/fit\0007860\0";
	(void)state;

	put("net/tcp", HDR4);
	put("net/tcp6", HDR6 V6_ANY_7860);
	proc_entry(10, 10, "node\0server.js\0", 15, 999);
	proc_entry(30, 30, longcmd, sizeof(longcmd), 555);
	/* a dual-stack squatter on :: takes an IPv4 probe; its long command line
	 * is cut at a word, never mid-word */
	sa4(&ss, "127.0.0.1", 7860);
	assert_int_equal(portown_check(root, &ss, 10, &po), PORTOWN_FOREIGN);
	assert_int_equal(po.holder, 30);
	assert_string_equal(po.cmd, "python3 -m http.server --bind 127.0.0.1 --directory...");
}

static void test_check_unknown(void **state)
{
	struct sockaddr_storage ss;
	struct portown po;
	(void)state;

	sa4(&ss, "127.0.0.1", 7860);
	/* no net files at all (hidepid, another mount) */
	assert_int_equal(portown_check(root, &ss, 10, &po), PORTOWN_UNKNOWN);
	assert_non_null(strstr(po.why, "net/tcp and tcp6 cannot be read"));
	/* only tcp (no IPv6), but no listener: another network namespace */
	put("net/tcp", HDR4 V4_LOOP_8000);
	assert_int_equal(portown_check(root, &ss, 10, &po), PORTOWN_UNKNOWN);
	assert_non_null(strstr(po.why, "no listener on that port"));
	/* the listener is there but the service's processes are not visible */
	put("net/tcp", HDR4 V4_LOOP_7860);
	proc_entry(20, 20, CMD_PY, sizeof(CMD_PY), 111);
	assert_int_equal(portown_check(root, &ss, 10, &po), PORTOWN_UNKNOWN);
	assert_non_null(strstr(po.why, "processes are not visible"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan_tiers),
	    cmocka_unit_test_setup_teardown(test_check_ours_and_foreign, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_check_names_the_holder, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_check_unknown, setup_tree, teardown_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
