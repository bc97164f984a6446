// SPDX-License-Identifier: MIT
/* Reorder buffer: ts order out, push order kept for ties, the window held back, late counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/reorder.h"

#define MAXOUT 8192

/* What came out, in order; the tid carries a tag to tell records with equal ts apart. */
struct out {
	size_t n;
	uint64_t ts[MAXOUT];
	uint32_t tag[MAXOUT];
	char comm[MAXOUT][WEFT_COMM_LEN];
};

static void collect(void *ctx, const struct weft_event_header *h)
{
	struct out *o = ctx;
	const struct weft_comm_event *e = (const void *)h;

	assert_true(o->n < MAXOUT);
	assert_int_equal(h->size, sizeof(*e));
	o->ts[o->n] = h->ts;
	o->tag[o->n] = h->tid;
	memcpy(o->comm[o->n], e->comm, WEFT_COMM_LEN);
	o->n++;
}

static void push(struct reorder *r, uint64_t ts, uint32_t tag)
{
	struct weft_comm_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = WEFT_EV_COMM;
	e.hdr.size = sizeof(e);
	e.hdr.cpu = tag % 4;
	e.hdr.ts = ts;
	e.hdr.pid = 1000;
	e.hdr.tid = tag;
	snprintf(e.comm, sizeof(e.comm), "t%u", tag);
	/* e dies on return: the buffer must keep a copy, which collect() then reads */
	assert_int_equal(reorder_push(r, &e.hdr), 0);
}

static struct out *out_new(void)
{
	struct out *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	return o;
}

/* Out in time order, records with equal timestamps in the order they were pushed. */
static void assert_in_order(const struct out *o)
{
	for (size_t i = 1; i < o->n; i++) {
		assert_true(o->ts[i - 1] <= o->ts[i]);
		if (o->ts[i - 1] == o->ts[i])
			assert_true(o->tag[i - 1] < o->tag[i]);
	}
}

static void test_sorted_by_ts(void **state)
{
	const uint64_t ts[] = { 50, 10, 40, 20, 30, 15, 45, 5 };
	struct out *o = out_new();
	struct reorder r;

	reorder_init(&r, 1000);
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		push(&r, 1000000 + ts[i], i);
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 8);
	for (size_t i = 1; i < o->n; i++)
		assert_true(o->ts[i - 1] < o->ts[i]);
	assert_int_equal(o->ts[0], 1000005);
	assert_int_equal(o->tag[0], 7);
	assert_string_equal(o->comm[0], "t7");
	assert_int_equal(r.len, 0);
	assert_int_equal(r.late, 0);
	reorder_free(&r);
	free(o);
}

/* A switch and the stack taken with it share a timestamp and must stay in that order. */
static void test_equal_ts_keep_push_order(void **state)
{
	struct out *o = out_new();
	struct reorder r;
	uint32_t tag = 0;

	reorder_init(&r, 0);
	/* interleave three timestamps, four records each, pushed newest first */
	for (int round = 0; round < 4; round++)
		for (uint64_t ts = 3; ts >= 1; ts--)
			push(&r, ts * 1000, tag++);
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 12);
	assert_in_order(o);
	reorder_free(&r);
	free(o);
}

static void test_window_held_back(void **state)
{
	struct out *o = out_new();
	struct reorder r;

	reorder_init(&r, 1000);
	/* newest below the window: nothing is old enough yet */
	push(&r, 500, 1);
	reorder_release(&r, 0, collect, o);
	assert_int_equal(o->n, 0);

	push(&r, 5000, 2);
	push(&r, 4500, 3);
	push(&r, 4000, 4); /* exactly newest - window: old enough */
	push(&r, 4100, 5);
	reorder_release(&r, 0, collect, o);
	assert_int_equal(o->n, 2);
	assert_int_equal(o->ts[0], 500);
	assert_int_equal(o->ts[1], 4000);
	assert_int_equal(r.len, 3);

	/* nothing new: releasing again changes nothing */
	reorder_release(&r, 0, collect, o);
	assert_int_equal(o->n, 2);

	push(&r, 6000, 6);
	reorder_release(&r, 0, collect, o);
	assert_int_equal(o->n, 5);
	assert_int_equal(o->ts[2], 4100);
	assert_int_equal(o->ts[3], 4500);
	assert_int_equal(o->ts[4], 5000);

	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 6);
	assert_int_equal(o->ts[5], 6000);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.late, 0);
	reorder_free(&r);
	free(o);
}

static void test_late_counted(void **state)
{
	struct out *o = out_new();
	struct reorder r;

	reorder_init(&r, 100);
	push(&r, 1000, 1);
	push(&r, 2000, 2);
	reorder_release(&r, 0, collect, o); /* releases 1000 */
	assert_int_equal(o->n, 1);

	push(&r, 1000, 3); /* equal to the last released: still in order */
	assert_int_equal(r.late, 0);
	push(&r, 999, 4);  /* older than something released: late */
	assert_int_equal(r.late, 1);
	push(&r, 1500, 5); /* newer than what was released: fine */
	assert_int_equal(r.late, 1);

	/* a late record is still delivered, not dropped */
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 5);
	assert_int_equal(o->tag[1], 4);
	assert_int_equal(o->tag[2], 3);
	reorder_free(&r);
	free(o);
}

/* More records than the first allocation, some left inside at free: nothing may leak
 * (checked by hand with valgrind --leak-check=full). */
static void test_many_and_free(void **state)
{
	struct out *o = out_new();
	struct reorder r;
	uint64_t seed = 1;

	reorder_init(&r, 1000000);
	for (uint32_t i = 0; i < 5000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		push(&r, 1000000 + i * 1000 + (seed >> 33) % 500000, i);
	}
	reorder_release(&r, 0, collect, o);
	assert_true(o->n > 0 && o->n < 5000);
	for (size_t i = 1; i < o->n; i++)
		assert_true(o->ts[i - 1] <= o->ts[i]);
	assert_int_equal(o->n + r.len, 5000);
	reorder_free(&r);
	assert_int_equal(r.len, 0);
	free(o);
}

/*
 * Per-CPU rings drained one after another: each drain brings one sorted run per CPU, the
 * CPUs' runs overlapping in time and sharing some timestamps. Over several drains with a
 * window, everything comes out in time order, ties in arrival order, and nothing is late.
 */
static void test_cpu_runs_over_drains(void **state)
{
	struct out *o = out_new();
	struct reorder r;
	uint32_t tag = 0;

	reorder_init(&r, 3000);
	for (uint64_t drain = 0; drain < 4; drain++) {
		for (uint64_t cpu = 0; cpu < 3; cpu++)
			for (uint64_t i = 0; i < 200; i++)
				push(&r, 1000000 + drain * 10000 + i * 50 + (cpu == 2 ? 0 : cpu * 7),
				     tag++);
		reorder_advance(&r, 1000000 + drain * 10000 + 10000);
		reorder_release(&r, 0, collect, o);
	}
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 2400);
	assert_in_order(o);
	assert_int_equal(r.late, 0);
	reorder_free(&r);
	free(o);
}

/*
 * Many runs at once (40 rings of 30 records each, then 3, then 40 again), their timestamps
 * shared between rings, over drains that leave some held: out in ts order, ties in arrival
 * order.
 */
static void test_many_runs_keep_order_and_ties(void **state)
{
	struct out *o = out_new();
	struct reorder r;
	uint32_t tag = 0;

	reorder_init(&r, 500);
	for (uint64_t drain = 0; drain < 3; drain++) {
		for (uint64_t ring = 0; ring < (drain == 1 ? 3 : 40); ring++)
			for (uint64_t i = 0; i < 30; i++)
				push(&r, 1000000 + drain * 3000 + i * 100 + (ring / 2 % 3) * 10, tag++);
		reorder_advance(&r, 1000000 + drain * 3000 + 3000);
		reorder_release(&r, 0, collect, o);
		assert_true(r.len > 0); /* the last 500 ns of each drain stay */
	}
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, (40 + 3 + 40) * 30);
	assert_in_order(o);
	assert_int_equal(r.late, 0);
	reorder_free(&r);
	free(o);
}

/*
 * A drain slower than the window: ring 0 is read at 10 000, ring 1 only at 50 000 (weft was
 * preempted in between), so ring 1 brings records up to 50 000 while ring 0's from 10 000 on are
 * still in it. Released by the drain's clock (taken as it began), not by the newest record,
 * those come next drain and are not late.
 */
static void test_slow_drain_not_late(void **state)
{
	struct out *o = out_new();
	struct reorder r;
	uint32_t tag = 0;

	reorder_init(&r, 5000);
	for (uint64_t ts = 1000; ts < 10000; ts += 100)
		push(&r, ts, tag++); /* ring 0 */
	for (uint64_t ts = 1050; ts < 50000; ts += 100)
		push(&r, ts, tag++); /* ring 1 */
	reorder_advance(&r, 9000); /* the drain began at 9 000 */
	reorder_release(&r, 0, collect, o);
	assert_true(o->n > 0);
	assert_true(o->ts[o->n - 1] <= 4000);
	for (uint64_t ts = 10000; ts < 60000; ts += 100)
		push(&r, ts, tag++); /* ring 0, next drain */
	assert_int_equal(r.late, 0);
	reorder_advance(&r, 55000);
	reorder_release(&r, 1, collect, o);
	for (size_t i = 1; i < o->n; i++)
		assert_true(o->ts[i - 1] <= o->ts[i]);
	assert_int_equal(r.late, 0);
	reorder_free(&r);
	free(o);
}

/*
 * A long recording through a short window: the chunks records are copied into are reused once
 * released, so the buffer does not grow with the length of the recording, and records held
 * across chunk boundaries come out intact.
 */
static void test_chunks_reused(void **state)
{
	struct out *o = out_new();
	struct reorder r;
	uint32_t tag = 0;
	uint64_t ts = 1000000;

	reorder_init(&r, 20000);
	for (int drain = 0; drain < 400; drain++) {
		for (int i = 0; i < 100; i++, ts += 100)
			push(&r, ts, tag++);
		reorder_release(&r, 0, collect, o);
		assert_true(o->n < MAXOUT);
		o->n = 0; /* only the latest drain is checked */
	}
	/* ~40000 records of 48 bytes went through; ~200 are held at a time */
	assert_true(r.nchunks <= 3);
	reorder_release(&r, 1, collect, o);
	assert_int_equal(r.len, 0);
	for (size_t i = 0; i < o->n; i++) {
		char want[WEFT_COMM_LEN];

		snprintf(want, sizeof(want), "t%u", o->tag[i]);
		assert_string_equal(o->comm[i], want);
	}
	reorder_free(&r);
	free(o);
}

static void test_release_empty(void **state)
{
	struct out *o = out_new();
	struct reorder r;

	reorder_init(&r, 1000);
	reorder_release(&r, 0, collect, o);
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 0);
	reorder_free(&r);
	free(o);
}

/*
 * Records kept in the caller's memory (the BPF rings read in place): what a release leaves held
 * is copied before it returns, so the caller may reuse the memory; order holds across both.
 */
static void test_kept_records_survive_their_memory(void **state)
{
	struct weft_comm_event ring[6];
	struct reorder r;
	struct out *o = out_new();

	reorder_init(&r, 100);
	for (int i = 0; i < 6; i++) {
		memset(&ring[i], 0, sizeof(ring[i]));
		ring[i].hdr.type = WEFT_EV_COMM;
		ring[i].hdr.size = sizeof(ring[i]);
		ring[i].hdr.ts = 1000 + 50 * (i % 3) + (i >= 3 ? 10 : 0); /* two CPUs' runs */
		ring[i].hdr.tid = i;
		snprintf(ring[i].comm, sizeof(ring[i].comm), "k%d", i);
		assert_int_equal(reorder_keep(&r, &ring[i].hdr), 0);
	}
	push(&r, 1020, 99); /* a copied one among them */
	/* newest 1110, window 100: up to 1010 goes (ts 1000 and 1010), the rest is held */
	reorder_release(&r, 0, collect, o);
	assert_int_equal(o->n, 2);
	assert_int_equal(o->tag[0], 0);
	assert_int_equal(o->tag[1], 3);
	memset(ring, 0xa5, sizeof(ring)); /* the ring space is reused */
	reorder_release(&r, 1, collect, o);
	assert_int_equal(o->n, 7);
	uint32_t want[] = { 0, 3, 99, 1, 4, 2, 5 };
	for (int i = 0; i < 7; i++) {
		char name[WEFT_COMM_LEN];

		assert_int_equal(o->tag[i], want[i]);
		snprintf(name, sizeof(name), want[i] == 99 ? "t%u" : "k%u", want[i]);
		assert_string_equal(o->comm[i], name);
	}
	assert_int_equal(r.late, 0);
	reorder_free(&r);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_by_ts),
		cmocka_unit_test(test_equal_ts_keep_push_order),
		cmocka_unit_test(test_window_held_back),
		cmocka_unit_test(test_late_counted),
		cmocka_unit_test(test_many_and_free),
		cmocka_unit_test(test_cpu_runs_over_drains),
		cmocka_unit_test(test_many_runs_keep_order_and_ties),
		cmocka_unit_test(test_slow_drain_not_late),
		cmocka_unit_test(test_chunks_reused),
		cmocka_unit_test(test_release_empty),
		cmocka_unit_test(test_kept_records_survive_their_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
