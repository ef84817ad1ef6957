/* Seccomp profiles (docs/design.md, "Sandbox"): the built-in `worker` deny list as
 * data, config profiles combined along their `extends` chain, each compiled
 * once with libseccomp and exported as a BPF program that spawn() loads in the
 * child. docs/sandbox.md explains every entry and every rule used here. */
#include "plan/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <linux/ioctl.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* How a worker entry is enforced. */
enum deny_kind {
	DK_ALL,		/* every call gets the deny action */
	DK_CLONE_NS,	/* clone only with a CLONE_NEW* flag */
	DK_PERSONALITY, /* personality except 0 (PER_LINUX) and 0xffffffff (query) */
	DK_ENOSYS,	/* always ENOSYS, so libc falls back (clone3 -> clone) */
	DK_IOCTL_UFFD,	/* ioctl USERFAULTFD_IOC_NEW (on /dev/userfaultfd) only */
};

/* From <linux/userfaultfd.h> (Linux 6.1); defined here for older headers. */
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

/* The reason for each entry is its row in docs/sandbox.md (and the comment
 * here); it is not kept in the binary. */
struct worker_entry {
	const char *name;
	enum deny_kind kind;
};

/* The built-in `worker` profile. Keep docs/sandbox.md in step (a unit test
 * checks that every name appears there). Names this architecture does not have
 * (vm86 on x86_64, ...) are skipped when compiling. */
static const struct worker_entry worker_table[] = {
    /* file systems and the mount namespace */
    {"mount", DK_ALL},	       /* mounting file systems changes what every process sees */
    {"umount", DK_ALL},	       /* unmounts file systems (old ABIs) */
    {"umount2", DK_ALL},       /* unmounts file systems */
    {"pivot_root", DK_ALL},    /* replaces the root file system */
    {"chroot", DK_ALL},	       /* changes the root directory; a classic escape step */
    {"open_tree", DK_ALL},     /* new mount API: clones a mount tree */
    {"move_mount", DK_ALL},    /* new mount API: attaches a mount */
    {"fsopen", DK_ALL},	       /* new mount API: creates a file system context */
    {"fsconfig", DK_ALL},      /* new mount API: configures a file system context */
    {"fsmount", DK_ALL},       /* new mount API: creates a mount */
    {"fspick", DK_ALL},	       /* new mount API: reconfigures a mounted file system */
    {"mount_setattr", DK_ALL}, /* changes mount properties */
    {"swapon", DK_ALL},	       /* enables swap for the whole machine */
    {"swapoff", DK_ALL},       /* disables swap for the whole machine */
    {"quotactl", DK_ALL},      /* manages disk quotas */
    {"quotactl_fd", DK_ALL},   /* manages disk quotas */
    /* opens files by handle, bypassing path checks (the shocker escape) */
    {"open_by_handle_at", DK_ALL},
    {"name_to_handle_at", DK_ALL}, /* produces the handles open_by_handle_at uses */
    {"nfsservctl", DK_ALL},	   /* kernel NFS daemon control (removed from Linux) */
    {"sysfs", DK_ALL},		   /* obsolete file system type query */
    {"ustat", DK_ALL},		   /* obsolete file system statistics */
    {"uselib", DK_ALL},		   /* obsolete shared library loading */
    /* the kernel itself */
    {"reboot", DK_ALL},		 /* reboots or halts the machine */
    {"kexec_load", DK_ALL},	 /* loads a new kernel */
    {"kexec_file_load", DK_ALL}, /* loads a new kernel */
    {"init_module", DK_ALL},	 /* loads a kernel module */
    {"finit_module", DK_ALL},	 /* loads a kernel module */
    {"delete_module", DK_ALL},	 /* unloads a kernel module */
    {"create_module", DK_ALL},	 /* obsolete module call */
    {"get_kernel_syms", DK_ALL}, /* obsolete module call */
    {"query_module", DK_ALL},	 /* obsolete module call */
    {"bpf", DK_ALL},		 /* loads eBPF programs into the kernel; large attack surface */
    {"perf_event_open", DK_ALL}, /* performance counters: kernel attack surface and side channels */
    {"lookup_dcookie", DK_ALL},	 /* kernel profiling support */
    {"syslog", DK_ALL},		 /* reads or clears the kernel log */
    {"acct", DK_ALL},		 /* switches process accounting for the machine */
    {"iopl", DK_ALL},		 /* raw I/O port access */
    {"ioperm", DK_ALL},		 /* raw I/O port access */
    {"vm86", DK_ALL},		 /* virtual 8086 mode (32-bit x86) */
    {"vm86old", DK_ALL},	 /* virtual 8086 mode (32-bit x86) */
    {"_sysctl", DK_ALL},	 /* obsolete kernel parameter interface */
    {"vhangup", DK_ALL},	 /* hangs up the controlling terminal */
    {"io_uring_setup", DK_ALL},	 /* io_uring: large kernel attack surface, unused by workers */
    {"io_uring_enter", DK_ALL},	 /* io_uring: large kernel attack surface, unused by workers */
    {"io_uring_register", DK_ALL}, /* io_uring: large kernel attack surface, unused by workers */
    {"fanotify_init", DK_ALL},	   /* watches file system events of other processes */
    /* other processes */
    {"ptrace", DK_ALL},		   /* traces and modifies other processes */
    {"process_vm_readv", DK_ALL},  /* reads another process's memory */
    {"process_vm_writev", DK_ALL}, /* writes another process's memory */
    {"process_madvise", DK_ALL},   /* advises on another process's memory */
    {"pidfd_getfd", DK_ALL},	   /* copies a file descriptor out of another process */
    {"kcmp", DK_ALL}, /* compares kernel objects of other processes (an information leak) */
    /* keys */
    {"keyctl", DK_ALL},	     /* kernel keyring; keyrings are not namespaced */
    {"add_key", DK_ALL},     /* kernel keyring; keyrings are not namespaced */
    {"request_key", DK_ALL}, /* kernel keyring; keyrings are not namespaced */
    /* namespaces */
    {"unshare", DK_ALL}, /* new namespaces: user namespaces open much more kernel surface */
    {"setns", DK_ALL},	 /* joins other namespaces */
    {"clone",
     DK_CLONE_NS}, /* with a CLONE_NEW* flag: new namespaces (threads and fork still work) */
    {"clone3", DK_ENOSYS}, /* flags sit in memory a filter cannot read: ENOSYS makes libc fall back
			      to clone */
    {"userfaultfd", DK_ALL}, /* user page-fault handling, a tool for kernel exploits */
    {"ioctl",
     DK_IOCTL_UFFD}, /* USERFAULTFD_IOC_NEW only: the same userfaultfd through /dev/userfaultfd */
    {"personality",
     DK_PERSONALITY}, /* except 0 and 0xffffffff (query): e.g. ADDR_NO_RANDOMIZE turns off ASLR */
    /* clocks and host identity */
    {"settimeofday", DK_ALL},  /* sets the machine's clock */
    {"stime", DK_ALL},	       /* sets the machine's clock (old ABIs) */
    {"clock_settime", DK_ALL}, /* sets the machine's clock */
    {"clock_adjtime", DK_ALL}, /* adjusts the machine's clock */
    {"adjtimex", DK_ALL},      /* adjusts the machine's clock */
    {"sethostname", DK_ALL},   /* changes the host name */
    {"setdomainname", DK_ALL}, /* changes the NIS domain name */
};

#define NWORKER (sizeof(worker_table) / sizeof(worker_table[0]))

const char *sandbox_worker_entry(size_t i)
{
	return i < NWORKER ? worker_table[i].name : NULL;
}

/* --- the effective rules of one profile ------------------------------------ */

struct rule {
	const char *name;
	enum deny_kind kind;
	bool denied;  /* in a deny list (config or worker) */
	bool allowed; /* in an allow list: exempt from everything */
};

struct rules_plan {
	struct seccomp_action_conf def, deny;
	struct rule *rules;
	size_t n, cap;
};

static struct rule *plan_rule(struct rules_plan *p, const char *name, struct err *e)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return &p->rules[i];
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 128;
		struct rule *r = realloc(p->rules, cap * sizeof(*r));
		if (!r) {
			err_sys(e, "seccomp profile");
			return NULL;
		}
		p->rules = r;
		p->cap = cap;
	}
	p->rules[p->n] = (struct rule){.name = name, .kind = DK_ALL};
	return &p->rules[p->n++];
}

static bool is_default_deny(const struct seccomp_action_conf *a)
{
	return a->action == SECCOMP_ACT_ERRNO && a->errnum == EPERM;
}

/* Walk the extends chain of `name` (the built-in worker or a config profile).
 * The nearest `default` wins (else allow); the nearest deny_action other than
 * the default errno:EPERM wins; deny lists and allow lists add up; an allow
 * removes a call from every deny list. A name in a config deny list is denied
 * outright, even where the worker table denies it only with some arguments. */
static int profile_plan(const struct config *cfg, const char *name, struct rules_plan *p,
			struct err *e)
{
	const char *cur = name;
	bool have_def = false, have_deny = false;

	memset(p, 0, sizeof(*p));
	p->def.action = SECCOMP_ACT_ALLOW;
	p->deny.action = SECCOMP_ACT_ERRNO;
	p->deny.errnum = EPERM;
	for (size_t steps = 0; cur; steps++) {
		if (steps > (cfg ? cfg->nprofiles : 0))
			return err_set(e, ELOOP, "seccomp profile %s: extends leads to a cycle",
				       name);
		if (strcmp(cur, SECCOMP_BUILTIN_WORKER) == 0) {
			for (size_t i = 0; i < NWORKER; i++) {
				struct rule *r = plan_rule(p, worker_table[i].name, e);
				if (!r)
					return -1;
				if (!r->denied)
					r->kind = worker_table[i].kind;
				r->denied = true;
			}
			break;
		}
		const struct seccomp_conf *c = cfg ? config_profile(cfg, cur) : NULL;
		if (!c)
			return err_set(e, ENOENT,
				       "unknown seccomp profile \"%s\"; expected worker or a "
				       "[seccomp:NAME] of the config",
				       cur);
		if (!have_def && c->has_default) {
			p->def = c->def;
			have_def = true;
		}
		if (!have_deny && !is_default_deny(&c->deny_action)) {
			p->deny = c->deny_action;
			have_deny = true;
		}
		for (size_t i = 0; c->deny && c->deny[i]; i++) {
			struct rule *r = plan_rule(p, c->deny[i], e);
			if (!r)
				return -1;
			r->denied = true;
			r->kind = DK_ALL;
		}
		for (size_t i = 0; c->allow && c->allow[i]; i++) {
			struct rule *r = plan_rule(p, c->allow[i], e);
			if (!r)
				return -1;
			r->allowed = true;
		}
		cur = c->extends;
	}
	return 0;
}

/* --- libseccomp ------------------------------------------------------------ */

static uint32_t scmp_action(const struct seccomp_action_conf *a)
{
	switch (a->action) {
	case SECCOMP_ACT_ALLOW:
		return SCMP_ACT_ALLOW;
	case SECCOMP_ACT_ERRNO:
		return SCMP_ACT_ERRNO((uint32_t)a->errnum);
	case SECCOMP_ACT_KILL:
		return SCMP_ACT_KILL_PROCESS;
	case SECCOMP_ACT_LOG:
		return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

/* clone's flags are its first argument on x86_64, aarch64 and the other
 * architectures hfinit is built for (s390 is the exception). */
static const uint64_t clone_ns_flags[] = {CLONE_NEWNS,	CLONE_NEWCGROUP, CLONE_NEWUTS,
					  CLONE_NEWIPC, CLONE_NEWUSER,	 CLONE_NEWPID,
					  CLONE_NEWNET};

/* Add the rules of one syscall; *added is set when at least one rule was added.
 * A rule whose action is the default is redundant (libseccomp refuses it). */
static int add_rule(scmp_filter_ctx ctx, uint32_t def, uint32_t deny, const struct rule *r,
		    bool *added, const char **what)
{
	int nr = seccomp_syscall_resolve_name(r->name);
	int rc = 0;

	*added = false;
	*what = "seccomp_rule_add";
	if (nr == __NR_SCMP_ERROR)
		return -EINVAL;
	if (nr < 0) /* a call this architecture does not have: nothing to filter */
		return 0;
	if (r->allowed) {
		if (def == SCMP_ACT_ALLOW)
			return 0;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		*added = rc == 0;
		return rc;
	}
	if (!r->denied)
		return 0;
	switch (r->kind) {
	case DK_ALL:
		if (deny == def)
			return 0;
		rc = seccomp_rule_add(ctx, deny, nr, 0);
		break;
	case DK_ENOSYS: {
		uint32_t act = deny == SCMP_ACT_LOG ? SCMP_ACT_LOG : SCMP_ACT_ERRNO(ENOSYS);
		if (act == def)
			return 0;
		rc = seccomp_rule_add(ctx, act, nr, 0);
		break;
	}
	case DK_CLONE_NS:
		if (deny == def)
			return 0;
		for (size_t i = 0;
		     rc == 0 && i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]); i++)
			rc = seccomp_rule_add(
			    ctx, deny, nr, 1,
			    SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]));
		break;
	case DK_IOCTL_UFFD:
		/* The kernel reads the request as 32 bits: compare only those, so
		 * garbage in the upper half cannot step around the rule. */
		if (deny == def)
			return 0;
		rc =
		    seccomp_rule_add(ctx, deny, nr, 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, USERFAULTFD_IOC_NEW));
		break;
	case DK_PERSONALITY:
		/* The kernel reads the persona as 32 bits. libseccomp allows one
		 * comparison per argument in a rule, so "not 0 and not all ones" is
		 * written as: some bit b set while bit b+1 (mod 32) is clear. Any
		 * other 32-bit value has such a pair; 0 and 0xffffffff have none. */
		if (deny == def)
			return 0;
		for (unsigned b = 0; rc == 0 && b < 32; b++) {
			uint64_t lo = UINT64_C(1) << b, hi = UINT64_C(1) << ((b + 1) % 32);
			rc = seccomp_rule_add(ctx, deny, nr, 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, lo | hi, lo));
		}
		break;
	}
	*added = rc == 0;
	return rc;
}

/* Export the filter to a memfd (libseccomp 2.5 has no in-memory export) and
 * read the program back. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog, struct err *e)
{
	struct stat st;
	int fd = memfd_create("hfinit-seccomp", MFD_CLOEXEC);
	int rc;

	if (fd < 0)
		return err_sys(e, "memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc != 0) {
		(void)close(fd); /* read-only use: nothing to flush */
		return err_set(e, -rc, "seccomp_export_bpf: %s", strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		err_sys(e, "fstat (exported filter)");
		(void)close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	if (len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		(void)close(fd);
		return err_set(e, EINVAL, "libseccomp exported %zu bytes, not a usable BPF program",
			       len);
	}
	struct sock_filter *insns = malloc(len);
	if (!insns) {
		err_sys(e, "seccomp filter");
		(void)close(fd);
		return -1;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)insns + got, len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			err_sys(e, "reading the exported filter");
			free(insns);
			(void)close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	(void)close(fd); /* memfd, read fully */
	prog->filter = insns;
	prog->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

int sandbox_compile_one(const struct config *cfg, const char *name, struct sandbox_profile *out,
			struct err *e)
{
	struct rules_plan p;
	scmp_filter_ctx ctx = NULL;
	const char *what = "seccomp_init";
	int rc;

	memset(out, 0, sizeof(*out));
	if (profile_plan(cfg, name, &p, e) < 0) {
		free(p.rules);
		return -1;
	}
	uint32_t def = scmp_action(&p.def), deny = scmp_action(&p.deny);
	/* Calls of the other ABIs (x86 and x32 on x86_64) never reach these
	 * rules: they get the bad-arch action. Kill where the profile kills. */
	uint32_t badarch = p.def.action == SECCOMP_ACT_KILL || p.deny.action == SECCOMP_ACT_KILL
			       ? SCMP_ACT_KILL_PROCESS
			       : SCMP_ACT_ERRNO(EPERM);
	unsigned count = 0;

	ctx = seccomp_init(def);
	if (!ctx) {
		rc = -ENOMEM;
		goto fail;
	}
	what = "seccomp_attr_set";
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, badarch);
	if (rc != 0)
		goto fail;
	/* A binary tree of syscall numbers instead of a linear list: an allowed
	 * call costs a few comparisons, not one per rule (bench/seccomp.py). */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc != 0)
		goto fail;
	for (size_t i = 0; i < p.n; i++) {
		bool added;
		rc = add_rule(ctx, def, deny, &p.rules[i], &added, &what);
		if (rc != 0) {
			err_set(e, -rc, "seccomp profile %s: %s (%s): %s", name, what,
				p.rules[i].name, strerror(-rc));
			goto out;
		}
		count += added;
	}
	if (export_prog(ctx, &out->prog, e) < 0) {
		err_wrap(e, "seccomp profile %s", name);
		rc = -1;
		goto out;
	}
	out->name = strdup(name);
	if (!out->name) {
		err_sys(e, "seccomp profile %s", name);
		free(out->prog.filter);
		out->prog.filter = NULL;
		rc = -1;
		goto out;
	}
	out->rules = count;
	rc = 0;
	goto out;
fail:
	err_set(e, -rc, "seccomp profile %s: %s: %s", name, what, strerror(-rc));
out:
	if (ctx)
		seccomp_release(ctx);
	free(p.rules);
	return rc == 0 ? 0 : -1;
}

int sandbox_compile(const struct config *cfg, struct sandbox_set *set, struct err *e)
{
	memset(set, 0, sizeof(*set));
	for (size_t i = 0; cfg && i < cfg->nservices; i++) {
		const char *name = cfg->services[i].seccomp;
		if (!name || sandbox_find(set, name))
			continue;
		struct sandbox_profile *np =
		    realloc(set->profiles, (set->n + 1) * sizeof(*set->profiles));
		if (!np) {
			err_sys(e, "seccomp profiles");
			sandbox_free(set);
			return -1;
		}
		set->profiles = np;
		if (sandbox_compile_one(cfg, name, &set->profiles[set->n], e) < 0) {
			err_wrap(e, "service %s", cfg->services[i].name);
			sandbox_free(set);
			return -1;
		}
		set->n++;
	}
	return 0;
}

const struct sandbox_profile *sandbox_find(const struct sandbox_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->n; i++)
		if (strcmp(set->profiles[i].name, name) == 0)
			return &set->profiles[i];
	return NULL;
}

void sandbox_free(struct sandbox_set *set)
{
	for (size_t i = 0; set && i < set->n; i++) {
		free(set->profiles[i].name);
		free(set->profiles[i].prog.filter);
	}
	if (set) {
		free(set->profiles);
		set->profiles = NULL;
		set->n = 0;
	}
}
