// SPDX-License-Identifier: MIT
/* weft's own priority while recording: when it counts as falling behind, and when caught up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/pace.h"

/* A pace as pace_start() leaves it for root, without touching this process's priority. */
static struct pace paced(uint64_t busy_bytes)
{
	return (struct pace){ .on = true, .busy_bytes = busy_bytes };
}

static void light_drains_stay_low(void **state)
{
	struct pace p = paced(1000);
	uint64_t read = 0;

	for (int i = 0; i < 200; i++)
		pace_after_drain(&p, read += 999, 0);
	assert_false(p.behind);
}

static void a_heavy_drain_raises_until_a_second_of_light_ones(void **state)
{
	struct pace p = paced(1000);
	uint64_t read = 0;

	pace_after_drain(&p, read += 10, 0);
	pace_after_drain(&p, read += 1001, 0);
	assert_true(p.behind);
	for (int i = 0; i < 49; i++)
		pace_after_drain(&p, read += 10, 0);
	assert_true(p.behind);
	/* A heavy one in between starts the count again. */
	pace_after_drain(&p, read += 5000, 0);
	for (int i = 0; i < 49; i++)
		pace_after_drain(&p, read += 10, 0);
	assert_true(p.behind);
	pace_after_drain(&p, read += 10, 0);
	assert_false(p.behind);
}

static void lost_records_raise_at_once(void **state)
{
	struct pace p = paced(1 << 20);

	pace_after_drain(&p, 100, 0);
	assert_false(p.behind);
	pace_after_drain(&p, 200, 3);
	assert_true(p.behind);
	/* The count is cumulative: no new loss, no new reason. */
	for (int i = 0; i < 50; i++)
		pace_after_drain(&p, 300 + i, 3);
	assert_false(p.behind);
}

static void without_privilege_nothing_changes(void **state)
{
	struct pace p = { .busy_bytes = 10 };

	pace_after_drain(&p, 1000, 5);
	assert_false(p.behind);
	assert_int_equal(p.last_read, 1000);
	assert_int_equal(p.last_lost, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(light_drains_stay_low),
		cmocka_unit_test(a_heavy_drain_raises_until_a_second_of_light_ones),
		cmocka_unit_test(lost_records_raise_at_once),
		cmocka_unit_test(without_privilege_nothing_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
