// SPDX-License-Identifier: MIT
/* Growing byte strings for hand-encoded protobuf. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfetto/wire.h"

int pf_bytes_grow(struct pf_bytes *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *p;

	while (cap - b->len < more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int pf_bytes_put(struct pf_bytes *b, const void *data, size_t len)
{
	if (pf_bytes_reserve(b, len))
		return -ENOMEM;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

int pf_put_varint_field(struct pf_bytes *b, uint32_t field, uint64_t v)
{
	if (pf_bytes_reserve(b, 2 * PF_VARINT_MAX))
		return -ENOMEM;
	pf_bytes_varint(b, (uint64_t)field << 3 | PF_WIRE_VARINT);
	pf_bytes_varint(b, v);
	return 0;
}

/* A double goes out as its IEEE 754 bits, least significant byte first: as it lies in memory
 * on every target weft builds for. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "doubles are copied as they lie");

int pf_put_double_field(struct pf_bytes *b, uint32_t field, double v)
{
	if (pf_bytes_reserve(b, PF_VARINT_MAX + sizeof(v)))
		return -ENOMEM;
	pf_bytes_varint(b, (uint64_t)field << 3 | PF_WIRE_FIXED64);
	memcpy(b->p + b->len, &v, sizeof(v));
	b->len += sizeof(v);
	return 0;
}

int pf_put_bytes_field(struct pf_bytes *b, uint32_t field, const void *data, size_t len)
{
	if (pf_bytes_reserve(b, 2 * PF_VARINT_MAX + len))
		return -ENOMEM;
	pf_bytes_varint(b, (uint64_t)field << 3 | PF_WIRE_BYTES);
	pf_bytes_varint(b, len);
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}
