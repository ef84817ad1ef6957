#include "run/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/types.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* System call numbers and ABI-6 names, defined here where the headers in use
 * are older (the numbers are the same on every architecture: 444-446). */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6 (Linux 6.12). The kernel headers
 * hfinit is built with may only know handled_access_fs; an older kernel takes
 * this larger struct as long as the fields it does not know are zero. */
struct ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped;
};

#define LL_ABI_SCOPES 6

static int cached_abi = -1;
static const char *cached_why;

int landlock_abi(const char **why)
{
	if (cached_abi < 0) {
		long v =
		    syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
		cached_abi = v >= 2 && v < INT32_MAX ? (int)v : 0;
		if (v >= 2)
			cached_why = NULL;
		else if (v == 1)
			cached_why = "ABI 1, whose domains refuse renames across directories";
		else if (errno == ENOSYS)
			cached_why = "ENOSYS: not in the kernel, or denied by a seccomp profile";
		else if (errno == EOPNOTSUPP)
			cached_why = "EOPNOTSUPP: disabled at boot";
		else if (errno == EPERM)
			cached_why = "EPERM: denied by a seccomp profile";
		else
			cached_why = "refused by the kernel";
	}
	if (why)
		*why = cached_why;
	return cached_abi;
}

int landlock_enter(int abi, bool abstract_scope)
{
	struct ll_ruleset_attr a = {0};
	int fd, err = 0;

	if (abi >= LL_ABI_SCOPES) {
		a.scoped = LANDLOCK_SCOPE_SIGNAL;
		if (abstract_scope)
			a.scoped |= LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
	} else {
		/* Before ABI 6 a ruleset must handle some access (an empty one is
		 * ENOMSG). REFER is the one every domain restricts anyway: handle
		 * it and grant it beneath "/", so nothing is restricted. */
		a.handled_access_fs = LANDLOCK_ACCESS_FS_REFER;
	}
	fd = (int)syscall(__NR_landlock_create_ruleset, &a, sizeof(a), 0);
	if (fd < 0)
		return errno;
	if (abi < LL_ABI_SCOPES) {
		struct landlock_path_beneath_attr pb = {.allowed_access = LANDLOCK_ACCESS_FS_REFER};
		pb.parent_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pb.parent_fd < 0 ||
		    syscall(__NR_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			err = errno;
		if (pb.parent_fd >= 0)
			(void)close(pb.parent_fd); /* O_PATH: nothing to flush */
	}
	if (!err && syscall(__NR_landlock_restrict_self, fd, 0) < 0)
		err = errno;
	(void)close(fd); /* the domain keeps what it needs */
	return err;
}
