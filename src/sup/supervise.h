/* Supervision of the planned services (docs/design.md, "Supervisor" and
 * "Logs"): stages gated on readiness, attempts with timeouts and delays,
 * degradation of optional services, restarts with back-off and a burst
 * limit, health probes, ordered shutdown, signal forwarding, and the
 * services' output, line by line. The plan is its only input. */
#ifndef HFINIT_SUPERVISE_H
#define HFINIT_SUPERVISE_H

#include "plan/plan.h"
#include "run/pid1.h"
#include "status/status.h"

/* Run until shutdown; returns hfinit's exit code (0 clean, 1 a required
 * service failed, or the event loop did). `status` (may be NULL) gets a
 * snapshot after every loop turn that changed something. `sigs`: the signals
 * hfinit blocked (read through the loop's signalfd) and the mask services
 * start with. */
int supervise(const struct plan *plan, struct status_writer *status,
	      const struct pid1_signals *sigs);

#endif
