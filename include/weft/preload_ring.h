/* SPDX-License-Identifier: MIT */
/* The preload ring: how the shim inside a traced process hands records to the collector. */
#ifndef WEFT_PRELOAD_RING_H
#define WEFT_PRELOAD_RING_H

/*
 * One shared-memory file per traced process image, created by the shim in the directory named
 * by $WEFT_PRELOAD_DIR as "<pid>-<boottime ns>.ring" (a fork or an exec makes a new one; the
 * collector scans the directory). Many producers (the process's threads, signal handlers),
 * one consumer (the collector). Never blocks a producer: a record that does not fit is counted
 * in lost[] and dropped.
 *
 *   0                                   WEFT_RING_HDR_SIZE              + data_size
 *   +-----------------------------------+------------------------------------------+
 *   | struct weft_ring_header           | entries: [u32 len|flags, u32 0][record]  |
 *   | magic (set last), sizes, lost[],  | each 8-byte aligned; an entry never wraps:|
 *   | prod (producers), cons (collector)| a DISCARD entry pads to the end instead   |
 *   +-----------------------------------+------------------------------------------+
 *
 * Producers reserve with a CAS on prod (checking against cons), write the record, then publish
 * it by storing its length word (release). The data area is all zeroes where nothing is
 * published: the consumer zeroes what it consumed before advancing cons (release), so a
 * length word of 0 means "reserved, not yet written" and the consumer stops there.
 * Positions are free-running 64-bit byte counts; offset = pos & (data_size - 1).
 */
#include <stddef.h>
#include <stdint.h>
#ifndef __BPF__
#include <linux/types.h>
#endif

#define WEFT_RING_MAGIC 0x676e6972746665ULL /* "weftring" (7 bytes) */
#define WEFT_RING_VERSION 1
#define WEFT_RING_HDR_SIZE 4096
#define WEFT_RING_DEFAULT_DATA (1u << 20)
#define WEFT_RING_ENV_DIR "WEFT_PRELOAD_DIR"
#define WEFT_RING_ENV_SIZE "WEFT_PRELOAD_RING_SIZE"
#define WEFT_RING_LOST_MAX 32 /* indexed by enum weft_loss_reason */

#define WEFT_RING_BUSY 0x80000000u    /* never stored: 0 plays that role (see above) */
#define WEFT_RING_DISCARD 0x40000000u /* padding to the end of the data area */
#define WEFT_RING_LEN_MASK 0x00ffffffu

struct weft_ring_header {
	__u64 magic;          /* WEFT_RING_MAGIC once the rest is initialised */
	__u32 version;
	__u32 header_size;    /* WEFT_RING_HDR_SIZE: data starts here */
	__u32 data_size;      /* power of two */
	__u32 pid;
	__u32 ppid;
	__u32 flags;          /* WEFT_RING_F_* */
	__u64 created_ts;     /* CLOCK_BOOTTIME */
	__u64 lost[WEFT_RING_LOST_MAX];
	__u64 disabled;       /* non-zero: the shim turned itself off (reason code) */
	__u8 pad0[64 - ((40 + 8 * WEFT_RING_LOST_MAX + 8) % 64)];
	__u64 prod;           /* own cache line: written by producers */
	__u8 pad1[56];
	__u64 cons;           /* own cache line: written by the consumer */
	__u8 pad2[56];
};

#define WEFT_RING_F_STATIC_TLS 0x1 /* informational */

/* A mapped ring, either side. */
struct weft_ring {
	struct weft_ring_header *hdr;
	__u8 *data;
	__u32 mask;
};

static inline __u32 weft_ring_entry_size(__u32 len)
{
	return (8 + len + 7) & ~7u;
}

static inline void weft_ring_attach(struct weft_ring *r, void *base)
{
	r->hdr = (struct weft_ring_header *)base;
	r->data = (__u8 *)base + WEFT_RING_HDR_SIZE;
	r->mask = r->hdr->data_size - 1;
}

/* Producer: init a freshly zeroed mapping of WEFT_RING_HDR_SIZE + data_size bytes. */
static inline void weft_ring_init(struct weft_ring *r, void *base, __u32 data_size, __u32 pid,
				  __u32 ppid, __u64 now)
{
	struct weft_ring_header *h = (struct weft_ring_header *)base;

	h->version = WEFT_RING_VERSION;
	h->header_size = WEFT_RING_HDR_SIZE;
	h->data_size = data_size;
	h->pid = pid;
	h->ppid = ppid;
	h->created_ts = now;
	__atomic_store_n(&h->magic, WEFT_RING_MAGIC, __ATOMIC_RELEASE);
	weft_ring_attach(r, base);
}

static inline void weft_ring_lose(struct weft_ring *r, unsigned reason)
{
	if (r->hdr && reason < WEFT_RING_LOST_MAX)
		__atomic_fetch_add(&r->hdr->lost[reason], 1, __ATOMIC_RELAXED);
}

/*
 * Producer: reserve room for a record of `len` bytes. Returns where to write it, or NULL (the
 * loss is counted). Lock-free and async-signal-safe: a signal handler may reserve while the
 * interrupted code holds an unpublished reservation.
 */
static inline void *weft_ring_reserve(struct weft_ring *r, __u32 len, uint64_t *pos_out)
{
	struct weft_ring_header *h = r->hdr;
	__u32 size = h->data_size, total = weft_ring_entry_size(len);
	__u64 prod = __atomic_load_n(&h->prod, __ATOMIC_RELAXED), cons, off, pad;

	if (len > WEFT_RING_LEN_MASK || total > size / 2) {
		weft_ring_lose(r, 24 /* WEFT_LOSS_PRELOAD_RING_FULL */);
		return NULL;
	}
	for (;;) {
		off = prod & r->mask;
		pad = off + total > size ? size - off : 0;
		cons = __atomic_load_n(&h->cons, __ATOMIC_ACQUIRE);
		if (prod + pad + total - cons > size) {
			weft_ring_lose(r, 24 /* WEFT_LOSS_PRELOAD_RING_FULL */);
			return NULL;
		}
		if (__atomic_compare_exchange_n(&h->prod, &prod, prod + pad + total, 1,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (pad)
		__atomic_store_n((__u32 *)(r->data + off), (__u32)pad | WEFT_RING_DISCARD,
				 __ATOMIC_RELEASE);
	*pos_out = prod + pad;
	return r->data + ((prod + pad) & r->mask) + 8;
}

/* Producer: publish what weft_ring_reserve() returned. */
static inline void weft_ring_commit(struct weft_ring *r, uint64_t pos, __u32 len)
{
	__atomic_store_n((__u32 *)(r->data + (pos & r->mask)), len, __ATOMIC_RELEASE);
}

/*
 * Consumer: hand each published record to fn(ctx, rec, len) in ring order, zero it and advance.
 * Stops at the first reservation not yet published. Returns the records consumed. The ring is
 * the producer's memory, so an entry is checked before anything is read from it or written to
 * it: one that would reach past the ring (or is not a whole number of 8-byte words) stops the
 * reading. The ring's size is the one taken when it was attached, not the header's now.
 */
static inline long weft_ring_consume(struct weft_ring *r,
				     int (*fn)(void *ctx, const void *rec, size_t len), void *ctx)
{
	struct weft_ring_header *h = r->hdr;
	__u64 cons = __atomic_load_n(&h->cons, __ATOMIC_RELAXED);
	__u64 prod = __atomic_load_n(&h->prod, __ATOMIC_ACQUIRE);
	__u32 size = r->mask + 1;
	long n = 0;

	while (cons < prod) {
		__u32 off = cons & r->mask;
		__u32 word = __atomic_load_n((__u32 *)(r->data + off), __ATOMIC_ACQUIRE);
		__u32 len = word & WEFT_RING_LEN_MASK, step;
		int record = !(word & WEFT_RING_DISCARD);

		if (!word)
			break;
		step = record ? weft_ring_entry_size(len) : len;
		if (!step || step % 8 || step > size - off)
			break;
		if (record) {
			if (fn)
				fn(ctx, r->data + off + 8, len);
			n++;
		}
		for (__u32 i = 0; i < step; i += 8)
			*(__u64 *)(r->data + off + i) = 0;
		cons += step;
		__atomic_store_n(&h->cons, cons, __ATOMIC_RELEASE);
	}
	return n;
}

#endif /* WEFT_PRELOAD_RING_H */
