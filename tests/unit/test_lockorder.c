// SPDX-License-Identifier: MIT
/* The lock-order graph: inversions and longer cycles found once, well-ordered locking quiet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "analyze/lockorder.h"

#define A 0x1000
#define B 0x2000
#define C 0x3000
#define D 0x4000

static const struct lo_cycle *add(struct lockorder *lo, int pid, uint64_t from, uint64_t to,
				  int tid, int expect_ret)
{
	const struct lo_cycle *c = (void *)1;

	assert_int_equal(lockorder_add(lo, pid, from, to, tid, 100 + tid, (void *)(uintptr_t)tid,
				       &c),
			 expect_ret);
	return c;
}

static void test_inversion_both_edges(void **state)
{
	struct lockorder lo;
	const struct lo_cycle *c;

	lockorder_init(&lo);
	assert_null(add(&lo, 1, A, B, 11, 1));
	c = add(&lo, 1, B, A, 12, 1);
	assert_non_null(c);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->pid, 1);
	/* the closing edge first, then the one it conflicts with, each with its own stack */
	assert_int_equal(c->edges[0]->from, B);
	assert_int_equal(c->edges[0]->to, A);
	assert_int_equal(c->edges[0]->tid, 12);
	assert_ptr_equal(c->edges[0]->user, (void *)12);
	assert_int_equal(c->edges[1]->from, A);
	assert_int_equal(c->edges[1]->to, B);
	assert_ptr_equal(c->edges[1]->user, (void *)11);
	assert_int_equal(lo.ncycles, 1);
	lockorder_free(&lo);
}

static void test_well_ordered_is_quiet(void **state)
{
	struct lockorder lo;

	lockorder_init(&lo);
	/* A < B < C < D taken in every order-respecting combination */
	assert_null(add(&lo, 1, A, B, 1, 1));
	assert_null(add(&lo, 1, A, C, 1, 1));
	assert_null(add(&lo, 1, B, C, 2, 1));
	assert_null(add(&lo, 1, C, D, 3, 1));
	assert_null(add(&lo, 1, A, D, 2, 1));
	assert_null(add(&lo, 1, B, D, 2, 1));
	/* repeats and self-edges (recursive mutex) are not new */
	assert_null(add(&lo, 1, A, B, 5, 0));
	assert_null(add(&lo, 1, A, A, 5, 0));
	assert_int_equal(lo.ncycles, 0);
	assert_int_equal(lo.nedges, 6);
	lockorder_free(&lo);
}

static void test_processes_are_separate(void **state)
{
	struct lockorder lo;

	lockorder_init(&lo);
	assert_null(add(&lo, 1, A, B, 1, 1));
	/* the same addresses in another process are other locks */
	assert_null(add(&lo, 2, B, A, 2, 1));
	assert_int_equal(lo.ncycles, 0);
	lockorder_forget(&lo, 1);
	assert_null(add(&lo, 1, B, A, 3, 1)); /* exec'd: the old A -> B is gone */
	lockorder_free(&lo);
}

static void test_three_lock_cycle_reported_once(void **state)
{
	struct lockorder lo;
	const struct lo_cycle *c;

	lockorder_init(&lo);
	assert_null(add(&lo, 1, A, B, 1, 1));
	assert_null(add(&lo, 1, B, C, 2, 1));
	c = add(&lo, 1, C, A, 3, 1);
	assert_non_null(c);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->edges[0]->from, C);
	assert_int_equal(c->edges[1]->from, A);
	assert_int_equal(c->edges[2]->from, B);
	/* A -> C against the C -> A just seen: a new pair, reported with its two edges */
	c = add(&lo, 1, A, C, 4, 1);
	assert_non_null(c);
	assert_int_equal(c->n, 2);
	/* the same edges again are known: nothing new */
	assert_null(add(&lo, 1, C, A, 5, 0));
	assert_null(add(&lo, 1, A, C, 5, 0));
	assert_int_equal(lo.ncycles, 2);
	lockorder_free(&lo);
}

static void test_long_chain_bounded(void **state)
{
	struct lockorder lo;

	lockorder_init(&lo);
	/* a chain longer than LO_CYCLE_MAX: closing it is beyond the search bound, no crash */
	for (uint64_t i = 0; i < 100; i++)
		assert_null(add(&lo, 1, 0x100 + i, 0x101 + i, 1, 1));
	add(&lo, 1, 0x100 + 100, 0x100, 2, 1);
	/* a short one inside is still found */
	assert_non_null(add(&lo, 1, 0x103, 0x101, 3, 1));
	lockorder_free(&lo);
}

static void free_nothing(void *p)
{
	(void)p;
}

static void test_free_users(void **state)
{
	struct lockorder lo;

	lockorder_init(&lo);
	add(&lo, 1, A, B, 1, 1);
	add(&lo, 2, A, B, 1, 1);
	lockorder_forget(&lo, 2);
	lockorder_free_users(&lo, free_nothing);
	lockorder_free(&lo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inversion_both_edges),
		cmocka_unit_test(test_well_ordered_is_quiet),
		cmocka_unit_test(test_processes_are_separate),
		cmocka_unit_test(test_three_lock_cycle_reported_once),
		cmocka_unit_test(test_long_chain_bounded),
		cmocka_unit_test(test_free_users),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
