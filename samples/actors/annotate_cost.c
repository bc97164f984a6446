// SPDX-License-Identifier: MIT
/*
 * What weft.h costs when weft is not attached: the same loop with and without an annotation
 * (a send with four arguments per iteration). Prints
 *   weft-sample: plain_ns=P annotated_ns=A ratio=R   (ns per iteration, best of 9 rounds)
 * Usage: annotate_cost [iterations]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "weft/weft.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A mailbox push: the work a real send does, so the probe is measured in context. */
struct box {
	uint64_t slots[64];
	uint64_t head, len;
};

__attribute__((noinline)) static void push_plain(struct box *b, uint64_t v)
{
	b->slots[(b->head + b->len) & 63] = v;
	b->len = (b->len + 1) & 63;
}

__attribute__((noinline)) static void push_annotated(struct box *b, uint64_t v)
{
	b->slots[(b->head + b->len) & 63] = v;
	b->len = (b->len + 1) & 63;
	WEFT_ACTOR_SEND(0, b, v, b->len);
}

/* ns per call of one round */
static double round_ns(void (*push)(struct box *, uint64_t), struct box *b, long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		push(b, (uint64_t)i);
	return (double)(now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 50000000;
	static struct box b;
	double plain = 1e30, annotated = 1e30;

	/* rounds interleaved, best of each: outside load hits both loops alike */
	for (int r = 0; r < 9; r++) {
		double p = round_ns(push_plain, &b, n / 9), a = round_ns(push_annotated, &b, n / 9);

		plain = p < plain ? p : plain;
		annotated = a < annotated ? a : annotated;
	}

	printf("weft-sample: plain_ns=%.3f annotated_ns=%.3f ratio=%.3f\n", plain, annotated,
	       annotated / plain);
	return 0;
}
