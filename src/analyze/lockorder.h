/* SPDX-License-Identifier: MIT */
/* The lock-order graph: edges "held A while taking B", per process; a cycle is an inversion. */
#ifndef WEFT_LOCKORDER_H
#define WEFT_LOCKORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/u64map.h"

/*
 * Pure and small: no I/O, no symbolization. The caller feeds each edge once (the shim already
 * deduplicates per process; repeats here are ignored) with an opaque `user` pointer (its
 * symbolized stack). An edge that closes a cycle (A->B with a path B->...->A already there) is
 * reported once per set of locks, with every edge of the cycle, so both stacks of an A/B
 * inversion come out together, however long ago the first edge was seen. Trylock acquisitions
 * must not be fed as edges (they cannot block).
 */
#define LO_CYCLE_MAX 8

struct lo_edge {
	uint64_t from, to;
	int32_t pid, tid;
	uint64_t ts;
	void *user;
	struct lo_edge *next_out;  /* from's other edges */
};

struct lo_cycle {
	int32_t pid;
	uint64_t ts;                          /* when the closing edge was seen */
	size_t n;                             /* edges; edges[0] is the closing one */
	const struct lo_edge *edges[LO_CYCLE_MAX];
};

struct lockorder {
	struct u64map graphs;      /* pid -> struct lo_graph */
	struct u64map reported;    /* hash of a cycle's lock set -> its cycle */
	struct lo_cycle **cycles;
	size_t ncycles, cap;
	size_t nedges;
	unsigned epoch;            /* DFS visit marks */
	void **retired;            /* graphs of processes that exec'd */
	size_t nretired;
};

void lockorder_init(struct lockorder *lo);
void lockorder_free(struct lockorder *lo);
/*
 * Adds from -> to for process pid. Returns 1 if the edge is new (lo keeps `user`), 0 if it was
 * known or from == to (`user` is not kept), or -ENOMEM. *cycle is set to the cycle the new edge
 * closes (owned by lo) if that set of locks was not reported before, else NULL.
 */
int lockorder_add(struct lockorder *lo, int32_t pid, uint64_t from, uint64_t to, int32_t tid,
		  uint64_t ts, void *user, const struct lo_cycle **cycle);
/* Calls fn(user) for every edge's user pointer (e.g. free). */
void lockorder_free_users(struct lockorder *lo, void (*fn)(void *));
/* Forget a process's graph (it exec'd: addresses mean something else now). */
void lockorder_forget(struct lockorder *lo, int32_t pid);

#endif
