// SPDX-License-Identifier: MIT
/* Records are copied with an arrival number in front so equal timestamps keep ring order
 * (a switch and the stack recorded with it share one timestamp). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/reorder.h"

struct slot {
	uint64_t seq;
	struct weft_event_header h; /* record follows, h.size bytes in all */
};

#define SLOT_OF(rec) ((struct slot *)((char *)(rec) - offsetof(struct slot, h)))

void reorder_init(struct reorder *r, uint64_t window_ns)
{
	memset(r, 0, sizeof(*r));
	r->window_ns = window_ns;
}

int reorder_push(struct reorder *r, const struct weft_event_header *h)
{
	struct slot *s;

	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		void *p = realloc(r->recs, cap * sizeof(*r->recs));

		if (!p)
			return -ENOMEM;
		r->recs = p;
		r->cap = cap;
	}
	s = malloc(offsetof(struct slot, h) + h->size);
	if (!s)
		return -ENOMEM;
	s->seq = r->seq++;
	memcpy(&s->h, h, h->size);
	r->recs[r->len++] = &s->h;
	if (h->ts > r->newest)
		r->newest = h->ts;
	if (h->ts < r->released_ts)
		r->late++;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct weft_event_header *x = *(const struct weft_event_header *const *)a;
	const struct weft_event_header *y = *(const struct weft_event_header *const *)b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return SLOT_OF(x)->seq < SLOT_OF(y)->seq ? -1 : 1;
}

void reorder_release(struct reorder *r, int all, reorder_fn fn, void *ctx)
{
	uint64_t limit = all ? UINT64_MAX : r->newest - r->window_ns;
	size_t n = 0;

	if (!r->len)
		return;
	qsort(r->recs, r->len, sizeof(*r->recs), by_time);
	if (!all && r->newest < r->window_ns)
		return;
	while (n < r->len && r->recs[n]->ts <= limit) {
		fn(ctx, r->recs[n]);
		r->released_ts = r->recs[n]->ts;
		free(SLOT_OF(r->recs[n]));
		n++;
	}
	memmove(r->recs, r->recs + n, (r->len - n) * sizeof(*r->recs));
	r->len -= n;
}

void reorder_free(struct reorder *r)
{
	for (size_t i = 0; i < r->len; i++)
		free(SLOT_OF(r->recs[i]));
	free(r->recs);
	memset(r, 0, sizeof(*r));
}
