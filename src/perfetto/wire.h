/* SPDX-License-Identifier: MIT */
/* Protobuf wire format by hand, for the few messages too hot for protobuf-c. */
#ifndef WEFT_PERFETTO_WIRE_H
#define WEFT_PERFETTO_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define PF_VARINT_MAX 10

/* Key byte of a field numbered below 16: varint (wire type 0) or length-delimited (2). */
#define PF_TAG_VARINT(field) ((uint8_t)((field) << 3))
#define PF_TAG_BYTES(field) ((uint8_t)((field) << 3 | 2))

/* Writes v as a varint at p; returns the bytes written (1..10). */
static inline size_t pf_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	/* Scheduling fields are one to three bytes (states, priorities, pids, deltas of a few
	 * microseconds), each field always about the same: straight-line code the branch
	 * predictor learns, where the loop cost a third of encoding a switch. */
	if (v < 0x80) {
		p[0] = (uint8_t)v;
		return 1;
	}
	if (v < 0x4000) {
		p[0] = (uint8_t)(v | 0x80);
		p[1] = (uint8_t)(v >> 7);
		return 2;
	}
	if (v < 0x200000) {
		p[0] = (uint8_t)(v | 0x80);
		p[1] = (uint8_t)(v >> 7 | 0x80);
		p[2] = (uint8_t)(v >> 14);
		return 3;
	}
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline size_t pf_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* A growing byte string. */
struct pf_bytes {
	uint8_t *p;
	size_t len, cap;
};

int pf_bytes_grow(struct pf_bytes *b, size_t more);

/* Room for at least `more` bytes after len; 0 or -ENOMEM. */
static inline int pf_bytes_reserve(struct pf_bytes *b, size_t more)
{
	return b->cap - b->len >= more ? 0 : pf_bytes_grow(b, more);
}

static inline void pf_bytes_varint(struct pf_bytes *b, uint64_t v)
{
	b->len += pf_varint_put(b->p + b->len, v);
}

/* Reserves, then appends; 0 or -ENOMEM. */
int pf_bytes_put(struct pf_bytes *b, const void *data, size_t len);

/* Wire types (the low three bits of a key). */
#define PF_WIRE_VARINT 0
#define PF_WIRE_FIXED64 1
#define PF_WIRE_BYTES 2

/* Whole fields, each with its key, for any field number; 0 or -ENOMEM. */
int pf_put_varint_field(struct pf_bytes *b, uint32_t field, uint64_t v);
int pf_put_double_field(struct pf_bytes *b, uint32_t field, double v);
int pf_put_bytes_field(struct pf_bytes *b, uint32_t field, const void *data, size_t len);

static inline void pf_bytes_free(struct pf_bytes *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

#endif /* WEFT_PERFETTO_WIRE_H */
