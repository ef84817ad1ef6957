/* status.json from cached pieces (status_doc.h). A service's piece is
 * rendered again only when one of its fields differs from the fields it was
 * rendered from: the struct byte for byte (every number, time and pointer;
 * a difference that does not show, such as padding, only costs a rendering),
 * and the texts of the strings that point into buffers (STATUS_SERVICE_TEXTS),
 * kept beside it, because a buffer can change in place. The blame list is
 * rendered again when a service's stage, ready_ms or name changed, the small
 * head and rest at every build. The writer writes the pieces with writev: no
 * copy of the whole document. */
#include "status/status_doc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

static const size_t str_off[] = {
#define STR_OFF(f) offsetof(struct status_service, f)
    STATUS_SERVICE_TEXTS(STR_OFF),
#undef STR_OFF
};
#define NSTR (sizeof(str_off) / sizeof(str_off[0]))

static const char *str_at(const struct status_service *s, size_t i)
{
	const char *p;

	memcpy(&p, (const char *)s + str_off[i], sizeof(p));
	return p;
}

/* The texts of s, each as a byte 0 (NULL) or 1 and the text with its NUL. */
static char *strs_copy(const struct status_service *s)
{
	size_t n = 0;
	char *b, *p;

	for (size_t i = 0; i < NSTR; i++)
		n += str_at(s, i) ? strlen(str_at(s, i)) + 2 : 1;
	b = p = malloc(n);
	for (size_t i = 0; b && i < NSTR; i++) {
		const char *v = str_at(s, i);
		size_t l = v ? strlen(v) + 1 : 0;
		*p++ = v != NULL;
		memcpy(p, v ? v : "", l);
		p += l;
	}
	return b;
}

/* b (strs_copy) holds the texts of s's strings. */
static bool strs_same(const char *b, const struct status_service *s)
{
	for (size_t i = 0; i < NSTR; i++) {
		const char *v = str_at(s, i);
		if (*b++ != (v != NULL))
			return false;
		while (v && *b == *v++)
			if (!*b++)
				v = NULL; /* both ended */
		if (v)
			return false;
	}
	return true;
}

/* a and b are equal byte for byte: 8 at a time (musl's memcmp goes byte by
 * byte, and this runs for every service at every publish). */
static bool same_bytes(const void *a, const void *b, size_t n)
{
	const char *x = a, *y = b;
	uint64_t u, v;

	for (; n >= 8; n -= 8, x += 8, y += 8) {
		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		if (u != v)
			return false;
	}
	return memcmp(x, y, n) == 0;
}

static bool text_same(const struct status_text *a, const struct status_text *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* t replaces *old; true when its text differs. */
static bool text_swap(struct status_text *old, struct status_text t)
{
	bool differs = !old->s || !text_same(old, &t);

	free(old->s);
	*old = t;
	return differs;
}

/* Service i again when its fields changed. 1: its text changed, 0: not,
 * -1: ENOMEM (the piece is dropped and redone next time). *blame: the blame
 * list must be rendered again. */
static int frag_update(struct status_frag *f, const struct status_service *s, bool *blame)
{
	struct status_text t;
	char *strs;

	if (f->valid && same_bytes(&f->key, s, sizeof(*s)) && strs_same(f->strs, s))
		return 0;
	if (!f->valid || f->key.stage != s->stage || f->key.ready_ms != s->ready_ms ||
	    f->key.name != s->name)
		*blame = true;
	f->valid = false;
	strs = strs_copy(s);
	if (!strs || status_render_service(s, &t) < 0) {
		free(strs);
		return -1;
	}
	free(f->strs);
	f->strs = strs;
	f->key = *s;
	f->valid = true;
	return text_swap(&f->text, t) ? 1 : 0;
}

/* One frag per service: new ones empty, dropped ones freed. */
static int frags_resize(struct status_doc *d, size_t n)
{
	struct status_frag *nf;

	for (size_t i = n; i < d->nfrags; i++) {
		free(d->frags[i].strs);
		free(d->frags[i].text.s);
	}
	if (n < d->nfrags || !n) {
		d->nfrags = n;
		return 0;
	}
	nf = realloc(d->frags, n * sizeof(*nf));
	if (!nf)
		return -1;
	memset(nf + d->nfrags, 0, (n - d->nfrags) * sizeof(*nf));
	d->frags = nf;
	d->nfrags = n;
	return 0;
}

static const char tail[] = "\n  }\n}\n"; /* "}\n}\n" (from tail + 3): no service */

size_t status_doc_iov(struct status_doc *d)
{
	size_t n = 0, need = d->nfrags + 4;
	struct iovec *v = d->iov;

	if (need > d->iovcap) {
		v = realloc(d->iov, need * sizeof(*v));
		if (!v)
			return 0;
		d->iov = v;
		d->iovcap = need;
	}
	v[n++] = (struct iovec){d->head.s, d->head.len};
	v[n++] = (struct iovec){d->blame.s, d->blame.len};
	v[n++] = (struct iovec){d->rest.s, d->rest.len};
	/* each service's piece starts with its comma: the first one's is left out */
	for (size_t i = 0; i < d->nfrags; i++)
		v[n++] = (struct iovec){d->frags[i].text.s + !i, d->frags[i].text.len - !i};
	v[n++] = d->nfrags ? (struct iovec){(char *)tail, 7} : (struct iovec){(char *)tail + 3, 4};
	return n;
}

/* The small pieces, rendered each time: true when one differs. */
static int small_pieces(struct status_doc *d, const struct status_snapshot *snap, bool blame,
			size_t *off)
{
	struct status_text t;
	bool changed = false;

	if (status_render_piece(SP_HEAD, snap, &t, off) < 0)
		return -1;
	changed |= text_swap(&d->head, t);
	if (blame || !d->blame.s) {
		if (status_render_piece(SP_BLAME, snap, &t, NULL) < 0)
			return -1;
		changed |= text_swap(&d->blame, t);
	}
	if (status_render_piece(SP_REST, snap, &t, NULL) < 0)
		return -1;
	changed |= text_swap(&d->rest, t);
	return changed;
}

int status_doc_build(struct status_doc *d, const struct status_snapshot *snap)
{
	bool changed = d->stale || !d->head.s || d->nfrags != snap->nservices, blame = changed;
	bool all = changed || !snap->changed; /* else only the services marked changed */
	size_t off = 0;
	int r;

	d->stale = true; /* until this build is through */
	if (frags_resize(d, snap->nservices) < 0)
		goto nomem;
	for (size_t i = 0; i < snap->nservices; i++) {
		if (!all && !snap->changed[i])
			continue;
		r = frag_update(&d->frags[i], &snap->services[i], &blame);
		if (r < 0)
			goto nomem;
		changed |= r;
	}
	r = small_pieces(d, snap, blame, &off);
	if (r < 0)
		goto nomem;
	changed |= r;
	d->off = off;
	d->len = d->head.len + d->blame.len + d->rest.len + (d->nfrags ? 7 - 1 : 4);
	for (size_t i = 0; i < d->nfrags; i++)
		d->len += d->frags[i].text.len;
	d->stale = false;
	return changed;
nomem:
	errno = ENOMEM;
	return -1;
}

void status_doc_free(struct status_doc *d)
{
	(void)frags_resize(d, 0);
	free(d->frags);
	free(d->head.s);
	free(d->blame.s);
	free(d->rest.s);
	free(d->iov);
	memset(d, 0, sizeof(*d));
}

int status_render(const struct status_snapshot *snap, char **out, size_t *outlen,
		  size_t *updated_off)
{
	struct status_doc d = {0};
	size_t n;
	char *p;

	if (status_doc_build(&d, snap) < 0 || (n = status_doc_iov(&d)) == 0 ||
	    !(*out = p = malloc(d.len + 1))) {
		status_doc_free(&d);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(p, d.iov[i].iov_base, d.iov[i].iov_len);
		p += d.iov[i].iov_len;
	}
	*p = '\0';
	*outlen = d.len;
	if (updated_off)
		*updated_off = d.off;
	status_doc_free(&d);
	return 0;
}
