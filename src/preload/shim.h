/* SPDX-License-Identifier: MIT */
/* Internals shared by the shim's files: per-thread state, the ring, record emission. */
#ifndef WEFT_PRELOAD_SHIM_H
#define WEFT_PRELOAD_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/events.h"
#include "weft/preload_ring.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define HELD_MAX 32

struct held_lock {
	uint64_t lock;
	uint64_t caller;
	uint32_t kind;
	uint32_t pad;
};

/* Edges this thread already checked, direct-mapped: the usual nested acquisition (the same
 * outer lock taken again and again, then the same inner one) never reaches the shared set. */
#define EDGE_CACHE 64

struct edge_cache_entry {
	uint64_t from, to;
};

/* Per thread; initial-exec TLS so reading it is one instruction and never allocates. */
struct shim_thread {
	int busy;              /* inside the shim's recording path: pass nested calls through */
	uint32_t tid;          /* 0 until first needed */
	uint32_t nheld;
	struct held_lock held[HELD_MAX];
	struct edge_cache_entry edge_cache[EDGE_CACHE];
};

extern TLS struct shim_thread shim_self HIDDEN;
extern struct weft_ring shim_ring HIDDEN;
extern volatile int shim_active HIDDEN;  /* a ring exists and recording is on */
extern uint32_t shim_pid HIDDEN;

uint64_t shim_now(void) HIDDEN;
uint32_t shim_tid(void) HIDDEN;
/* Reserve a record of `size` bytes with its header filled in (ts given); NULL if dropped. */
void *shim_rec_begin(uint32_t type, uint32_t size, uint64_t ts, uint32_t tid, uint64_t *pos)
	HIDDEN;
void shim_rec_end(uint64_t pos, uint32_t size) HIDDEN;
void shim_lose(unsigned reason) HIDDEN;
void shim_resolve_all(void) HIDDEN;
void shim_comm_self(char comm[WEFT_COMM_LEN]) HIDDEN;

/* locks.c: lock-order edges. */
void shim_edges_reset(void) HIDDEN;

/* Real functions, resolved once. */
void *shim_real(const char *name, const char *version) HIDDEN;

#endif
