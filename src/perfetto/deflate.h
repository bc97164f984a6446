/* SPDX-License-Identifier: MIT */
/* A fast zlib-format compressor for trace packets: greedy LZ77 matches, fixed Huffman codes. */
#ifndef WEFT_PERFETTO_DEFLATE_H
#define WEFT_PERFETTO_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "perfetto/wire.h"

/*
 * Scheduling data repeats itself (the same few pids, priorities and comm indexes, timestamps a
 * few microseconds apart), so plain LZ77 with fixed codes shrinks it about 3x at a fraction of
 * zlib's cost (zlib's level 1 took more collector CPU than all of the analysis). Any inflater
 * reads the output: it is an ordinary zlib stream (RFC 1950) of one fixed-code block (RFC 1951).
 */
#define PF_DEFLATE_HASH_BITS 13

struct pf_deflate {
	uint32_t base;                          /* input position 0 of this call, as stored */
	uint32_t table[1 << PF_DEFLATE_HASH_BITS]; /* last position (+ base) of each 4-byte hash */
};

void pf_deflate_init(struct pf_deflate *z);
/* Appends the zlib stream of in[0..len) to out; 0 or -ENOMEM. */
int pf_deflate(struct pf_deflate *z, const uint8_t *in, size_t len, struct pf_bytes *out);

#endif /* WEFT_PERFETTO_DEFLATE_H */
