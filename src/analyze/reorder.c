// SPDX-License-Identifier: MIT
/* Arena + index: no allocation per record, which matters at a million records a second. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/reorder.h"

/* Records stay 8-byte aligned in the arena so their fields can be read in place. */
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

void reorder_init(struct reorder *r, uint64_t window_ns)
{
	memset(r, 0, sizeof(*r));
	r->window_ns = window_ns;
}

static int reserve(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 1 << 16;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int reorder_push(struct reorder *r, const struct weft_event_header *h)
{
	size_t size = ALIGN8(h->size);

	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		void *p = realloc(r->ents, cap * sizeof(*r->ents));

		if (!p)
			return -ENOMEM;
		r->ents = p;
		r->cap = cap;
	}
	if (reserve(&r->arena, &r->arena_cap, r->arena_len + size))
		return -ENOMEM;
	memcpy(r->arena + r->arena_len, h, h->size);
	r->ents[r->len++] = (struct reorder_entry){ h->ts, r->arena_len };
	r->arena_len += size;
	if (h->ts > r->newest)
		r->newest = h->ts;
	if (h->ts < r->released_ts)
		r->late++;
	return 0;
}

/* Stable merge of the sorted runs a[0..mid) and a[mid..n), through tmp. */
static void merge(struct reorder_entry *a, size_t mid, size_t n, struct reorder_entry *tmp)
{
	size_t i = 0, j = mid, k = 0;

	if (!mid || mid == n || a[mid - 1].ts <= a[mid].ts)
		return;
	while (i < mid && j < n)
		tmp[k++] = a[j].ts < a[i].ts ? a[j++] : a[i++];
	while (i < mid)
		tmp[k++] = a[i++];
	memcpy(a, tmp, k * sizeof(*a)); /* a[j..n) is already in place */
}

/*
 * Records come one CPU ring after another, each in time order (bar the odd interrupt between
 * taking a timestamp and reserving), so the new records are a few long sorted runs: merge
 * neighbouring runs until one is left (a natural merge sort), then merge it with what was
 * sorted before. Stable: on equal timestamps the earlier arrival stays first (a switch and
 * the stack recorded with it share one).
 */
static int sort_new(struct reorder *r)
{
	size_t n = r->len;
	struct reorder_entry *a = r->ents;

	if (r->sorted == n)
		return 0;
	if (r->tmp_cap < n) {
		void *p = realloc(r->tmp, r->cap * sizeof(*r->tmp));

		if (!p)
			return -ENOMEM;
		r->tmp = p;
		r->tmp_cap = r->cap;
	}
	for (;;) {
		size_t start = r->sorted, runs = 0;

		while (start < n) {
			size_t mid = start + 1, end;

			while (mid < n && a[mid - 1].ts <= a[mid].ts)
				mid++;
			end = mid < n ? mid + 1 : n;
			while (end < n && a[end - 1].ts <= a[end].ts)
				end++;
			merge(a + start, mid - start, end - start, r->tmp);
			start = end;
			runs++;
		}
		if (runs <= 1)
			break;
	}
	merge(a, r->sorted, n, r->tmp);
	r->sorted = n;
	return 0;
}

/* Move the records still pending to the front of a fresh arena. */
static int compact(struct reorder *r, size_t from)
{
	size_t need = 0, off = 0;
	char *tmp;

	for (size_t i = from; i < r->len; i++)
		need += ALIGN8(((struct weft_event_header *)(r->arena + r->ents[i].off))->size);
	if (reserve(&r->spare, &r->spare_cap, need ? need : 1))
		return -ENOMEM;
	for (size_t i = from; i < r->len; i++) {
		struct weft_event_header *h = (void *)(r->arena + r->ents[i].off);

		memcpy(r->spare + off, h, h->size);
		r->ents[i - from] = (struct reorder_entry){ r->ents[i].ts, off };
		off += ALIGN8(h->size);
	}
	tmp = r->arena;
	r->arena = r->spare;
	r->spare = tmp;
	need = r->arena_cap;
	r->arena_cap = r->spare_cap;
	r->spare_cap = need;
	r->arena_len = off;
	r->len -= from;
	r->sorted = r->len;
	return 0;
}

void reorder_advance(struct reorder *r, uint64_t ts)
{
	if (ts > r->newest)
		r->newest = ts;
}

void reorder_release(struct reorder *r, int all, reorder_fn fn, void *ctx)
{
	uint64_t limit;
	size_t n = 0;

	if (!r->len)
		return;
	if (sort_new(r))
		all = 1; /* no memory to sort: release in arrival order rather than lose records */
	if (!all && r->newest < r->window_ns)
		return;
	limit = all ? UINT64_MAX : r->newest - r->window_ns;
	while (n < r->len && r->ents[n].ts <= limit) {
		fn(ctx, (const void *)(r->arena + r->ents[n].off));
		r->released_ts = r->ents[n].ts;
		n++;
	}
	if (n)
		compact(r, n);
}

void reorder_free(struct reorder *r)
{
	free(r->arena);
	free(r->spare);
	free(r->ents);
	free(r->tmp);
	memset(r, 0, sizeof(*r));
}
