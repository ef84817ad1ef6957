/* Rendering a status snapshot (status_render.c): status.json, the summary,
 * and the RFC 3339 times the files carry. */
#ifndef HFINIT_STATUS_RENDER_H
#define HFINIT_STATUS_RENDER_H

#include <stddef.h>
#include <time.h>

#include "status/status.h"

/* updated_at is rendered as this placeholder, so that two renders of the same
 * state compare equal; the real time is patched in before writing. */
#define UPDATED_PLACEHOLDER "0000-00-00T00:00:00.000Z"

/* "2026-11-27T00:17:23.123Z" (RFC 3339, UTC, milliseconds). */
void status_rfc3339(const struct timespec *ts, char *buf, size_t n);
/* status.json for snap (pretty, newline-terminated) into *out (caller frees).
 * updated_at holds a fixed placeholder at byte *updated_off, so that equal
 * states render equal; the writer patches the time in. 0 or -1 (ENOMEM). */
int status_render(const struct status_snapshot *snap, char **out, size_t *outlen,
		  size_t *updated_off);
/* The upward STATUS= text: "degraded: 2/3 services ready; failed: tts". */
void status_summary(const struct status_snapshot *snap, char *buf, size_t n);
/* Our own format back ("2026-11-27T00:17:23.123Z"); 0 or -1. */
int status_parse_rfc3339(const char *s, struct timespec *ts);
/* CLOCK_REALTIME (time(2) if that fails). */
void status_now(struct timespec *ts);

#endif
