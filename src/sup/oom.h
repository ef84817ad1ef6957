/* The kernel OOM killer's kill count of hfinit's memory cgroup. */
#ifndef HFINIT_OOM_H
#define HFINIT_OOM_H

/* How many processes the OOM killer has killed in the memory cgroup that
 * PROC_CGROUP (a /proc/PID/cgroup file) names, under the cgroup mount CGROOT
 * (/sys/fs/cgroup): cgroup v2 memory.events, v1 memory/memory.oom_control.
 * A path from PROC_CGROUP that is absent under CGROOT is retried without its
 * leading components, down to CGROOT itself: the container's own cgroup is
 * the mount's root when the cgroup namespace is the host's (Docker on cgroup
 * v1, or v2 with --cgroupns=host). -1 when unknown. */
long long oom_kills_at(const char *proc_cgroup, const char *cgroot);
/* oom_kills_at("/proc/self/cgroup", "/sys/fs/cgroup"). */
long long oom_kills(void);

#endif
