// SPDX-License-Identifier: MIT
/* How weft paces itself: how often it drains, when it counts as falling behind, and when it
 * has caught up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/pace.h"

#define MS 1000000ULL
#define RING (8u << 20)

/* A pace as pace_start() leaves it for root, without touching this process's priority. */
static struct pace paced(uint64_t max_period_ns)
{
	return (struct pace){ .on = true, .ring_bytes = RING, .period_ns = 20 * MS,
			      .max_period_ns = max_period_ns };
}

static void quiet_rings_are_drained_at_the_longest_period(void **state)
{
	struct pace p = paced(100 * MS);

	pace_after_drain(&p, 0, 20 * MS, 0);
	assert_int_equal(p.period_ns, 100 * MS);
	pace_after_drain(&p, 1000, 100 * MS, 0);
	assert_int_equal(p.period_ns, 100 * MS);
	assert_false(p.behind);
}

static void busy_rings_are_drained_when_an_eighth_full(void **state)
{
	struct pace p = paced(100 * MS);

	/* A quarter of an eighth in 20 ms: an eighth takes 80 ms. */
	pace_after_drain(&p, RING / 32, 20 * MS, 0);
	assert_true(p.period_ns > 79 * MS && p.period_ns < 81 * MS);
	/* Faster than an eighth per 10 ms: no shorter than 10 ms. */
	pace_after_drain(&p, RING / 4, 10 * MS, 0);
	assert_int_equal(p.period_ns, 10 * MS);
	assert_false(p.behind);
}

static void the_period_never_passes_the_other_buffers_limit(void **state)
{
	struct pace p = paced(20 * MS);

	pace_after_drain(&p, 0, 20 * MS, 0);
	assert_int_equal(p.period_ns, 20 * MS);
	/* Even when the rings fill fast, the floor is not above the limit either. */
	pace_after_drain(&p, RING / 2, 20 * MS, 0);
	assert_int_equal(p.period_ns, 10 * MS);
}

static void a_full_ring_raises_until_a_second_of_light_drains(void **state)
{
	struct pace p = paced(100 * MS);

	pace_after_drain(&p, 10, 20 * MS, 0);
	assert_false(p.behind);
	pace_after_drain(&p, RING / 4 + 1, 20 * MS, 0);
	assert_true(p.behind);
	for (int i = 0; i < 9; i++)
		pace_after_drain(&p, 10, 100 * MS, 0);
	assert_true(p.behind);
	/* A heavy one in between starts the count again. */
	pace_after_drain(&p, RING / 2, 100 * MS, 0);
	for (int i = 0; i < 9; i++)
		pace_after_drain(&p, 10, 100 * MS, 0);
	assert_true(p.behind);
	pace_after_drain(&p, 10, 100 * MS, 0);
	assert_false(p.behind);
}

static void lost_records_raise_at_once(void **state)
{
	struct pace p = paced(100 * MS);

	pace_after_drain(&p, 100, 20 * MS, 0);
	assert_false(p.behind);
	pace_after_drain(&p, 100, 20 * MS, 3);
	assert_true(p.behind);
	/* The count is cumulative: no new loss, no new reason. */
	for (int i = 0; i < 10; i++)
		pace_after_drain(&p, 100, 100 * MS, 3);
	assert_false(p.behind);
}

static void without_privilege_the_priority_stays_but_the_period_adapts(void **state)
{
	struct pace p = paced(100 * MS);

	p.on = false;
	pace_after_drain(&p, RING / 2, 20 * MS, 5);
	assert_false(p.behind);
	assert_int_equal(p.last_lost, 5);
	assert_int_equal(p.period_ns, 10 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quiet_rings_are_drained_at_the_longest_period),
		cmocka_unit_test(busy_rings_are_drained_when_an_eighth_full),
		cmocka_unit_test(the_period_never_passes_the_other_buffers_limit),
		cmocka_unit_test(a_full_ring_raises_until_a_second_of_light_drains),
		cmocka_unit_test(lost_records_raise_at_once),
		cmocka_unit_test(without_privilege_the_priority_stays_but_the_period_adapts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
