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
