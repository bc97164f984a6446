// SPDX-License-Identifier: MIT
/* Pins the preload records' layout and the ring header's: the shim and the collector may come
 * from different builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "weft/events.h"
#include "weft/preload_ring.h"

#define FIELD(type, field, off, sz)                                                        \
	do {                                                                               \
		assert_int_equal(offsetof(type, field), (off));                            \
		assert_int_equal(sizeof(((type *)0)->field), (sz));                        \
	} while (0)

static void test_lock_wait(void **state)
{
	assert_int_equal(sizeof(struct weft_lock_wait_event), 72);
	FIELD(struct weft_lock_wait_event, lock, 24, 8);
	FIELD(struct weft_lock_wait_event, aux, 32, 8);
	FIELD(struct weft_lock_wait_event, wait_start, 40, 8);
	FIELD(struct weft_lock_wait_event, caller, 48, 8);
	FIELD(struct weft_lock_wait_event, kind, 56, 4);
	FIELD(struct weft_lock_wait_event, holder_tid, 60, 4);
	FIELD(struct weft_lock_wait_event, ret, 64, 4);
	FIELD(struct weft_lock_wait_event, flags, 68, 4);
}

static void test_lock_release(void **state)
{
	assert_int_equal(sizeof(struct weft_lock_release_event), 48);
	FIELD(struct weft_lock_release_event, lock, 24, 8);
	FIELD(struct weft_lock_release_event, caller, 32, 8);
	FIELD(struct weft_lock_release_event, kind, 40, 4);
}

static void test_lock_edge(void **state)
{
	assert_int_equal(sizeof(struct weft_lock_edge_event), 4232);
	FIELD(struct weft_lock_edge_event, from, 24, 8);
	FIELD(struct weft_lock_edge_event, to, 32, 8);
	FIELD(struct weft_lock_edge_event, ustack_len, 64, 4);
	FIELD(struct weft_lock_edge_event, uregs, 72, 64);
	FIELD(struct weft_lock_edge_event, ustack, 136, WEFT_USTACK_BYTES);
}

static void test_ring_header(void **state)
{
	assert_int_equal(sizeof(struct weft_ring_header), 448);
	FIELD(struct weft_ring_header, magic, 0, 8);
	FIELD(struct weft_ring_header, data_size, 16, 4);
	FIELD(struct weft_ring_header, lost, 40, 8 * WEFT_RING_LOST_MAX);
	FIELD(struct weft_ring_header, prod, 320, 8);
	FIELD(struct weft_ring_header, cons, 384, 8);
	assert_true(WEFT_LOSS_PERF_SWITCH_LOST < WEFT_RING_LOST_MAX);
	assert_true(WEFT_RING_LOST_MAX <= WEFT_LOSS_REASON_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_wait),
		cmocka_unit_test(test_lock_release),
		cmocka_unit_test(test_lock_edge),
		cmocka_unit_test(test_ring_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
