/* try-syscall NAME...: make each named system call with harmless arguments
 * (invalid pointers, fds or flags that the kernel refuses before acting) and
 * print "NAME ok" or "NAME errno=ENAME" (or errno=N), one line each, in order.
 * Special names: clone (a plain fork), clone-newuser/-newns/-newpid/-newnet,
 * personality-0/-query/-norandom/-linux32, socket; "x86:NAME" makes a 32-bit
 * call with `int 0x80` (x86_64 only: getpid, mount, unshare, personality),
 * "x32:NAME" an x32 call (nr | 0x40000000). Exit 0, or 2 for an unknown name. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct call {
	const char *name;
	long nr;
	long a[6];
};

#define BAD 1L /* an address nothing is mapped at */
static const struct call calls[] = {
    {"getpid", SYS_getpid, {0}},
    {"getppid", SYS_getppid, {0}},
    {"uname", SYS_uname, {0}}, /* EFAULT proves the call ran */
    {"get_mempolicy", SYS_get_mempolicy, {0}},
    {"set_mempolicy", SYS_set_mempolicy, {0}}, /* MPOL_DEFAULT: a no-op */
    {"mbind", SYS_mbind, {0}},
    {"mount", SYS_mount, {0}},
    {"umount2", SYS_umount2, {0}},
    {"pivot_root", SYS_pivot_root, {0}},
    {"chroot", SYS_chroot, {0}},
    {"open_tree", SYS_open_tree, {-1, 0, 0}},
    {"move_mount", SYS_move_mount, {-1, 0, -1, 0, 0}},
    {"fsopen", SYS_fsopen, {0}},
    {"fsconfig", SYS_fsconfig, {-1}},
    {"fsmount", SYS_fsmount, {-1}},
    {"fspick", SYS_fspick, {-1}},
    {"mount_setattr", SYS_mount_setattr, {-1}},
    {"swapon", SYS_swapon, {0}},
    {"swapoff", SYS_swapoff, {0}},
    {"quotactl", SYS_quotactl, {0}},
    {"open_by_handle_at", SYS_open_by_handle_at, {-1}},
    {"name_to_handle_at", SYS_name_to_handle_at, {-1}},
    {"nfsservctl", SYS_nfsservctl, {0}},
    {"sysfs", SYS_sysfs, {0}},
    {"ustat", SYS_ustat, {0, BAD}},
    {"uselib", SYS_uselib, {0}},
    {"reboot", SYS_reboot, {0}}, /* wrong magic: EINVAL */
    {"kexec_load", SYS_kexec_load, {0, 0, 0, 0x7fff0000}},
    {"kexec_file_load", SYS_kexec_file_load, {-1, -1, 0, 0, 0x7fff0000}},
    {"init_module", SYS_init_module, {0}},
    {"finit_module", SYS_finit_module, {-1}},
    {"delete_module", SYS_delete_module, {0}},
    {"create_module", SYS_create_module, {0}},
    {"get_kernel_syms", SYS_get_kernel_syms, {0}},
    {"query_module", SYS_query_module, {0}},
    {"bpf", SYS_bpf, {-1}},
    {"perf_event_open", SYS_perf_event_open, {0, 0, -1, -1, 0}},
    {"lookup_dcookie", SYS_lookup_dcookie, {0}},
    {"syslog", SYS_syslog, {-1}},
    {"acct", SYS_acct, {BAD}},
    {"iopl", SYS_iopl, {4}},
    {"ioperm", SYS_ioperm, {0x10000, 1, 1}},
    {"_sysctl", SYS__sysctl, {0}},
    {"io_uring_setup", SYS_io_uring_setup, {0}},
    {"io_uring_enter", SYS_io_uring_enter, {-1}},
    {"io_uring_register", SYS_io_uring_register, {-1}},
    {"fanotify_init", SYS_fanotify_init, {0x7fffffff}},
    {"ptrace", SYS_ptrace, {0x7fffffff}},
    {"process_vm_readv", SYS_process_vm_readv, {0}},
    {"process_vm_writev", SYS_process_vm_writev, {0}},
    {"process_madvise", SYS_process_madvise, {-1}},
    {"pidfd_getfd", SYS_pidfd_getfd, {-1}},
    {"kcmp", SYS_kcmp, {0, 0, -1}},
    {"keyctl", SYS_keyctl, {-1}},
    {"add_key", SYS_add_key, {0}},
    {"request_key", SYS_request_key, {0}},
    {"unshare", SYS_unshare, {0}}, /* no flags: a no-op */
    {"setns", SYS_setns, {-1}},
    {"clone3", SYS_clone3, {0}},
    {"userfaultfd", SYS_userfaultfd, {0x7fffffff}},
    {"settimeofday", SYS_settimeofday, {BAD}},
    {"clock_settime", SYS_clock_settime, {-1}},
    {"clock_adjtime", SYS_clock_adjtime, {-1}},
    {"adjtimex", SYS_adjtimex, {0}},
    {"sethostname", SYS_sethostname, {0, 100000}},
    {"setdomainname", SYS_setdomainname, {0, 100000}},
};

static const struct {
	const char *name;
	long flags;
} clones[] = {
    {"clone", 0},
    {"clone-newuser", CLONE_NEWUSER},
    {"clone-newns", CLONE_NEWNS},
    {"clone-newpid", CLONE_NEWPID},
    {"clone-newnet", CLONE_NEWNET},
};

static const struct {
	const char *name;
	unsigned long persona;
} personas[] = {
    {"personality-0", 0},
    {"personality-query", 0xffffffffUL},
    {"personality-norandom", 0x0040000},
    {"personality-linux32", 0x0008},
};

static void report(const char *name, long rc, int err)
{
	static const struct {
		int e;
		const char *n;
	} names[] = {{EPERM, "EPERM"},	 {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},
		     {EIO, "EIO"},	 {EBADF, "EBADF"},     {EFAULT, "EFAULT"},
		     {EINVAL, "EINVAL"}, {ENOSYS, "ENOSYS"},   {EACCES, "EACCES"},
		     {EBUSY, "EBUSY"},	 {ENOEXEC, "ENOEXEC"}, {EOPNOTSUPP, "EOPNOTSUPP"}};

	if (rc >= 0) {
		printf("%s ok\n", name);
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == err) {
			printf("%s errno=%s\n", name, names[i].n);
			return;
		}
	printf("%s errno=%d\n", name, err);
}

/* A raw clone: 0 in the child, which leaves at once. */
static long try_clone(long flags)
{
	long rc = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);
	if (rc == 0)
		_exit(0);
	if (rc > 0 && waitpid((pid_t)rc, NULL, 0) < 0)
		perror("waitpid");
	return rc;
}

#if defined(__x86_64__)
/* The i386 ABI from a 64-bit process: numbers from arch/x86/entry/syscalls/syscall_32.tbl. */
static long int80(long nr, long a0)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a0), "c"(0L), "d"(0L) : "memory");
	return ret;
}

static const struct {
	const char *name;
	long nr, a0;
} x86[] = {{"getpid", 20, 0}, {"mount", 21, 0}, {"unshare", 310, 0}, {"personality", 136, 0x40000}};
#endif

static int try_one(const char *name)
{
	long rc;

	errno = 0;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (strcmp(calls[i].name, name) == 0) {
			const long *a = calls[i].a;
			rc = syscall(calls[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]);
			report(name, rc, errno);
			return 0;
		}
	for (size_t i = 0; i < sizeof(clones) / sizeof(clones[0]); i++)
		if (strcmp(clones[i].name, name) == 0) {
			rc = try_clone(clones[i].flags);
			report(name, rc, errno);
			return 0;
		}
	for (size_t i = 0; i < sizeof(personas) / sizeof(personas[0]); i++)
		if (strcmp(personas[i].name, name) == 0) {
			rc = syscall(SYS_personality, personas[i].persona);
			report(name, rc, errno);
			if (rc >= 0)
				(void)syscall(SYS_personality, 0UL); /* back to PER_LINUX */
			return 0;
		}
	if (strcmp(name, "socket") == 0) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		report(name, fd, errno);
		if (fd >= 0)
			(void)close(fd); /* unused socket */
		return 0;
	}
#if defined(__x86_64__)
	if (strncmp(name, "x86:", 4) == 0)
		for (size_t i = 0; i < sizeof(x86) / sizeof(x86[0]); i++)
			if (strcmp(x86[i].name, name + 4) == 0) {
				rc = int80(x86[i].nr, x86[i].a0);
				report(name, rc < 0 && rc > -4096 ? -1 : rc, (int)-rc);
				if (i == 3 && rc >= 0)
					(void)syscall(SYS_personality, 0UL);
				return 0;
			}
	if (strncmp(name, "x32:", 4) == 0)
		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
			if (strcmp(calls[i].name, name + 4) == 0) {
				const long *a = calls[i].a;
				rc = syscall(calls[i].nr | 0x40000000L, a[0], a[1], a[2], a[3],
					     a[4], a[5]);
				report(name, rc, errno);
				return 0;
			}
#endif
	fprintf(stderr, "try-syscall: unknown call %s\n", name);
	return -1;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: try-syscall NAME...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (try_one(argv[i]) < 0)
			rc = 2;
		if (fflush(stdout) != 0)
			return 1;
	}
	return rc;
}
