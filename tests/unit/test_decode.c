// SPDX-License-Identifier: MIT
/* weft_decode: every known record passes, every malformed one is refused with a useful reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/decode.h"

static const struct {
	unsigned type;
	size_t size;
	const char *name;
} known[] = {
	{ WEFT_EV_SWITCH, sizeof(struct weft_switch_event), "switch" },
	{ WEFT_EV_WAKING, sizeof(struct weft_waking_event), "waking" },
	{ WEFT_EV_FORK, sizeof(struct weft_fork_event), "fork" },
	{ WEFT_EV_EXEC, sizeof(struct weft_exec_event), "exec" },
	{ WEFT_EV_EXIT, sizeof(struct weft_exit_event), "exit" },
	{ WEFT_EV_STACK, sizeof(struct weft_stack_event), "stack" },
	{ WEFT_EV_COMM, sizeof(struct weft_comm_event), "comm" },
};

#define NKNOWN (sizeof(known) / sizeof(known[0]))

/* Big and aligned enough for any record; zeroed per use. */
static union {
	struct weft_event_header h;
	struct weft_stack_event largest;
	unsigned char bytes[sizeof(struct weft_stack_event) + 64];
} buf;

static const struct weft_event_header *make(unsigned type, unsigned size)
{
	memset(&buf, 0, sizeof(buf));
	buf.h.type = type;
	buf.h.size = size;
	buf.h.cpu = 3;
	buf.h.ts = 123456789;
	buf.h.pid = 4242;
	buf.h.tid = 4243;
	return &buf.h;
}

static void assert_reason(const char *why, const char *needle)
{
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("reason \"%s\" does not mention \"%s\"", why, needle);
}

static void test_every_known_type(void **state)
{
	for (size_t i = 0; i < NKNOWN; i++) {
		const struct weft_event_header *h = make(known[i].type, known[i].size);
		const char *why = NULL;

		assert_ptr_equal(weft_decode(h, known[i].size, &why), h);
		assert_string_equal(weft_event_name(known[i].type), known[i].name);
	}
}

/* A ring may hand out a slot rounded up past the record; the record's own size is what counts. */
static void test_trailing_bytes_allowed(void **state)
{
	const struct weft_event_header *h = make(WEFT_EV_COMM, sizeof(struct weft_comm_event));
	const char *why = NULL;

	assert_ptr_equal(weft_decode(h, sizeof(struct weft_comm_event) + 8, &why), h);
}

static void test_short_buffer(void **state)
{
	const struct weft_event_header *h = make(WEFT_EV_SWITCH, sizeof(struct weft_switch_event));
	const char *why = NULL;

	for (size_t len = 0; len < sizeof(struct weft_event_header); len++) {
		why = NULL;
		assert_null(weft_decode(h, len, &why));
		assert_reason(why, "header");
	}
}

static void test_unknown_types(void **state)
{
	const unsigned bad[] = { 0, WEFT_EV_TYPE_MAX, 999, UINT16_MAX };
	char num[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct weft_event_header *h = make(bad[i], sizeof(struct weft_event_header));
		const char *why = NULL;

		assert_null(weft_decode(h, sizeof(buf), &why));
		assert_reason(why, "unknown");
		snprintf(num, sizeof(num), "%u", bad[i]);
		assert_reason(why, num);
		assert_string_equal(weft_event_name(bad[i]), "unknown");
	}
}

static void test_size_beyond_buffer(void **state)
{
	for (size_t i = 0; i < NKNOWN; i++) {
		const struct weft_event_header *h = make(known[i].type, known[i].size);
		const char *why = NULL;

		assert_null(weft_decode(h, known[i].size - 1, &why));
		assert_reason(why, "truncated");
	}
}

static void test_size_does_not_match_type(void **state)
{
	char expect[32];

	for (size_t i = 0; i < NKNOWN; i++) {
		const unsigned wrong[] = { sizeof(struct weft_event_header), known[i].size - 8,
					   known[i].size + 8 };

		for (size_t j = 0; j < sizeof(wrong) / sizeof(wrong[0]); j++) {
			const struct weft_event_header *h = make(known[i].type, wrong[j]);
			const char *why = NULL;

			assert_null(weft_decode(h, sizeof(buf), &why));
			assert_reason(why, known[i].name);
			snprintf(expect, sizeof(expect), "%u bytes", wrong[j]);
			assert_reason(why, expect);
			snprintf(expect, sizeof(expect), "expected %zu", known[i].size);
			assert_reason(why, expect);
		}
	}
}

/* A size field smaller than the header must not be trusted either. */
static void test_size_smaller_than_header(void **state)
{
	const struct weft_event_header *h = make(WEFT_EV_COMM, 4);
	const char *why = NULL;

	assert_null(weft_decode(h, sizeof(buf), &why));
	assert_reason(why, "comm");
}

static void test_loss_names(void **state)
{
	for (unsigned r = 0; r <= WEFT_LOSS_TASK_STORAGE; r++) {
		assert_non_null(weft_loss_name(r));
		assert_string_not_equal(weft_loss_name(r), "unknown");
	}
	assert_string_equal(weft_loss_name(WEFT_LOSS_REASON_MAX), "unknown");
	assert_string_equal(weft_loss_name(12345), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_known_type),
		cmocka_unit_test(test_trailing_bytes_allowed),
		cmocka_unit_test(test_short_buffer),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_size_beyond_buffer),
		cmocka_unit_test(test_size_does_not_match_type),
		cmocka_unit_test(test_size_smaller_than_header),
		cmocka_unit_test(test_loss_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
