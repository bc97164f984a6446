// SPDX-License-Identifier: MIT
/* The preload ring: order, wraparound with padding, losses when full, many producers at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "weft/events.h"
#include "weft/preload_ring.h"

#define DATA (64 * 1024)

struct rec {
	struct weft_event_header hdr;
	uint64_t seq;
	uint8_t fill[40];
};

static void *new_ring(struct weft_ring *r, uint32_t data)
{
	void *base = calloc(1, WEFT_RING_HDR_SIZE + data);

	assert_non_null(base);
	weft_ring_init(r, base, data, 42, 1, 1000);
	return base;
}

static int put(struct weft_ring *r, uint32_t tid, uint64_t seq, uint32_t size)
{
	struct rec *e;
	uint64_t pos;

	e = weft_ring_reserve(r, size, &pos);
	if (!e)
		return -1;
	memset(e, 0, size);
	e->hdr.type = WEFT_EV_COMM;
	e->hdr.size = size;
	e->hdr.tid = tid;
	e->seq = seq;
	weft_ring_commit(r, pos, size);
	return 0;
}

struct seen {
	uint64_t n;
	uint64_t next[16];   /* per producer: the next seq expected */
	uint64_t bad;
	uint32_t size;
};

static int check_rec(void *ctx, const void *data, size_t len)
{
	struct seen *s = ctx;
	const struct rec *e = data;

	if (len != e->hdr.size || (s->size && len != s->size) || e->hdr.tid >= 16 ||
	    e->seq != s->next[e->hdr.tid])
		s->bad++;
	else
		s->next[e->hdr.tid]++;
	s->n++;
	return 0;
}

static void test_header_layout(void **state)
{
	assert_int_equal(offsetof(struct weft_ring_header, prod) % 64, 0);
	assert_int_equal(offsetof(struct weft_ring_header, cons) % 64, 0);
	assert_true(sizeof(struct weft_ring_header) <= WEFT_RING_HDR_SIZE);
	assert_true(sizeof(struct weft_lock_edge_event) < DATA / 2);
}

static void test_single_producer_order(void **state)
{
	struct weft_ring r;
	void *base = new_ring(&r, DATA);
	struct seen s = { .size = sizeof(struct rec) };

	assert_int_equal(weft_ring_consume(&r, check_rec, &s), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(put(&r, 0, i, sizeof(struct rec)), 0);
	assert_int_equal(weft_ring_consume(&r, check_rec, &s), 100);
	assert_int_equal(s.bad, 0);
	assert_int_equal(r.hdr->prod, r.hdr->cons);
	free(base);
}

/* Odd sizes so entries end at every alignment before the end: pads must be skipped. */
static void test_wraparound(void **state)
{
	struct weft_ring r;
	void *base = new_ring(&r, DATA);
	struct seen s = { 0 };
	uint64_t total = 0;

	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 37; i++) {
			uint32_t size = sizeof(struct rec) + (round * 37 + i) % 200;

			assert_int_equal(put(&r, 0, total++, size), 0);
		}
		weft_ring_consume(&r, check_rec, &s);
	}
	assert_int_equal(s.n, total);
	assert_int_equal(s.bad, 0);
	assert_true(r.hdr->prod > 4 * DATA); /* wrapped several times */
	assert_int_equal(r.hdr->lost[WEFT_LOSS_PRELOAD_RING_FULL], 0);
	free(base);
}

static void test_full_counts_losses(void **state)
{
	struct weft_ring r;
	void *base = new_ring(&r, DATA);
	struct seen s = { .size = sizeof(struct rec) };
	int ok = 0, lost = 0;

	for (int i = 0; i < 5000; i++) {
		if (put(&r, 0, ok, sizeof(struct rec)) == 0)
			ok++;
		else
			lost++;
	}
	assert_true(lost > 0);
	assert_int_equal(r.hdr->lost[WEFT_LOSS_PRELOAD_RING_FULL], lost);
	assert_int_equal(weft_ring_consume(&r, check_rec, &s), ok);
	assert_int_equal(s.bad, 0);
	/* room again after draining */
	assert_int_equal(put(&r, 0, ok, sizeof(struct rec)), 0);
	assert_int_equal(weft_ring_consume(&r, check_rec, &s), 1);
	free(base);
}

/* A reservation not yet published stops the consumer; nothing behind it is lost. */
static void test_unpublished_blocks_consumer(void **state)
{
	struct weft_ring r;
	void *base = new_ring(&r, DATA);
	struct seen s = { .size = sizeof(struct rec) };
	struct rec *e;
	uint64_t pos = 0;

	assert_int_equal(put(&r, 0, 0, sizeof(struct rec)), 0);
	e = weft_ring_reserve(&r, sizeof(struct rec), &pos);
	assert_non_null(e);
	assert_int_equal(put(&r, 1, 0, sizeof(struct rec)), 0);
	assert_int_equal(weft_ring_consume(&r, check_rec, &s), 1);
	memset(e, 0, sizeof(*e));
	e->hdr.size = sizeof(struct rec);
	e->hdr.tid = 0;
	e->seq = 1;
	weft_ring_commit(&r, pos, sizeof(struct rec));
	assert_int_equal(weft_ring_consume(&r, check_rec, &s), 2);
	assert_int_equal(s.bad, 0);
	free(base);
}

/* Counts the records handed over, whatever they hold. */
static int count_rec(void *ctx, const void *data, size_t len)
{
	(*(long *)ctx)++;
	return 0;
}

/*
 * The ring is the traced program's memory: entries that claim more than the ring holds, or a
 * size that is not whole words, stop the reading before anything is read from or written past
 * the ring, and a header whose size changed after the ring was attached is not believed.
 */
static void test_corrupt_entries_stop_the_consumer(void **state)
{
	static const uint32_t words[] = {
		WEFT_RING_LEN_MASK,            /* a record longer than the ring */
		DATA - 8 + 1,                  /* one byte too long for the ring */
		WEFT_RING_DISCARD | 12,        /* padding of a part of a word */
		WEFT_RING_DISCARD | (DATA + 8),/* padding past the end */
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		struct weft_ring r;
		void *base = new_ring(&r, DATA);
		long handed = 0;

		assert_int_equal(put(&r, 0, 0, sizeof(struct rec)), 0);
		assert_int_equal(put(&r, 0, 1, sizeof(struct rec)), 0);
		/* the second entry's length word, as a misbehaving program might leave it */
		*(uint32_t *)(r.data + weft_ring_entry_size(sizeof(struct rec))) = words[i];
		r.hdr->data_size = 1u << 31; /* and a new size: the attached one counts */
		assert_int_equal(weft_ring_consume(&r, count_rec, &handed), 1);
		assert_int_equal(handed, 1);
		assert_int_equal(r.hdr->cons, weft_ring_entry_size(sizeof(struct rec)));
		free(base);
	}
}

struct producer {
	struct weft_ring *r;
	uint32_t tid;
	uint64_t sent;
	int stop;
};

#define PER_PRODUCER 200000

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (uint64_t i = 0; i < PER_PRODUCER; i++)
		if (put(p->r, p->tid, p->sent, sizeof(struct rec)) == 0)
			p->sent++;
	return NULL;
}

static void test_multi_producer(void **state)
{
	struct weft_ring r;
	void *base = new_ring(&r, DATA);
	struct producer p[4];
	pthread_t t[4];
	struct seen s = { .size = sizeof(struct rec) };
	uint64_t sent = 0, lost;
	int done = 0, joined[4] = { 0 };

	for (int i = 0; i < 4; i++) {
		p[i] = (struct producer){ &r, i, 0, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	while (!done) {
		weft_ring_consume(&r, check_rec, &s);
		done = 1;
		for (int i = 0; i < 4; i++) {
			if (!joined[i] && pthread_tryjoin_np(t[i], NULL) == 0)
				joined[i] = 1;
			done &= joined[i];
		}
	}
	weft_ring_consume(&r, check_rec, &s);
	for (int i = 0; i < 4; i++) {
		sent += p[i].sent;
		assert_int_equal(s.next[i], p[i].sent); /* per producer: all, in order */
	}
	lost = r.hdr->lost[WEFT_LOSS_PRELOAD_RING_FULL];
	assert_int_equal(sent + lost, 4 * PER_PRODUCER);
	assert_int_equal(s.n, sent);
	assert_int_equal(s.bad, 0);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_single_producer_order),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_full_counts_losses),
		cmocka_unit_test(test_unpublished_blocks_consumer),
		cmocka_unit_test(test_corrupt_entries_stop_the_consumer),
		cmocka_unit_test(test_multi_producer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
