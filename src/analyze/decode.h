/* SPDX-License-Identifier: MIT */
/* The one decoder for weft records, whichever ring they came through. */
#ifndef WEFT_DECODE_H
#define WEFT_DECODE_H

#include <stddef.h>

#include "weft/events.h"

/* Size of each known record type; 0 for types that do not exist. */
extern const size_t weft_record_size[WEFT_EV_TYPE_MAX];

/* weft_decode(), every check one by one, each failure with its reason. */
const struct weft_event_header *weft_decode_slow(const void *data, size_t len, const char **why);

/* Checks that data holds one whole, known record. Returns its header, or NULL with *why set
 * to a short reason ("truncated", "unknown type 42", ...). Inline, the good case in one test:
 * every record comes here. */
static inline const struct weft_event_header *weft_decode(const void *data, size_t len,
							  const char **why)
{
	const struct weft_event_header *h = data;

	if (len >= sizeof(*h) && h->type < WEFT_EV_TYPE_MAX && h->size <= len &&
	    h->size == weft_record_size[h->type] && h->size)
		return h;
	return weft_decode_slow(data, len, why);
}
/* A record's count of user stack bytes, as far as its ustack array goes: the preload shim's
 * records come from the traced program's memory, which can hold anything. */
static inline size_t weft_ustack_len(__u32 len)
{
	return len < WEFT_USTACK_BYTES ? len : WEFT_USTACK_BYTES;
}

const char *weft_event_name(unsigned type);
const char *weft_loss_name(unsigned reason);

#endif
