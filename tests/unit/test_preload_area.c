// SPDX-License-Identifier: MIT
/* The preload area in a whole session: waits joined to holder and releaser, the lock table's
 * ranking, an inversion from two edge records, and nothing for well-ordered edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/session.h"

#define T0 5000000000ULL
#define US 1000ULL
#define PID 999999 /* no such process: symbols stay unknown, addresses are shown */
#define BIG 0x1000
#define SMALL 0x2000

struct fx {
	struct session *s;
	char *json;
	size_t len;
	FILE *trace;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct session_opts o = { 0 };

	f->trace = tmpfile();
	o.trace_fd = fileno(f->trace);
	o.reorder_window_ns = 1000000;
	f->s = session_new(&o);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	session_free(f->s);
	fclose(f->trace);
	free(f->json);
	free(f);
	return 0;
}

static void hdr(struct weft_event_header *h, unsigned type, unsigned size, uint64_t ts, int tid)
{
	h->type = type;
	h->size = size;
	h->ts = ts;
	h->pid = PID;
	h->tid = tid;
}

static void wait_rec(struct fx *f, uint64_t lock, int tid, uint64_t from_us, uint64_t to_us,
		     int holder)
{
	struct weft_lock_wait_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_LOCK_WAIT, sizeof(e), T0 + to_us * US, tid);
	e.lock = lock;
	e.wait_start = T0 + from_us * US;
	e.kind = WEFT_LOCK_MUTEX;
	e.holder_tid = holder;
	assert_int_equal(session_push(f->s, &e, sizeof(e)), 0);
}

static void release_rec(struct fx *f, uint64_t lock, int tid, uint64_t at_us)
{
	struct weft_lock_release_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_LOCK_RELEASE, sizeof(e), T0 + at_us * US, tid);
	e.lock = lock;
	e.kind = WEFT_LOCK_MUTEX;
	assert_int_equal(session_push(f->s, &e, sizeof(e)), 0);
}

static void edge_rec(struct fx *f, uint64_t from, uint64_t to, int tid, uint64_t at_us)
{
	struct weft_lock_edge_event *e = calloc(1, sizeof(*e));

	hdr(&e->hdr, WEFT_EV_LOCK_EDGE, sizeof(*e), T0 + at_us * US, tid);
	e->from = from;
	e->to = to;
	e->from_kind = e->to_kind = WEFT_LOCK_MUTEX;
	e->to_caller = 0x401000;
	assert_int_equal(session_push(f->s, e, sizeof(*e)), 0);
	free(e);
}

static const char *summary(struct fx *f)
{
	FILE *m = open_memstream(&f->json, &f->len);

	assert_int_equal(session_finish(f->s, T0 + 100000 * US), 0);
	session_summary_json(f->s, m);
	fclose(m);
	return f->json;
}

static void test_waits_ranked_with_holder_and_releaser(void **state)
{
	struct fx *f = *state;
	const char *js, *big, *small;

	/* 11 holds BIG; 12 waits 100..300 us; 11 releases at 290 (waiters), 12 gets it at 300 */
	release_rec(f, BIG, 11, 290);
	wait_rec(f, BIG, 12, 100, 300, 11);
	/* 13 waits 200..900 us while 12 holds it; 12 releases at 890 */
	release_rec(f, BIG, 12, 890);
	wait_rec(f, BIG, 13, 200, 900, 12);
	/* SMALL: one short wait, no releaser seen */
	wait_rec(f, SMALL, 14, 1000, 1010, 15);
	js = summary(f);
	big = strstr(js, "\"lock\": \"0x1000\"");
	small = strstr(js, "\"lock\": \"0x2000\"");
	assert_non_null(big);
	assert_non_null(small);
	assert_true(big < small); /* most total wait first */
	/* no symbol: its address, as the lock area names it (lockname.h), the site beside it */
	assert_non_null(strstr(big, "\"label\": \"lock@0x1000\", \"site\": \""));
	assert_non_null(strstr(big, "\"waits\": 2, \"timeouts\": 0, \"total_wait_ns\": 900000, "
				    "\"max_wait_ns\": 700000"));
	assert_non_null(strstr(big, "\"waiters\": [12, 13], \"holders\": [{\"tid\": 11, "
				    "\"times\": 1}, {\"tid\": 12, \"times\": 1}], \"releasers\": "
				    "[{\"tid\": 11, \"times\": 1}, {\"tid\": 12, \"times\": 1}]"));
	assert_non_null(strstr(small, "\"releasers\": []"));
	assert_non_null(strstr(js, "\"inversions\": [\n  ]"));
}

static void test_inversion_once_well_ordered_quiet(void **state)
{
	struct fx *f = *state;
	const char *js, *inv;

	edge_rec(f, 0xa, 0xb, 21, 10);
	edge_rec(f, 0xc, 0xd, 21, 11);  /* well ordered: C -> D everywhere */
	edge_rec(f, 0xc, 0xd, 22, 40);  /* (a second thread, same edge: the shim dedups per
					 * process, the graph ignores repeats too) */
	edge_rec(f, 0xb, 0xa, 22, 50);
	js = summary(f);
	assert_non_null(strstr(js, "\"lock_order_edges\": 4"));
	inv = strstr(js, "\"inversions\": [");
	assert_non_null(inv);
	assert_non_null(strstr(inv, "{\"from\": \"0xa\", \"to\": \"0xb\", \"tid\": 21"));
	assert_non_null(strstr(inv, "{\"from\": \"0xb\", \"to\": \"0xa\", \"tid\": 22"));
	assert_null(strstr(inv, "0xc"));
	assert_null(strstr(strstr(inv, "0xb\", \"to\": \"0xa") + 1, "\"pid\"")); /* just one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_waits_ranked_with_holder_and_releaser, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inversion_once_well_ordered_quiet, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
