/* Supervision of the configured services (docs/design.md, "Supervisor" and "Logs"): stages gated on
 * readiness, attempts with timeouts and delays, degradation of optional
 * services, restarts with back-off and a burst limit, health probes, ordered
 * shutdown, signal forwarding, and the services' output, line by line. */
#ifndef HFINIT_SUPERVISE_H
#define HFINIT_SUPERVISE_H

#include <signal.h>

#include "conf/config.h"
#include "plan/plan.h"
#include "plan/sandbox.h"
#include "status/status.h"

/* Run until shutdown; returns hfinit's exit code (0 clean, 1 a required
 * service failed). `status` (may be NULL) gets a snapshot after every loop
 * turn that changed something. `mask` is the set of signals hfinit blocked (read through
 * the loop's signalfd); `orig_mask` the mask services start with. `sandbox`: the compiled seccomp
 * profiles, one for every profile a service names (sandbox_compile). */
int supervise(const struct config *cfg, const struct plan *plan, struct status_writer *status,
	      const sigset_t *mask, const sigset_t *orig_mask, const struct sandbox_set *sandbox);

#endif
