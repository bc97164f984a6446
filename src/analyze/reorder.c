// SPDX-License-Identifier: MIT
/* Chunks + index: no allocation per record, which matters at a million records a second. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/reorder.h"

/* Records stay 8-byte aligned in their chunk so their fields can be read in place. */
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)
/* Room for several drains' worth of one CPU's records, and above the largest record (the
 * size field is 16 bits). */
#define CHUNK_BYTES (256u << 10)
/* Records ahead whose memory is asked for while one is being analysed. */
#define RELEASE_PREFETCH 16

struct reorder_chunk {
	uint32_t len;      /* bytes used */
	uint32_t live;     /* records not yet released */
	_Alignas(8) char data[CHUNK_BYTES];
};

void reorder_init(struct reorder *r, uint64_t window_ns)
{
	memset(r, 0, sizeof(*r));
	r->window_ns = window_ns;
}

/* An empty chunk becomes the fill chunk: a free one, or a new one. */
static int next_chunk(struct reorder *r)
{
	struct reorder_chunk **chunks, *c;
	uint32_t *free_chunks;

	if (r->nfree) {
		r->fill = r->free_chunks[--r->nfree];
		return 0;
	}
	chunks = realloc(r->chunks, (r->nchunks + 1) * sizeof(*chunks));
	if (!chunks)
		return -ENOMEM;
	r->chunks = chunks;
	free_chunks = realloc(r->free_chunks, (r->nchunks + 1) * sizeof(*free_chunks));
	if (!free_chunks)
		return -ENOMEM;
	r->free_chunks = free_chunks;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->len = 0;
	c->live = 0;
	r->chunks[r->nchunks] = c;
	r->fill = r->nchunks++;
	return 0;
}

/* A released record's chunk goes back to the free list once it holds nothing live. */
static void chunk_release(struct reorder *r, uint32_t i)
{
	struct reorder_chunk *c = r->chunks[i];

	if (--c->live || i == r->fill)
		return;
	c->len = 0;
	r->free_chunks[r->nfree++] = i;
}

/* Room for one more entry. */
static int reserve_entry(struct reorder *r)
{
	if (r->len == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 4096;
		void *p = realloc(r->ents, cap * sizeof(*r->ents));

		if (!p)
			return -ENOMEM;
		r->ents = p;
		r->cap = cap;
	}
	return 0;
}

/* A copy of h in the fill chunk: where it is, and in which chunk. */
static int copy_in(struct reorder *r, const struct weft_event_header *h,
		   const struct weft_event_header **rec, uint32_t *chunk)
{
	size_t size = ALIGN8(h->size);
	struct reorder_chunk *c = r->nchunks ? r->chunks[r->fill] : NULL;

	if (!c || CHUNK_BYTES - c->len < size) {
		if (c && !c->live) {
			c->len = 0; /* all released while it was being filled: start it over */
		} else {
			/* the full chunk is freed by the release of its last record */
			if (next_chunk(r))
				return -ENOMEM;
			c = r->chunks[r->fill];
		}
	}
	memcpy(c->data + c->len, h, h->size);
	*rec = (const void *)(c->data + c->len);
	*chunk = r->fill;
	c->len += size;
	c->live++;
	return 0;
}

static void add_entry(struct reorder *r, const struct weft_event_header *rec, uint32_t chunk)
{
	r->ents[r->len++] = (struct reorder_entry){ rec->ts, rec, chunk, 0 };
	if (rec->ts > r->newest)
		r->newest = rec->ts;
	if (rec->ts < r->released_ts)
		r->late++;
}

int reorder_push(struct reorder *r, const struct weft_event_header *h)
{
	const struct weft_event_header *rec;
	uint32_t chunk;

	if (reserve_entry(r) || copy_in(r, h, &rec, &chunk))
		return -ENOMEM;
	add_entry(r, rec, chunk);
	return 0;
}

int reorder_keep(struct reorder *r, const struct weft_event_header *h)
{
	if (reserve_entry(r))
		return -ENOMEM;
	add_entry(r, h, REORDER_KEPT);
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

void reorder_advance(struct reorder *r, uint64_t ts)
{
	if (ts > r->clock)
		r->clock = ts;
}

/*
 * Kept records still held are copied now: their memory is the caller's again once the release
 * returns. With no memory for a copy, they are released out of turn rather than lost.
 */
static void copy_kept(struct reorder *r, reorder_fn fn, void *ctx)
{
	for (size_t i = 0; i < r->len; i++) {
		struct reorder_entry *e = &r->ents[i];

		if (e->chunk == REORDER_KEPT && copy_in(r, e->rec, &e->rec, &e->chunk)) {
			fn(ctx, e->rec);
			r->late++;
			memmove(e, e + 1, (r->len - i - 1) * sizeof(*e));
			r->len--;
			r->sorted--;
			i--;
		}
	}
}

void reorder_release(struct reorder *r, int all, reorder_fn fn, void *ctx)
{
	uint64_t now = r->clock ? r->clock : r->newest, limit;
	size_t n = 0;

	if (!r->len)
		return;
	if (sort_new(r))
		all = 1; /* no memory to sort: release in arrival order rather than lose records */
	limit = all ? UINT64_MAX : now < r->window_ns ? 0 : now - r->window_ns;
	while (n < r->len && r->ents[n].ts <= limit) {
		const struct reorder_entry *e = &r->ents[n];

		/* A drain reads megabytes before it releases the first record, so each record is
		 * out of the cache again when the analysis reads it: ask for both of its lines a
		 * few records ahead (the switch's flags lie past its first line). In alternating
		 * runs, 7-12% less of weft's CPU per event on the ping-pong. */
		if (n + RELEASE_PREFETCH < r->len) {
			__builtin_prefetch(r->ents[n + RELEASE_PREFETCH].rec);
			__builtin_prefetch((const char *)r->ents[n + RELEASE_PREFETCH].rec + 56);
		}
		fn(ctx, e->rec);
		if (e->chunk != REORDER_KEPT)
			chunk_release(r, e->chunk);
		r->released_ts = e->ts;
		n++;
	}
	if (n) {
		r->len -= n;
		memmove(r->ents, r->ents + n, r->len * sizeof(*r->ents));
		r->sorted = r->len;
	}
	copy_kept(r, fn, ctx);
}

void reorder_free(struct reorder *r)
{
	for (uint32_t i = 0; i < r->nchunks; i++)
		free(r->chunks[i]);
	free(r->chunks);
	free(r->free_chunks);
	free(r->ents);
	free(r->tmp);
	memset(r, 0, sizeof(*r));
}
