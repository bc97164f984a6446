// SPDX-License-Identifier: MIT
/* A ring record split into the records it holds: batches, single records, bad sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect/cpu_rings.h"
#include "weft/events.h"

#define MAXOUT 16

struct out {
	size_t n;
	size_t len[MAXOUT];
	const uint8_t *at[MAXOUT];
};

static int collect(void *ctx, const void *data, size_t len)
{
	struct out *o = ctx;

	assert_true(o->n < MAXOUT);
	o->at[o->n] = data;
	o->len[o->n] = len;
	o->n++;
	return 0;
}

/* A batch as the BPF programs write it: a switch, a wakeup, a switch. */
static size_t batch(uint8_t *buf)
{
	struct weft_switch_event sw = { .hdr = { .type = WEFT_EV_SWITCH, .size = sizeof(sw) } };
	struct weft_waking_event wk = { .hdr = { .type = WEFT_EV_WAKING, .size = sizeof(wk) } };
	size_t off = 0;

	memcpy(buf + off, &sw, sizeof(sw));
	off += sizeof(sw);
	memcpy(buf + off, &wk, sizeof(wk));
	off += sizeof(wk);
	sw.hdr.ts = 7;
	memcpy(buf + off, &sw, sizeof(sw));
	return off + sizeof(sw);
}

static void test_batch_split(void **state)
{
	_Alignas(8) uint8_t buf[512];
	size_t len = batch(buf);
	struct out o = { 0 };

	(void)state;
	assert_int_equal(cpu_rings_split(collect, &o, buf, len), 3);
	assert_int_equal(o.n, 3);
	assert_ptr_equal(o.at[0], buf);
	assert_int_equal(o.len[0], sizeof(struct weft_switch_event));
	assert_ptr_equal(o.at[1], buf + sizeof(struct weft_switch_event));
	assert_int_equal(o.len[1], sizeof(struct weft_waking_event));
	assert_int_equal(((const struct weft_event_header *)o.at[2])->ts, 7);
	assert_int_equal(o.len[2], sizeof(struct weft_switch_event));
}

static void test_single_record(void **state)
{
	struct weft_comm_event e = { .hdr = { .type = WEFT_EV_COMM, .size = sizeof(e) } };
	struct out o = { 0 };

	(void)state;
	assert_int_equal(cpu_rings_split(collect, &o, &e, sizeof(e)), 1);
	assert_int_equal(o.len[0], sizeof(e));
}

/* A size of 0 would loop for ever, one past the end would read past the record: either way
 * the rest goes out as one record, which the decoder counts as malformed. */
static void test_bad_sizes_end_the_split(void **state)
{
	_Alignas(8) uint8_t buf[512];
	size_t len = batch(buf);
	struct weft_event_header *second = (void *)(buf + sizeof(struct weft_switch_event));
	struct out o = { 0 };

	(void)state;
	second->size = 0;
	assert_int_equal(cpu_rings_split(collect, &o, buf, len), 2);
	assert_int_equal(o.len[1], len - sizeof(struct weft_switch_event));

	memset(&o, 0, sizeof(o));
	second->size = 4000;
	assert_int_equal(cpu_rings_split(collect, &o, buf, len), 2);
	assert_int_equal(o.len[1], len - sizeof(struct weft_switch_event));

	/* a tail too short for a header */
	memset(&o, 0, sizeof(o));
	second->size = sizeof(struct weft_waking_event);
	assert_int_equal(cpu_rings_split(collect, &o, buf, len - 80), 3);
	assert_int_equal(o.len[2], sizeof(struct weft_switch_event) - 80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_split),
		cmocka_unit_test(test_single_record),
		cmocka_unit_test(test_bad_sizes_end_the_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
