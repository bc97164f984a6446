// SPDX-License-Identifier: MIT
/* Bucket i covers values sharing their top HIST_SUB_BITS+1 significant bits. */
#include "analyze/hist.h"

static unsigned bucket_of(uint64_t v)
{
	unsigned msb, shift;

	if (v < (1u << HIST_SUB_BITS))
		return v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return ((shift + 1) << HIST_SUB_BITS) + ((v >> shift) & ((1u << HIST_SUB_BITS) - 1));
}

static uint64_t bucket_low(unsigned b)
{
	unsigned shift;

	if (b < (1u << HIST_SUB_BITS))
		return b;
	shift = (b >> HIST_SUB_BITS) - 1;
	return ((uint64_t)((1u << HIST_SUB_BITS) | (b & ((1u << HIST_SUB_BITS) - 1)))) << shift;
}

void hist_add_n(struct hist *h, uint64_t v, uint64_t n)
{
	unsigned b = bucket_of(v);

	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	/* A full bucket takes no more, and neither does count: it stays the buckets' sum, which
	 * the quantiles walk. */
	if (n > UINT32_MAX - h->buckets[b])
		n = UINT32_MAX - h->buckets[b];
	if (!n)
		return;
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count += n;
	h->sum += v * n;
	h->buckets[b] += (uint32_t)n;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi, mid;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* nearest-rank definition: the smallest value with at least q*count values <= it */
	rank = (uint64_t)(q * h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen < rank)
			continue;
		lo = bucket_low(b);
		hi = b + 1 < HIST_BUCKETS ? bucket_low(b + 1) : UINT64_MAX;
		mid = lo + (hi - lo) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;
}
