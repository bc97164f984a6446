// SPDX-License-Identifier: MIT
/* Histogram percentiles checked against exact nearest-rank values computed by sorting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/hist.h"

#define NSAMPLES 100000

/* Our own generator so the samples are the same with every libc. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double rng_unit(void)
{
	return (rng() >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q*n values <= it. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * n);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static struct hist *hist_of(const uint64_t *v, size_t n)
{
	struct hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	for (size_t i = 0; i < n; i++)
		hist_add(h, v[i]);
	return h;
}

static void check_against_exact(uint64_t *v, size_t n)
{
	const double qs[] = { 0.5, 0.9, 0.99 };
	struct hist *h = hist_of(v, n);
	uint64_t prev = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(hist_quantile(h, 0), v[0]);
	assert_int_equal(hist_quantile(h, 1), v[n - 1]);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t want = exact_quantile(v, n, qs[i]);
		uint64_t got = hist_quantile(h, qs[i]);
		uint64_t err = got > want ? got - want : want - got;

		if (err * 16 > want)
			fail_msg("p%g: got %lu, exact %lu", qs[i] * 100, (unsigned long)got,
				 (unsigned long)want);
	}
	/* Percentiles never go down as q goes up. */
	for (double q = 0; q <= 1.0; q += 0.01) {
		uint64_t x = hist_quantile(h, q);

		assert_true(x >= prev);
		prev = x;
	}
	free(h);
}

static void test_empty(void **state)
{
	struct hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	assert_int_equal(hist_quantile(h, 0), 0);
	assert_int_equal(hist_quantile(h, 0.5), 0);
	assert_int_equal(hist_quantile(h, 0.99), 0);
	assert_int_equal(hist_quantile(h, 1), 0);
	free(h);
}

static void test_single_value(void **state)
{
	uint64_t v = 123456789;
	struct hist *h = hist_of(&v, 1);

	assert_int_equal(h->count, 1);
	assert_int_equal(h->sum, v);
	for (double q = 0; q <= 1.0; q += 0.125)
		assert_int_equal(hist_quantile(h, q), v);
	free(h);
}

/* Clamping to [min, max] makes a constant exact even though its bucket is wide. */
static void test_constant(void **state)
{
	uint64_t v[1000];

	for (size_t i = 0; i < 1000; i++)
		v[i] = 987654;
	check_against_exact(v, 1000);
	{
		struct hist *h = hist_of(v, 1000);

		assert_int_equal(hist_quantile(h, 0.5), 987654);
		assert_int_equal(hist_quantile(h, 0.99), 987654);
		assert_int_equal(h->sum, 987654ULL * 1000);
		free(h);
	}
}

/* Below 2 * 16 every value has a bucket of its own. */
static void test_small_values_exact(void **state)
{
	uint64_t v[32];
	struct hist *h;

	for (size_t i = 0; i < 32; i++)
		v[i] = i;
	h = hist_of(v, 32);
	for (size_t rank = 1; rank <= 32; rank++)
		assert_int_equal(hist_quantile(h, (double)rank / 32), rank - 1);
	free(h);
}

/* n values at once are n single ones; a count past what a bucket holds saturates at once
 * (a loop's stats record carries its counts, and the preload shim's come from the traced
 * program's memory: a count of 4 billion must not take 4 billion steps). */
static void test_add_n(void **state)
{
	struct hist *one = calloc(1, sizeof(*one)), *many = calloc(1, sizeof(*many));

	assert_non_null(one);
	assert_non_null(many);
	for (int i = 0; i < 1000; i++)
		hist_add(one, 4321);
	hist_add(one, 7);
	hist_add_n(many, 4321, 1000);
	hist_add_n(many, 7, 1);
	hist_add_n(many, 99, 0);
	assert_memory_equal(one, many, sizeof(*one));

	memset(many, 0, sizeof(*many));
	hist_add_n(many, 5, UINT64_MAX);
	hist_add_n(many, 5, 10);
	hist_add_n(many, 900, 1);
	assert_int_equal(many->count, (uint64_t)UINT32_MAX + 1);
	assert_int_equal(hist_quantile(many, 0.5), 5);
	assert_int_equal(hist_quantile(many, 1), 900);
	free(one);
	free(many);
}

static void test_uniform(void **state)
{
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));

	assert_non_null(v);
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < NSAMPLES; i++)
		v[i] = rng() % 1000000000; /* up to 1 s in ns */
	check_against_exact(v, NSAMPLES);
	free(v);
}

/* Latencies look like this: mostly short, a long tail. */
static void test_exponential(void **state)
{
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));

	assert_non_null(v);
	rng_state = 42;
	for (size_t i = 0; i < NSAMPLES; i++)
		v[i] = (uint64_t)(-50000.0 * log(1.0 - rng_unit())) + 1;
	check_against_exact(v, NSAMPLES);
	free(v);
}

/* Spread over many powers of two, so every octave of the bucket layout is used. */
static void test_log_uniform(void **state)
{
	uint64_t *v = malloc(NSAMPLES * sizeof(*v));

	assert_non_null(v);
	rng_state = 7;
	for (size_t i = 0; i < NSAMPLES; i++)
		v[i] = (uint64_t)exp2(rng_unit() * 62);
	check_against_exact(v, NSAMPLES);
	free(v);
}

static void test_huge_values(void **state)
{
	const uint64_t v[] = { UINT64_MAX / 2, UINT64_MAX / 2 - 1, UINT64_MAX / 4, 1ULL << 62,
			       UINT64_MAX / 2 + 1, UINT64_MAX };
	struct hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hist_add(h, v[i]);
		for (double q = 0; q <= 1.0; q += 0.05) {
			uint64_t x = hist_quantile(h, q);

			assert_true(x >= h->min && x <= h->max);
		}
	}
	assert_int_equal(h->max, UINT64_MAX);
	assert_int_equal(hist_quantile(h, 1), UINT64_MAX);
	assert_int_equal(hist_quantile(h, 0), UINT64_MAX / 4);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_value),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_add_n),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_log_uniform),
		cmocka_unit_test(test_huge_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
