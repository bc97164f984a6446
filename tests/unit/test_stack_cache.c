// SPDX-License-Identifier: MIT
/* The symbolized-stack cache: found again by the same addresses, in the same process, under
 * the same symbol generation; nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "analyze/stack_cache.h"

static const uint64_t ips[] = { 0xffffffff81000010, 0xffffffff81000020, 0x401000, 0x401200 };
#define N (sizeof(ips) / sizeof(ips[0]))

static struct stack_cache_val val(uint64_t iid)
{
	return (struct stack_cache_val){ .callstack_iid = iid, .blocked_in = "do_nanosleep" };
}

static void a_stack_is_found_again(void **state)
{
	struct stack_cache c = { 0 };
	struct stack_cache_val v = val(7);
	const struct stack_cache_val *got;

	assert_null(stack_cache_get(&c, 100, 1, ips, N));
	stack_cache_put(&c, 100, 1, ips, N, &v);
	got = stack_cache_get(&c, 100, 1, ips, N);
	assert_non_null(got);
	assert_int_equal(got->callstack_iid, 7);
	assert_string_equal(got->blocked_in, "do_nanosleep");
	assert_int_equal(c.hits, 1);
	stack_cache_free(&c);
}

static void anything_else_is_a_miss(void **state)
{
	struct stack_cache c = { 0 };
	struct stack_cache_val v = val(7);
	uint64_t other[N];

	stack_cache_put(&c, 100, 1, ips, N, &v);
	/* another process: the same addresses may be other code */
	assert_null(stack_cache_get(&c, 101, 1, ips, N));
	/* a map read again since: names may differ */
	assert_null(stack_cache_get(&c, 100, 2, ips, N));
	/* a shorter stack with the same prefix */
	assert_null(stack_cache_get(&c, 100, 1, ips, N - 1));
	for (size_t i = 0; i < N; i++)
		other[i] = ips[i];
	other[N - 1] += 8;
	assert_null(stack_cache_get(&c, 100, 1, other, N));
	assert_int_equal(c.hits, 0);
	stack_cache_free(&c);
}

static void memory_stays_bounded(void **state)
{
	struct stack_cache c = { 0 };
	uint64_t s[2] = { 0x401000, 0 };
	size_t found = 0;

	/* Many more distinct stacks than slots: later ones replace earlier ones, none leaks
	 * (run under the sanitizer build), and the most recent is always there. */
	for (uint64_t i = 0; i < 100000; i++) {
		struct stack_cache_val v = val(i + 1);

		s[1] = 0x402000 + 16 * i;
		stack_cache_put(&c, 100, 1, s, 2, &v);
		assert_non_null(stack_cache_get(&c, 100, 1, s, 2));
	}
	for (uint64_t i = 0; i < 100000; i++) {
		s[1] = 0x402000 + 16 * i;
		found += stack_cache_get(&c, 100, 1, s, 2) != NULL;
	}
	assert_true(found <= 1024);
	stack_cache_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_stack_is_found_again),
		cmocka_unit_test(anything_else_is_a_miss),
		cmocka_unit_test(memory_stays_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
