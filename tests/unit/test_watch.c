/* Unit tests: the Dev Mode watch (run/watch.c): the ignore globs, path
 * joining, which events are changes; a real tree in a temporary directory
 * (links not followed, ignored names not watched, new subdirectories
 * followed, a watched file seen through its directory); the inotify limit
 * as an injected ENOSPC: one warning naming the sysctl, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "run/watch.h"

static char logged[1024];
static int nlogged;

static void capture(const char *line, size_t len, void *data)
{
	(void)data;
	nlogged++;
	snprintf(logged, sizeof(logged), "%.*s", (int)len, line);
}

static void test_ignored(void **state)
{
	char *const globs[] = {"node_modules", "*.log", NULL};

	(void)state;
	assert_true(watch_ignored("__pycache__", watch_default_ignore));
	assert_true(watch_ignored(".git", watch_default_ignore));
	assert_true(watch_ignored(".app.py.swp", watch_default_ignore));
	assert_true(watch_ignored("app.py~", watch_default_ignore));
	assert_true(watch_ignored(".#app.py", watch_default_ignore));
	assert_false(watch_ignored("app.py", watch_default_ignore));
	assert_false(watch_ignored(".gitignore", watch_default_ignore));
	assert_false(
	    watch_ignored("x.pyc", watch_default_ignore)); /* in __pycache__: not watched */
	assert_true(watch_ignored("node_modules", globs));
	assert_true(watch_ignored("a.log", globs));
	assert_false(watch_ignored("__pycache__", globs));
	assert_false(watch_ignored("a", NULL));
}

/* The matcher agrees with fnmatch(3) (no flags) on these. */
static void test_glob(void **state)
{
	static const char *const g[] = {"*",   "*.py", "a*b*c", "?x",  "[ab]*", "[!ab]?", "[a-c]",
					"[]]", "[",    "*~",	".#*", "**",	"a*",	  "*a"};
	static const char *const s[] = {"",    "a", "a.py", ".py", "abc", "aXbYc", "acb",
					"bx",  "x", "]",    "[",   "c",	  "cd",	   "a~",
					".#a", "~", "aa",   "ba",  "ab",  "[a"};
	(void)state;
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++)
			if (watch_glob(g[i], s[k]) != (fnmatch(g[i], s[k], 0) == 0))
				fail_msg("glob %s on \"%s\": %d", g[i], s[k],
					 watch_glob(g[i], s[k]));
}

static void test_join(void **state)
{
	char b[16];

	(void)state;
	assert_int_equal(watch_join(b, sizeof(b), "/app", "x.py"), 0);
	assert_string_equal(b, "/app/x.py");
	assert_int_equal(watch_join(b, sizeof(b), "/", "x.py"), 0);
	assert_string_equal(b, "/x.py");
	assert_int_equal(watch_join(b, sizeof(b), "/app", ""), 0);
	assert_string_equal(b, "/app");
	assert_int_equal(watch_join(b, sizeof(b), "/app", "0123456789a"), -1);
	assert_int_equal(watch_join(b, sizeof(b), "/app", "0123456789"), 0);
}

static void test_changes(void **state)
{
	(void)state;
	assert_true(watch_changes(IN_CLOSE_WRITE));
	assert_true(watch_changes(IN_MOVED_TO));
	assert_true(watch_changes(IN_CREATE | IN_ISDIR));
	assert_true(watch_changes(IN_DELETE));
	assert_true(watch_changes(IN_ATTRIB));
	assert_true(watch_changes(IN_Q_OVERFLOW));
	assert_false(watch_changes(IN_MODIFY));
	assert_false(watch_changes(IN_OPEN));
	assert_false(watch_changes(IN_ACCESS));
	assert_false(watch_changes(IN_CLOSE_NOWRITE));
}

/* --- a real tree ------------------------------------------------------------ */

static char root[64];
static char seen[8][PATH_MAX];
static int nseen;
static void *seen_owner;

static void on_change(void *owner, const char *path, void *data)
{
	(void)data;
	seen_owner = owner;
	if (nseen < 8)
		snprintf(seen[nseen], sizeof(seen[0]), "%s", path);
	nseen++;
}

static void mk(const char *rel, bool dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (dir)
		assert_int_equal(mkdir(p, 0700), 0);
	else {
		FILE *f = fopen(p, "w");
		assert_non_null(f);
		fputs("x\n", f);
		assert_int_equal(fclose(f), 0);
	}
}

static bool watched(const struct watcher *w, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s%s%s", root, *rel ? "/" : "", rel);
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->dirs[i].path, p) == 0)
			return true;
	return false;
}

static int setup_tree(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_watch.XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("src", true);
	mk("src/deep", true);
	mk("__pycache__", true);
	mk(".git", true);
	mk("app.py", false);
	assert_int_equal(symlink("/usr", "/tmp/test_watch.link"), 0);
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/usr", root);
	assert_int_equal(rename("/tmp/test_watch.link", p), 0);
	nseen = 0;
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_tree(void **state)
{
	struct watcher w;
	int owner;
	char p[PATH_MAX];

	(void)state;
	watcher_init(&w);
	assert_int_equal(watcher_open(&w), 0);
	watcher_add(&w, &owner, root, watch_default_ignore);
	assert_int_equal(w.n, 3);
	assert_true(watched(&w, "") && watched(&w, "src") && watched(&w, "src/deep"));
	assert_false(watched(&w, "__pycache__") || watched(&w, ".git") || watched(&w, "usr"));

	mk("__pycache__/x.pyc", false); /* not watched */
	mk(".app.py.swp", false);	/* ignored */
	watcher_read(&w, on_change, NULL);
	assert_int_equal(nseen, 0);

	mk("src/deep/a.py", false); /* created, then written: two events */
	watcher_read(&w, on_change, NULL);
	assert_int_equal(nseen, 2);
	assert_ptr_equal(seen_owner, &owner);
	snprintf(p, sizeof(p), "%s/src/deep/a.py", root);
	assert_string_equal(seen[1], p);

	/* a new directory with a file already in it, and one below */
	mk("new", true);
	mk("new/b", true);
	mk("new/b/c.py", false);
	nseen = 0;
	watcher_read(&w, on_change, NULL);
	assert_true(nseen >= 1);
	assert_true(watched(&w, "new") && watched(&w, "new/b"));
	mk("new/b/d.py", false);
	nseen = 0;
	watcher_read(&w, on_change, NULL);
	assert_true(nseen >= 1);
	snprintf(p, sizeof(p), "%s/new/b/d.py", root);
	assert_string_equal(seen[nseen - 1], p);

	/* moved away and deleted: no longer watched */
	snprintf(p, sizeof(p), "%s/src", root);
	char q[128];
	snprintf(q, sizeof(q), "%s.moved", root);
	assert_int_equal(rename(p, q), 0);
	watcher_read(&w, on_change, NULL);
	assert_false(watched(&w, "src") || watched(&w, "src/deep"));
	snprintf(p, sizeof(p), "rm -rf %s", q);
	assert_int_equal(system(p), 0);
	watcher_close(&w);
	assert_int_equal(w.fd, -1);
}

/* A watched path that is a link is followed (it was named); links below are not. */
static void test_root_link(void **state)
{
	struct watcher w;
	char link[80];

	(void)state;
	snprintf(link, sizeof(link), "%s.link", root);
	assert_int_equal(symlink(root, link), 0);
	watcher_init(&w);
	assert_int_equal(watcher_open(&w), 0);
	watcher_add(&w, NULL, link, watch_default_ignore);
	assert_int_equal(w.n, 3); /* the link (its directory), src, src/deep; not usr */
	assert_string_equal(w.dirs[0].path, link);
	mk("src/x.py", false);
	watcher_read(&w, on_change, NULL);
	assert_int_equal(nseen, 2);
	watcher_close(&w);
	assert_int_equal(unlink(link), 0);
}

/* A watched file: through its directory; a rename over it is a change, a
 * sibling is not. */
static void test_file(void **state)
{
	struct watcher w;
	char p[PATH_MAX], tmp[PATH_MAX];

	(void)state;
	watcher_init(&w);
	assert_int_equal(watcher_open(&w), 0);
	snprintf(p, sizeof(p), "%s/app.py", root);
	watcher_add(&w, NULL, p, watch_default_ignore);
	assert_int_equal(w.n, 1);
	mk("other.py", false);
	watcher_read(&w, on_change, NULL);
	assert_int_equal(nseen, 0);
	mk("tmp.txt", false);
	snprintf(tmp, sizeof(tmp), "%s/tmp.txt", root);
	assert_int_equal(rename(tmp, p), 0);
	watcher_read(&w, on_change, NULL);
	assert_int_equal(nseen, 1);
	assert_string_equal(seen[0], p);
	watcher_close(&w);
}

static int fail_after;
static int fake_add(int fd, const char *path, uint32_t mask)
{
	if (fail_after-- > 0)
		return inotify_add_watch(fd, path, mask);
	errno = ENOSPC;
	return -1;
}

/* ENOSPC from inotify_add_watch: one warning naming the limit; what was
 * watched before stays watched. */
static void test_limit(void **state)
{
	struct watcher w;

	(void)state;
	watcher_init(&w);
	w.add = fake_add;
	fail_after = 1;
	nlogged = 0;
	assert_int_equal(watcher_open(&w), 0);
	log_set_writer(capture, NULL);
	watcher_add(&w, NULL, root, watch_default_ignore);
	watcher_add(&w, NULL, root, watch_default_ignore);
	log_set_writer(NULL, NULL);
	assert_int_equal(w.n, 1);
	assert_int_equal(nlogged, 1);
	assert_non_null(strstr(logged, "hfinit: warn: watch: /tmp/test_watch."));
	assert_non_null(strstr(logged, "/src: the inotify watch limit is reached "
				       "(fs.inotify.max_user_watches = "));
	assert_non_null(strstr(logged, "raise it on the host with sysctl): the rest is not"));
	watcher_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ignored),
	    cmocka_unit_test(test_glob),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test_setup_teardown(test_tree, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_root_link, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_file, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_limit, setup_tree, teardown_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
