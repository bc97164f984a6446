/* SPDX-License-Identifier: MIT */
/* Puts records from all CPUs back into timestamp order before analysis sees them. */
#ifndef WEFT_REORDER_H
#define WEFT_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "weft/events.h"

/*
 * A record's timestamp is taken just before it is reserved in the ring, so records from
 * different CPUs arrive out of order (each CPU has its own ring, drained one after another).
 * Records are kept sorted by (ts, arrival) with a merge of the sorted runs they arrive in, and
 * released once they are older than the drain's clock (reorder_advance; without one, the newest
 * record seen) minus `window_ns`. They are copied once,
 * into fixed-size chunks; or, when the caller keeps them valid until the next release
 * (reorder_keep: the BPF rings read in place), only if that release leaves them held. A chunk
 * is reused once all its records are released, so the records still held never move (copying
 * them forward cost more than the first copy).
 */
#define REORDER_KEPT UINT32_MAX /* a record in the caller's memory, not in a chunk */

struct reorder_entry {
	uint64_t ts;
	const struct weft_event_header *rec;
	uint32_t chunk;    /* index into chunks, or REORDER_KEPT */
	uint32_t pad;
};

struct reorder_chunk;

struct reorder {
	struct reorder_chunk **chunks;
	uint32_t nchunks, fill;  /* fill: the chunk records are copied into */
	uint32_t *free_chunks;   /* empty chunks other than fill, nfree of them */
	uint32_t nfree;
	struct reorder_entry *ents, *tmp; /* tmp: merge scratch, tmp_cap entries */
	size_t len, cap, tmp_cap;
	size_t sorted;     /* ents[0..sorted) are in order */
	uint64_t newest;   /* the newest record's ts */
	uint64_t clock;    /* every source was drained up to here (0: never said) */
	uint64_t window_ns;
	uint64_t late;     /* records older than something already released */
	uint64_t released_ts;
};

typedef void (*reorder_fn)(void *ctx, const struct weft_event_header *h);

void reorder_init(struct reorder *r, uint64_t window_ns);
int reorder_push(struct reorder *r, const struct weft_event_header *h);
/* Like reorder_push, but the caller keeps h valid until the next reorder_release() returns:
 * copied then only if not released. */
int reorder_keep(struct reorder *r, const struct weft_event_header *h);
/*
 * Every source has been drained up to ts: once called, releases go by this clock and not by the
 * newest record. A drain reads one ring after another, so the last ring read holds records
 * newer than some the first ring got after it was read; were the newest record the clock, a
 * drain that took longer than the window (weft preempted in the middle of one) would release
 * past those, and they would arrive late. It also lets records be released when few arrive
 * (the preload shim records only waits).
 */
void reorder_advance(struct reorder *r, uint64_t ts);
/* Release what is old enough; all of it when `all` is set. Kept records still held are copied
 * before it returns. */
void reorder_release(struct reorder *r, int all, reorder_fn fn, void *ctx);
void reorder_free(struct reorder *r);

#endif
