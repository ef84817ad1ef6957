/* status.json assembled from cached pieces (status_doc.c): each service's
 * rendering is kept and redone only when that service's fields changed, so a
 * publish costs what changed plus one copy of the document, not a rendering
 * of every service. */
#ifndef HFINIT_STATUS_DOC_H
#define HFINIT_STATUS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "status/status.h"
#include "status/status_render.h"

struct status_frag {
	struct status_service key; /* the fields it was rendered from */
	char *strs;		   /* the texts of its buffers (STATUS_SERVICE_TEXTS) */
	struct status_text text;
	bool valid;
};

struct status_doc {
	size_t len, off;	   /* the document's length; the updated_at placeholder in head */
	struct status_frag *frags; /* one per service, in order */
	size_t nfrags;
	struct status_text head, blame, rest;
	bool stale;	   /* a build failed half-way or was skipped: the next one
			    * compares every service, and writes */
	struct iovec *iov; /* status_doc_iov() */
	size_t iovcap;
};

/* Bring the pieces up to snap, rendering only the services whose fields
 * changed since the last build (of those snap->changed marks, when it is
 * set and the last build went through). 1 when the document differs from
 * the last one, 0 when it is byte for byte the same, -1 (ENOMEM; the next
 * build reports a change). */
int status_doc_build(struct status_doc *d, const struct status_snapshot *snap);
/* The document as d->iov[0..n) (head, blame, rest, the services, the
 * end), to write with writev; n, or 0 (ENOMEM). */
size_t status_doc_iov(struct status_doc *d);
void status_doc_free(struct status_doc *d);

#endif
