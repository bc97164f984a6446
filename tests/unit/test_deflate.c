// SPDX-License-Identifier: MIT
/* The trace compressor: whatever goes in comes back out of zlib's inflate, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "perfetto/deflate.h"

/* Compresses in, checks that zlib reads it back to in, returns the compressed size. */
static size_t round_trip(struct pf_deflate *z, const uint8_t *in, size_t len)
{
	struct pf_bytes out = { 0 };
	uLongf back_len = len + 1;
	uint8_t *back = malloc(len + 1);
	size_t n;

	assert_non_null(back);
	assert_int_equal(pf_bytes_put(&out, "xy", 2), 0); /* appends after what is there */
	assert_int_equal(pf_deflate(z, in, len, &out), 0);
	assert_memory_equal(out.p, "xy", 2);
	assert_int_equal(uncompress(back, &back_len, out.p + 2, out.len - 2), Z_OK);
	assert_int_equal(back_len, len);
	if (len)
		assert_memory_equal(back, in, len);
	n = out.len - 2;
	free(back);
	pf_bytes_free(&out);
	return n;
}

static void test_short_inputs(void **state)
{
	struct pf_deflate *z = malloc(sizeof(*z));
	const uint8_t abc[] = "abcabcabcabc";

	pf_deflate_init(z);
	for (size_t n = 0; n <= sizeof(abc); n++)
		round_trip(z, abc, n);
	free(z);
}

/* Random bytes: no matches, every literal code, the worst-case output size. */
static void test_random_bytes(void **state)
{
	struct pf_deflate *z = malloc(sizeof(*z));
	size_t n = 200000;
	uint8_t *in = malloc(n);
	uint64_t seed = 7;

	pf_deflate_init(z);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		in[i] = (uint8_t)(seed >> 56);
	}
	round_trip(z, in, n);
	free(in);
	free(z);
}

/*
 * The checksum at every length around its 32-byte steps and its reductions (every 5536 bytes),
 * on 0xff bytes, the largest sums, and on noise: zlib's inflate checks it.
 */
static void test_checksum_lengths(void **state)
{
	struct pf_deflate *z = malloc(sizeof(*z));
	size_t cap = 3 * 5536 + 100;
	uint8_t *ff = malloc(cap), *noise = malloc(cap);
	uint64_t seed = 3;

	pf_deflate_init(z);
	memset(ff, 0xff, cap);
	for (size_t i = 0; i < cap; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		noise[i] = (uint8_t)(seed >> 56);
	}
	for (size_t n = 0; n <= cap; n += n < 80 || (n % 5536 > 5460) ? 1 : 61) {
		round_trip(z, ff, n);
		round_trip(z, noise, n);
	}
	free(ff);
	free(noise);
	free(z);
}

/*
 * Runs and repeats of every length and distance deflate has codes for (up to 258 bytes back
 * 32 KiB), mixed with noise; several inputs through one state, so stale table entries from the
 * earlier inputs must not be taken for matches.
 */
static void test_matches(void **state)
{
	struct pf_deflate *z = malloc(sizeof(*z));
	size_t cap = 1 << 20, n = 0;
	uint8_t *in = malloc(cap);
	uint64_t seed = 1;

	pf_deflate_init(z);
	while (n < cap - 70000) {
		size_t len, dist;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 1 + (seed >> 20) % 300;
		dist = 1 + (seed >> 40) % 40000;
		if (dist <= n) {
			for (size_t k = 0; k < len; k++, n++)
				in[n] = in[n - dist];
		} else {
			for (size_t k = 0; k < len; k++, n++)
				in[n] = (uint8_t)(seed >> (k % 56));
		}
	}
	round_trip(z, in, n);
	round_trip(z, in + 1000, n / 3);
	round_trip(z, in + 5, 70000);
	free(in);
	free(z);
}

/* What it is for: repetitive records shrink several times. */
static void test_compresses_repeats(void **state)
{
	struct pf_deflate *z = malloc(sizeof(*z));
	uint8_t in[40000];

	pf_deflate_init(z);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)("\x93\x96\x01\x00\xa2\x96\x01\x00"[i % 8] + (i / 4000));
	assert_true(round_trip(z, in, sizeof(in)) < sizeof(in) / 10);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_inputs),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_checksum_lengths),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_compresses_repeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
