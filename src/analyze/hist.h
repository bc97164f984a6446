/* SPDX-License-Identifier: MIT */
/* Log-linear latency histogram: fixed memory, percentiles within ~3% of the true value. */
#ifndef WEFT_HIST_H
#define WEFT_HIST_H

#include <stdint.h>

/* 64 powers of two x 16 linear sub-buckets each. */
#define HIST_SUB_BITS 4
#define HIST_BUCKETS (64 << HIST_SUB_BITS)

struct hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint32_t buckets[HIST_BUCKETS];
};

/* n values v at once (a bucket saturates rather than wrap). */
void hist_add_n(struct hist *h, uint64_t v, uint64_t n);
static inline void hist_add(struct hist *h, uint64_t v)
{
	hist_add_n(h, v, 1);
}
/* q in [0, 1]. Returns the midpoint of the bucket holding the q-quantile, clamped to
 * [min, max]; 0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
