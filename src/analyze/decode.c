// SPDX-License-Identifier: MIT
/* Validation of raw records: an unknown tag or a wrong size is a bug, and says so. */
#include <stdio.h>

#include "analyze/decode.h"

#define NAME(type, name, st) [type] = name,
static const char *const kind_names[WEFT_EV_TYPE_MAX] = { WEFT_ALL_KINDS(NAME) };
#undef NAME

#define SIZE(type, name, st) [type] = sizeof(st),
const size_t weft_record_size[WEFT_EV_TYPE_MAX] = { WEFT_ALL_KINDS(SIZE) };
#undef SIZE

static const char *const loss_names[WEFT_LOSS_REASON_MAX] = {
	[WEFT_LOSS_RINGBUF_FULL] = "ring buffer full",
	[WEFT_LOSS_STACK_READ] = "user stack unreadable",
	[WEFT_LOSS_STACK_THROTTLED] = "off-CPU stack rate limit",
	[WEFT_LOSS_TASK_STORAGE] = "task storage full",
	[WEFT_LOSS_LOCK_TABLE] = "futex wait table full",
	[WEFT_LOSS_PRELOAD_RING_FULL] = "preload ring full",
	[WEFT_LOSS_PRELOAD_EDGES_FULL] = "lock-order edge table full",
	[WEFT_LOSS_PRELOAD_REENTRY] = "shim re-entered (passed through)",
	[WEFT_LOSS_PRELOAD_HELD_FULL] = "held-lock set full",
	[WEFT_LOSS_PERF_SWITCH_LOST] = "context-switch records lost (perf buffer full)",
	[WEFT_LOSS_PRELOAD_NO_RING] = "processes the shim could not record (no ring)",
	[WEFT_LOSS_PRELOAD_RING_CUT] = "preload rings cut short (their later records)",
};

const char *weft_event_name(unsigned type)
{
	return type < WEFT_EV_TYPE_MAX && kind_names[type] ? kind_names[type] : "unknown";
}

const char *weft_loss_name(unsigned reason)
{
	return reason < WEFT_LOSS_REASON_MAX && loss_names[reason] ? loss_names[reason] : "unknown";
}

const struct weft_event_header *weft_decode_slow(const void *data, size_t len, const char **why)
{
	const struct weft_event_header *h = data;
	static __thread char buf[64];

	if (len < sizeof(*h)) {
		*why = "record shorter than its header";
		return NULL;
	}
	if (h->type == 0 || h->type >= WEFT_EV_TYPE_MAX || !kind_names[h->type]) {
		snprintf(buf, sizeof(buf), "unknown record type %u", h->type);
		*why = buf;
		return NULL;
	}
	if (h->size > len) {
		*why = "record truncated";
		return NULL;
	}
	if (h->size != weft_record_size[h->type]) {
		snprintf(buf, sizeof(buf), "%s record of %u bytes, expected %zu",
			 kind_names[h->type], h->size, weft_record_size[h->type]);
		*why = buf;
		return NULL;
	}
	return h;
}
