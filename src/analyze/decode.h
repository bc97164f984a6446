/* SPDX-License-Identifier: MIT */
/* The one decoder for weft records, whichever ring they came through. */
#ifndef WEFT_DECODE_H
#define WEFT_DECODE_H

#include <stddef.h>

#include "weft/events.h"

/* Checks that data holds one whole, known record. Returns its header, or NULL with *why set
 * to a short reason ("truncated", "unknown type 42", ...). */
const struct weft_event_header *weft_decode(const void *data, size_t len, const char **why);
const char *weft_event_name(unsigned type);
const char *weft_loss_name(unsigned reason);

#endif
