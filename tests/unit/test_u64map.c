// SPDX-License-Identifier: MIT
/* u64map against a reference array: inserts, replaces, deletes inside probe runs, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/u64map.h"

#define NKEYS 20000
#define FIRST_CAP 64

/* The map's mixer, copied so the collision tests can aim at one home slot. Should the map's
 * hash change these keys merely stop colliding: the tests still pass, only weaker. */
static size_t home_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return key & (cap - 1);
}

/* Reference: keys[i] is live iff live[i]; its value is &vals[i]. */
struct ref {
	size_t n;
	uint64_t *keys;
	char *live;
	int *vals;
};

static void ref_init(struct ref *r, size_t n)
{
	r->n = n;
	r->keys = calloc(n, sizeof(*r->keys));
	r->live = calloc(n, 1);
	r->vals = calloc(n, sizeof(*r->vals));
	assert_true(r->keys && r->live && r->vals);
}

static void ref_free(struct ref *r)
{
	free(r->keys);
	free(r->live);
	free(r->vals);
}

/* Every reference key is found (or not) as it should, and iteration sees each live one once. */
static void check(const struct u64map *m, const struct ref *r)
{
	char *seen = calloc(r->n, 1);
	size_t live = 0, visited = 0;
	uint64_t k;
	void *v;

	assert_non_null(seen);
	for (size_t i = 0; i < r->n; i++) {
		if (r->live[i]) {
			live++;
			assert_ptr_equal(u64map_get(m, r->keys[i]), &r->vals[i]);
		} else {
			assert_null(u64map_get(m, r->keys[i]));
		}
	}
	assert_int_equal(m->len, live);
	for (size_t pos = 0; u64map_next(m, &pos, &k, &v);) {
		size_t i = (int *)v - r->vals;

		assert_true(i < r->n);
		assert_true(r->live[i]);
		assert_int_equal(r->keys[i], k);
		assert_false(seen[i]);
		seen[i] = 1;
		visited++;
	}
	assert_int_equal(visited, live);
	free(seen);
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_empty(void **state)
{
	struct u64map m = { 0 };
	size_t pos = 0;
	uint64_t k;
	void *v;

	assert_null(u64map_get(&m, 0));
	assert_null(u64map_get(&m, 42));
	assert_null(u64map_del(&m, 42));
	assert_int_equal(u64map_next(&m, &pos, &k, &v), 0);
	u64map_free(&m);
}

static void test_many_keys(void **state)
{
	struct u64map m = { 0 };
	struct ref r;
	int spare;

	ref_init(&r, NKEYS);
	/* key 0 and all-ones are ordinary keys: emptiness is a NULL value, not a key */
	r.keys[0] = 0;
	r.keys[1] = UINT64_MAX;
	/* small sequential keys, like tids */
	for (size_t i = 2; i < 5000; i++)
		r.keys[i] = i;
	for (size_t i = 5000; i < NKEYS; i++)
		r.keys[i] = rng() | 1ULL << 40; /* stays clear of the sequential ones */

	for (size_t i = 0; i < NKEYS; i++) {
		assert_int_equal(u64map_put(&m, r.keys[i], &r.vals[i]), 0);
		r.live[i] = 1;
	}
	check(&m, &r);
	assert_true(m.cap >= NKEYS && (m.cap & (m.cap - 1)) == 0);

	/* replacing keeps the count */
	assert_int_equal(u64map_put(&m, r.keys[7], &spare), 0);
	assert_int_equal(m.len, NKEYS);
	assert_ptr_equal(u64map_get(&m, r.keys[7]), &spare);
	assert_int_equal(u64map_put(&m, r.keys[7], &r.vals[7]), 0);

	/* delete about half, in a random order, checking from time to time */
	for (size_t n = 0; n < NKEYS; n++) {
		size_t i = rng() % NKEYS;

		if (!r.live[i]) {
			assert_null(u64map_del(&m, r.keys[i]));
			continue;
		}
		assert_ptr_equal(u64map_del(&m, r.keys[i]), &r.vals[i]);
		r.live[i] = 0;
		if (n % 2000 == 0)
			check(&m, &r);
	}
	check(&m, &r);

	/* and back in */
	for (size_t i = 0; i < NKEYS; i += 3) {
		if (!r.live[i]) {
			assert_int_equal(u64map_put(&m, r.keys[i], &r.vals[i]), 0);
			r.live[i] = 1;
		}
	}
	check(&m, &r);
	u64map_free(&m);
	assert_int_equal(m.len, 0);
	assert_null(u64map_get(&m, r.keys[0]));
	ref_free(&r);
}

/* Keys whose home is `home` in a table of FIRST_CAP slots. */
static void colliding(uint64_t *out, size_t n, size_t home, uint64_t start)
{
	for (uint64_t k = start; n; k++) {
		if (home_of(k, FIRST_CAP) == home) {
			*out++ = k;
			n--;
		}
	}
}

/*
 * Two interleaved probe runs in a table that does not grow (fewer than 3/4 of 64 entries):
 * deleting from the head, middle and tail of a run must shift later entries back correctly.
 * The second set starts at the last slot so its run wraps around to slot 0.
 */
static void test_probe_runs(void **state)
{
	const size_t homes[] = { 10, 11, FIRST_CAP - 1, 0 };
	const size_t per = 8;
	struct ref r;

	ref_init(&r, per * 4);
	for (size_t h = 0; h < 4; h++)
		colliding(&r.keys[h * per], per, homes[h], 1 + h * 1000000);

	/* 32 deletion orders, each from a fresh table, checking everything after each delete */
	for (size_t victim = 0; victim < r.n; victim++) {
		struct u64map m = { 0 };

		for (size_t i = 0; i < r.n; i++) {
			assert_int_equal(u64map_put(&m, r.keys[i], &r.vals[i]), 0);
			r.live[i] = 1;
		}
		assert_int_equal(m.cap, FIRST_CAP);
		check(&m, &r);
		for (size_t j = 0; j < r.n; j++) {
			size_t i = (victim + j * 7) % r.n; /* 7 is prime to 32: visits every key */

			assert_ptr_equal(u64map_del(&m, r.keys[i]), &r.vals[i]);
			r.live[i] = 0;
			check(&m, &r);
		}
		assert_int_equal(m.len, 0);
		u64map_free(&m);
	}
	ref_free(&r);
}

/* A deleted slot in the middle of a run must not cut off what follows it. */
static void test_get_after_delete_in_run(void **state)
{
	struct u64map m = { 0 };
	uint64_t keys[6];
	int vals[6];

	colliding(keys, 6, 5, 1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(u64map_put(&m, keys[i], &vals[i]), 0);
	assert_ptr_equal(u64map_del(&m, keys[2]), &vals[2]);
	assert_null(u64map_del(&m, keys[2]));
	for (int i = 0; i < 6; i++)
		assert_ptr_equal(u64map_get(&m, keys[i]), i == 2 ? NULL : &vals[i]);
	/* re-inserting does not duplicate anything */
	assert_int_equal(u64map_put(&m, keys[4], &vals[4]), 0);
	assert_int_equal(m.len, 5);
	u64map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_probe_runs),
		cmocka_unit_test(test_get_after_delete_in_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
