/* SPDX-License-Identifier: MIT */
/* A 64-bit mixer (murmur3's finaliser) for the hash tables of the shim and the analysis. */
#ifndef WEFT_HASH_H
#define WEFT_HASH_H

#include <stdint.h>

static inline uint64_t weft_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif
