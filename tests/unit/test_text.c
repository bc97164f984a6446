// SPDX-License-Identifier: MIT
/* The piecewise string builder against snprintf, which it stands in for. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/text.h"

static void test_numbers_as_printf_writes_them(void **state)
{
	static const int64_t ints[] = { 0, 7, -7, 10, -10, 123456789, INT32_MIN, INT64_MAX,
					INT64_MIN };
	char got[32], want[32];

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct text t = text_on(got, sizeof(got));

		text_int(&t, ints[i]);
		snprintf(want, sizeof(want), "%" PRId64, ints[i]);
		assert_string_equal(got, want);
		assert_int_equal(t.len, strlen(want));
	}
	struct text t = text_on(got, sizeof(got));

	text_uint(&t, UINT64_MAX);
	assert_string_equal(got, "18446744073709551615");
}

static void test_pieces_join(void **state)
{
	char buf[64];
	struct text t = text_on(buf, sizeof(buf));

	text_str(&t, "lock wait: ");
	text_str(&t, "queue_lock");
	text_str(&t, " held by ");
	text_str(&t, "worker");
	text_str(&t, "/");
	text_int(&t, 4242);
	assert_string_equal(buf, "lock wait: queue_lock held by worker/4242");
}

/* Cut at the buffer's end and always terminated, as snprintf cuts. */
static void test_cut_at_the_end(void **state)
{
	char buf[8], want[8];
	struct text t = text_on(buf, sizeof(buf));

	text_str(&t, "abcd");
	text_int(&t, -98765);
	text_str(&t, "more");
	snprintf(want, sizeof(want), "abcd%dmore", -98765);
	assert_string_equal(buf, want);
	assert_int_equal(t.len, sizeof(buf) - 1);

	t = text_on(buf, 1);
	text_str(&t, "x");
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_as_printf_writes_them),
		cmocka_unit_test(test_pieces_join),
		cmocka_unit_test(test_cut_at_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
