#include "plan/user.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- users ------------------------------------------------------------------ */

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > 0x7fffffffUL)
		return -1;
	return 0;
}

void resolve_user_self(struct resolve_user *u)
{
	memset(u, 0, sizeof(*u));
	u->as.uid = getuid();
	u->as.gid = getgid();
}

int resolve_user_lookup(const char *user, const char *group, struct resolve_user *u, struct err *e)
{
	struct passwd *pw;
	unsigned long id;
	int n = RESOLVE_MAX_GROUPS;

	memset(u, 0, sizeof(*u));
	fmt_trunc(u->name, sizeof(u->name), "%s", user);
	errno = 0;
	pw = getpwnam(user);
	if (!pw && parse_id(user, &id) == 0) {
		errno = 0;
		pw = getpwuid((uid_t)id);
		if (!pw) {
			u->as.uid = (uid_t)id;
			u->as.gid = (gid_t)id;
		}
	} else if (!pw) {
		return err_set(e, ENOENT, "user %s does not exist (not in /etc/passwd)", user);
	}
	if (pw) {
		u->as.uid = pw->pw_uid;
		u->as.gid = pw->pw_gid;
		fmt_trunc(u->home, sizeof(u->home), "%s", pw->pw_dir ? pw->pw_dir : "");
	}
	if (group) {
		struct group *gr = getgrnam(group);

		if (gr)
			u->as.gid = gr->gr_gid;
		else if (parse_id(group, &id) == 0)
			u->as.gid = (gid_t)id;
		else
			return err_set(e, ENOENT, "group %s does not exist (not in /etc/group)",
				       group);
	}
	if (pw && getgrouplist(pw->pw_name, u->as.gid, u->groups, &n) < 0)
		n = RESOLVE_MAX_GROUPS; /* more than we keep: the first ones are used */
	if (!pw) {
		u->groups[0] = u->as.gid;
		n = 1;
	}
	u->as.groups = u->groups;
	u->as.ngroups = (size_t)n;
	u->as.switch_ids = 1;
	return 0;
}
