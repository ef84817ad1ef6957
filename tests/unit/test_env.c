/* Unit tests: env sanity and redaction: secret names, HOME and HF_HOME
 * planning and creation (plan/envsane.c). Runs as root; some cases switch to
 * uid 1000. */
#include "faketree.h"

#include "plan/env.h"
#include "plan/user.h"

/* --- env sanity -------------------------------------------------------------- */

static void test_secrets(void **state)
{
	char buf[128];

	(void)state;
	assert_true(env_is_secret("HF_TOKEN"));
	assert_true(env_is_secret("openai_api_key"));
	assert_true(env_is_secret("MySecretThing"));
	assert_true(env_is_secret("DB_PASSWORD"));
	assert_true(env_is_secret("KEYRING"));
	assert_false(env_is_secret("HOME"));
	assert_true(env_is_secret("PGPASSWD"));
	assert_false(env_is_secret("DATABASE_URL"));
	assert_string_equal(env_shown("HF_TOKEN", "hf_abc"), "***");
	assert_string_equal(env_shown("PATH", "/bin"), "/bin");
	env_redact_assignment("HF_TOKEN=hf_abc=def", buf, sizeof(buf));
	assert_string_equal(buf, "HF_TOKEN=***");
	env_redact_assignment("LANG=C.UTF-8", buf, sizeof(buf));
	assert_string_equal(buf, "LANG=C.UTF-8");
	/* not secret by name, but a URL password is still not shown */
	env_redact_assignment("DATABASE_URL=postgres://app:dbpass123@db/x", buf, sizeof(buf));
	assert_string_equal(buf, "DATABASE_URL=postgres://app:***@db/x");
}

static void test_home(void **state)
{
	struct envsane p;
	struct resolve_user u;
	struct err e;

	(void)state;
	mk("home", NULL, 0755);
	assert_int_equal(envsane_plan(&p, at("home"), NULL, "/root", NULL, &e), 0);
	assert_false(p.home_replaced);
	assert_string_equal(p.home, at("home"));
	assert_true(p.hf_home_default);
	assert_string_equal(p.hf_home, at("home/.cache/huggingface"));

	assert_int_equal(envsane_plan(&p, NULL, NULL, at("home"), NULL, &e), 0);
	assert_true(p.home_replaced);
	assert_string_equal(p.home_reason, "HOME is unset");
	assert_string_equal(p.home, at("home"));

	assert_int_equal(envsane_plan(&p, "/nonexistent", "/data/hf", at("home"), NULL, &e), 0);
	assert_string_equal(p.home_reason, "HOME=/nonexistent is a placeholder");
	assert_string_equal(p.hf_home, "/data/hf");
	assert_false(p.hf_home_default);

	/* uid 1000 cannot write a root-owned 0755 home: passwd home absent -> /tmp/home-1000 */
	assert_int_equal(resolve_user_lookup("1000", "1000", &u, &e), 0);
	assert_int_equal(envsane_plan(&p, at("home"), at("home/hf"), NULL, &u.as, &e), 0);
	assert_true(p.home_replaced);
	assert_string_equal(p.home, "/tmp/home-1000");
	assert_true(strstr(p.hf_home_warning, "is not writable") != NULL);
}

static void test_home_apply(void **state)
{
	struct envsane p;
	struct resolve_user u;
	struct stat st;
	struct err e;

	(void)state;
	memset(&p, 0, sizeof(p));
	snprintf(p.home, sizeof(p.home), "%s", at("newhome"));
	p.home_create = 1;
	assert_int_equal(envsane_apply(&p, 1000, 1000, &e), 0);
	assert_int_equal(stat(at("newhome"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(envsane_apply(&p, 1000, 1000, &e), 0); /* exists: fine */
	/* a file (or a symlink, or a dir of a third uid) at HOME is not used:
	 * a fresh HOME.XXXXXX next to it is */
	mk("afile", "x", 0644);
	snprintf(p.home, sizeof(p.home), "%s", at("afile"));
	p.hf_home_default = 1;
	assert_int_equal(envsane_apply(&p, 1000, 1000, &e), 0);
	assert_int_equal(strncmp(p.home, at("afile."), strlen(at("afile."))), 0);
	assert_int_equal(strlen(p.home), strlen(at("afile.")) + 6);
	assert_int_equal(lstat(p.home, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 1000);
	assert_true(strstr(p.hf_home, "/.cache/huggingface") == p.hf_home + strlen(p.home));
	assert_int_equal(lstat(at("afile"), &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_uid == 0); /* untouched */

	/* writable-or-creatable, as uid 1000 */
	assert_int_equal(resolve_user_lookup("1000", "1000", &u, &e), 0);
	assert_int_equal(dir_writable_or_creatable(at("newhome/a/b"), &u.as, &e), 1);
	assert_int_equal(dir_writable_or_creatable(at("x/y"), &u.as, &e), 0); /* tmp is root's */
	assert_int_equal(dir_writable_or_creatable(at("x/y"), NULL, &e), 1);
	assert_int_equal(dir_writable_or_creatable(at("afile/sub"), NULL, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_home, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_home_apply, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
