#include "plan/safedir.h"
#include "run/runcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int safedir_parent(const char *path, const char **name, char *why, size_t whysz)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n;
	int fd;

	if (path[0] != '/' || !slash || !slash[1] || strcmp(slash, "/.") == 0 ||
	    strcmp(slash, "/..") == 0) {
		fmt_trunc(why, whysz, "not an absolute path to a directory");
		return -1;
	}
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof(parent)) {
		fmt_trunc(why, whysz, "path too long");
		return -1;
	}
	memcpy(parent, path, n);
	parent[n] = '\0';
	*name = slash + 1;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fmt_trunc(why, whysz, "%s: %s", parent, strerror(errno));
		return -1;
	}
	/* In a dir others may write, a non-sticky one lets them rename ours
	 * away and put theirs in its place after we checked it. */
	if (fstat(fd, &st) != 0)
		st.st_mode = 0777; /* unknown: refused as if it were open */
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)) {
		fmt_trunc(why, whysz, "%s is writable by others and not sticky (mode %04o)", parent,
			  (unsigned)(st.st_mode & 07777));
		(void)close(fd); /* O_RDONLY directory */
		return -1;
	}
	return fd;
}

/* Check the directory open at fd, and make it uid's. */
static int adopt(int fd, int created, mode_t mode, uid_t uid, gid_t gid, char *why, size_t whysz)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		fmt_trunc(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (st.st_uid != uid && st.st_uid != 0) {
		fmt_trunc(why, whysz, "owned by uid %u, neither root nor uid %u",
			  (unsigned)st.st_uid, (unsigned)uid);
		return -1;
	}
	if (!created && (st.st_mode & 022)) {
		fmt_trunc(why, whysz, "writable by group or others (mode %04o)",
			  (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid != uid && geteuid() == 0 && fchown(fd, uid, gid) != 0) {
		fmt_trunc(why, whysz, "chown to %u: %s", (unsigned)uid, strerror(errno));
		return -1;
	}
	/* mkdir's mode went through the umask */
	if (created && (st.st_mode & 07777) != mode && fchmod(fd, mode) != 0) {
		fmt_trunc(why, whysz, "chmod: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int open_adopt(int parentfd, const char *name, int created, mode_t mode, uid_t uid,
		      gid_t gid, char *why, size_t whysz)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		fmt_trunc(why, whysz, "%s",
			  errno == ELOOP || errno == ENOTDIR ? "a symlink or not a directory"
							     : strerror(errno));
		return -1;
	}
	if (adopt(fd, created, mode, uid, gid, why, whysz) < 0) {
		(void)close(fd); /* O_RDONLY directory */
		return -1;
	}
	return fd;
}

int safedir_openat(int parentfd, const char *name, mode_t mode, uid_t uid, gid_t gid, char *why,
		   size_t whysz)
{
	int created = mkdirat(parentfd, name, mode) == 0;

	if (!created && errno != EEXIST) {
		fmt_trunc(why, whysz, "cannot create it: %s", strerror(errno));
		return -1;
	}
	return open_adopt(parentfd, name, created, mode, uid, gid, why, whysz);
}

int safedir_mktemp(int parentfd, const char *prefix, char *name, size_t namesz, mode_t mode,
		   uid_t uid, gid_t gid, char *why, size_t whysz)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	struct timespec ts;

	for (int tries = 0; tries < 100; tries++) {
		if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
			/* no entropy yet: the name need not be secret, only new */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			for (size_t i = 0; i < sizeof(r); i++)
				r[i] = (unsigned char)((unsigned long)ts.tv_nsec >> (i * 5)) ^
				       (unsigned char)(tries * 7 + (int)i);
		}
		fmt_trunc(name, namesz, "%s.%c%c%c%c%c%c", prefix, abc[r[0] % 62], abc[r[1] % 62],
			  abc[r[2] % 62], abc[r[3] % 62], abc[r[4] % 62], abc[r[5] % 62]);
		if (mkdirat(parentfd, name, mode) == 0)
			return open_adopt(parentfd, name, 1, mode, uid, gid, why, whysz);
		if (errno != EEXIST) {
			fmt_trunc(why, whysz, "cannot create %s: %s", name, strerror(errno));
			return -1;
		}
	}
	fmt_trunc(why, whysz, "cannot create %s.XXXXXX: every name taken", prefix);
	return -1;
}
