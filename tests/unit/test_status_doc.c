/* Unit tests: status.json from cached pieces (status_doc.c). After every
 * change, of any field of one service or of the top level, the cached build
 * equals a fresh rendering byte for byte, says whether it changed, and
 * renders only what changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "status/status_doc.h"
#include "status/status_read.h"

#define N 40

static struct status_service ss[N];
static char names[N][16], errbuf[N][64], notebuf[N][64];
static struct status_stage stages[2] = {{1, 5}, {2, -1}};
static struct status_snapshot snap;

static void make(void)
{
	memset(ss, 0, sizeof(ss));
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "svc-%zu", i);
		snprintf(errbuf[i], sizeof(errbuf[i]), "Error: %zu", i);
		notebuf[i][0] = '\0';
		ss[i].name = names[i];
		ss[i].state = i % 3 ? "ready" : "starting";
		ss[i].stage = 1 + i % 2;
		ss[i].required = i % 2;
		ss[i].pid = (pid_t)(100 + i);
		ss[i].attempt = 1;
		ss[i].attempts = 3;
		ss[i].started_at.tv_sec = 1795738643 + (time_t)i;
		ss[i].ready_ms = i % 3 ? (int64_t)(i * 7 % 10) : -1;
		ss[i].last_error = errbuf[i];
		ss[i].notify_status = notebuf[i];
		ss[i].command = "/bin/sleep 1000";
		ss[i].ready_spec = "started";
	}
	memset(&snap, 0, sizeof(snap));
	snap.state = "starting";
	snap.stage = 2;
	snap.exit_code = -1;
	snap.started_at.tv_sec = 1795738643;
	snap.services = ss;
	snap.nservices = N;
	snap.stages = stages;
	snap.nstages = 2;
}

/* d's document is the fresh rendering of snap, and valid JSON. */
static void check_same(struct status_doc *d)
{
	char *fresh, *joined, *p;
	size_t len, off, at = 0, n = status_doc_iov(d);

	assert_int_equal(status_render(&snap, &fresh, &len, &off), 0);
	assert_int_equal(d->len, len);
	assert_int_equal(d->off, off);
	assert_int_equal(fresh[len], '\0');
	assert_true(n > 0);
	p = joined = malloc(len);
	assert_non_null(joined);
	for (size_t i = 0; i < n; i++) {
		assert_true(p + d->iov[i].iov_len <= joined + len);
		memcpy(p, d->iov[i].iov_base, d->iov[i].iov_len);
		p += d->iov[i].iov_len;
	}
	assert_int_equal(p - joined, len);
	assert_memory_equal(joined, fresh, len);
	assert_memory_equal(fresh + off, "0000-00-00T00:00:00.000Z", 24);
	assert_int_equal(status_json_check(fresh, len, &at), 0);
	free(joined);
	free(fresh);
}

/* One build after a change: it reports a change (or not) and is right. */
static void build(struct status_doc *d, int want)
{
	assert_int_equal(status_doc_build(d, &snap), want);
	check_same(d);
}

static void test_first_build_and_no_change(void **state)
{
	struct status_doc d = {0};
	(void)state;
	make();
	build(&d, 1);
	build(&d, 0);
	snap.nservices = 0; /* "services": {} */
	build(&d, 1);
	snap.nservices = N;
	build(&d, 1);
	build(&d, 0);
	status_doc_free(&d);
}

static void test_each_kind_of_change(void **state)
{
	struct status_doc d = {0};
	char *text7, why[64];
	(void)state;
	make();
	build(&d, 1);
	text7 = d.frags[7].text.s;
	ss[3].errors++; /* a number of another service */
	build(&d, 1);
	assert_ptr_equal(d.frags[7].text.s, text7); /* the others are not rendered again */
	ss[3].state = "failed";
	ss[3].pid = 0;
	build(&d, 1);
	snprintf(errbuf[5], sizeof(errbuf[5]), "Error: 5 again"); /* a buffer, in place */
	build(&d, 1);
	snprintf(notebuf[6], sizeof(notebuf[6]), "loading"); /* in place, from empty */
	build(&d, 1);
	ss[6].notify_status = NULL;
	build(&d, 1);
	ss[10].state = "disabled"; /* disabled_reason: a buffer (sv.h), in place */
	ss[10].disabled_reason = why;
	snprintf(why, sizeof(why), "enabled = no");
	build(&d, 1);
	snprintf(why, sizeof(why), "condition env:X failed (not set)");
	build(&d, 1);
	ss[8].started_at.tv_nsec = 123000000; /* a time */
	build(&d, 1);
	ss[9].has_exit = true;
	ss[9].exit_signal = 9;
	build(&d, 1);
	ss[2].ready_ms = 900; /* the blame order */
	build(&d, 1);
	ss[4].ready_ms = -1; /* out of the blame list */
	build(&d, 1);
	snap.state = "degraded"; /* the top level */
	build(&d, 1);
	snap.output[1].dropped_lines = 2;
	snap.output[1].reason = "buffer full";
	build(&d, 1);
	stages[1].ready_ms = 44;
	build(&d, 1);
	snap.nservices = N / 2; /* fewer, then more again */
	build(&d, 1);
	snap.nservices = N;
	build(&d, 1);
	build(&d, 0);
	assert_ptr_equal(d.frags[7].text.s, text7);
	status_doc_free(&d);
}

/* Every field of STATUS_SERVICE_TEXTS: its text changed in place is seen. */
static void test_every_text_field_in_place(void **state)
{
	static const size_t off[] = {
#define OFF(f) offsetof(struct status_service, f)
	    STATUS_SERVICE_TEXTS(OFF),
#undef OFF
	};
	struct status_doc d = {0};
	char buf[32];
	const char *p = buf;
	(void)state;
	for (size_t k = 0; k < sizeof(off) / sizeof(off[0]); k++) {
		make();
		snprintf(buf, sizeof(buf), "text-a");
		memcpy((char *)&ss[11] + off[k], &p, sizeof(p));
		build(&d, 1);
		snprintf(buf, sizeof(buf), "text-b");
		build(&d, 1);
		build(&d, 0);
	}
	status_doc_free(&d);
}

/* The other string fields change by pointer (a static word, the plan's
 * text): a new pointer is seen, the name's in the blame list too. */
static void test_string_fields_by_pointer(void **state)
{
	static const size_t off[] = {
#define OFF(f) offsetof(struct status_service, f)
	    OFF(name),	 OFF(state),   OFF(stopped_by), OFF(error_category),
	    OFF(script), OFF(command), OFF(sandbox),	OFF(ready_spec),
#undef OFF
	};
	static const char *const a = "text-a", *const b = "text-b";
	struct status_doc d = {0};
	(void)state;
	for (size_t k = 0; k < sizeof(off) / sizeof(off[0]); k++) {
		make();
		memcpy((char *)&ss[12] + off[k], &a, sizeof(a));
		build(&d, 1);
		memcpy((char *)&ss[12] + off[k], &b, sizeof(b));
		build(&d, 1);
		build(&d, 0);
	}
	status_doc_free(&d);
}

/* A service is one line: its fields folded, its comma before it. */
static void test_one_line_per_service(void **state)
{
	struct status_doc d = {0};
	size_t n;
	(void)state;
	make();
	build(&d, 1);
	n = status_doc_iov(&d);
	assert_int_equal(n, N + 4);
	static const char first[] = "\n    \"svc-0\": {\"state\": \"starting\", \"stage\": 1, ";
	static const char second[] = ",\n    \"svc-1\": {\"state\": \"ready\", ";
	assert_memory_equal(d.iov[3].iov_base, first, sizeof(first) - 1);
	assert_memory_equal(d.iov[4].iov_base, second, sizeof(second) - 1);
	for (size_t i = 3; i < n - 1; i++) {
		const char *t = d.iov[i].iov_base;
		size_t l = d.iov[i].iov_len;
		assert_null(memchr(t + 2, '\n', l - 2)); /* no line break inside */
		assert_int_equal(t[l - 1], '}');
	}
	status_doc_free(&d);
}

/* snap.changed: only the marked services are compared (the caller's
 * promise); a skipped or failed build (stale) makes the next compare all. */
static void test_changed_marks(void **state)
{
	static unsigned char marks[N];
	struct status_doc d = {0};
	const char *text5;
	(void)state;
	make();
	build(&d, 1);
	snap.changed = marks;
	memset(marks, 0, sizeof(marks));
	build(&d, 0);
	ss[3].errors = 7;
	marks[3] = 1;
	build(&d, 1);
	marks[3] = 0;
	text5 = d.frags[5].text.s;
	ss[5].errors = 9; /* not marked: not looked at */
	assert_int_equal(status_doc_build(&d, &snap), 0);
	assert_ptr_equal(d.frags[5].text.s, text5);
	d.stale = true;
	build(&d, 1);
	assert_ptr_not_equal(d.frags[5].text.s, text5);
	snap.changed = NULL;
	build(&d, 0);
	status_doc_free(&d);
}

/* More pieces than one writev takes (IOV_MAX), some empty: the file is whole. */
static void test_write_atomicv_many_pieces(void **state)
{
	enum { NV = 2500 };
	static struct iovec v[NV];
	static char want[NV * 4];
	char dir[] = "/tmp/hfinit-doc-XXXXXX", file[64], got[NV * 4 + 1];
	size_t n = 0;
	int dfd, fd;
	ssize_t r;
	(void)state;
	for (size_t i = 0; i < NV; i++) {
		v[i].iov_base = (char *)"abcd" + i % 4;
		v[i].iov_len = i % 5 == 0 ? 0 : 4 - i % 4;
		memcpy(want + n, v[i].iov_base, v[i].iov_len);
		n += v[i].iov_len;
	}
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(status_write_atomicv(dfd, "status.json", v, NV), 0);
	snprintf(file, sizeof(file), "%s/status.json", dir);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	r = read(fd, got, sizeof(got));
	assert_int_equal(r, n);
	assert_memory_equal(got, want, n);
	assert_int_equal(close(fd), 0);
	assert_int_equal(unlinkat(dfd, "status.json", 0), 0);
	assert_int_equal(close(dfd), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_build_and_no_change),
	    cmocka_unit_test(test_each_kind_of_change),
	    cmocka_unit_test(test_every_text_field_in_place),
	    cmocka_unit_test(test_string_fields_by_pointer),
	    cmocka_unit_test(test_one_line_per_service),
	    cmocka_unit_test(test_changed_marks),
	    cmocka_unit_test(test_write_atomicv_many_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
