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
 * states render equal; the writer patches the time in. 0 or -1 (ENOMEM).
 * (status_doc.c: the same document as the writer's, without its cache.) */
int status_render(const struct status_snapshot *snap, char **out, size_t *outlen,
		  size_t *updated_off);

/* A rendered piece of status.json (malloc'd, not NUL-terminated). */
struct status_text {
	char *s;
	size_t len;
};

/* The pieces status_doc.c joins: the head ("{" .. "stages", the updated_at
 * placeholder at *updated_off), the blame (",\n  \"blame\": [...]") and the
 * rest ("output", then "services": { left open). 0 or -1 (ENOMEM). */
enum status_piece { SP_HEAD, SP_BLAME, SP_REST };
int status_render_piece(enum status_piece which, const struct status_snapshot *snap,
			struct status_text *t, size_t *updated_off);
/* One service on one line, ",\n    \"NAME\": {...}", as a later item of
 * "services" (the joiner leaves the first service's comma out). 0 or -1
 * (ENOMEM). */
int status_render_service(const struct status_service *s, struct status_text *t);
/* The upward STATUS= text: "degraded: 2/3 services ready; failed: tts". */
void status_summary(const struct status_snapshot *snap, char *buf, size_t n);
/* Our own format back ("2026-11-27T00:17:23.123Z"); 0 or -1. */
int status_parse_rfc3339(const char *s, struct timespec *ts);
/* CLOCK_REALTIME (time(2) if that fails). */
void status_now(struct timespec *ts);

#endif
