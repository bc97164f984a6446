/* SPDX-License-Identifier: MIT */
/* Per-lock wait statistics: who waited, who held, who released; ranked by total wait. */
#ifndef WEFT_LOCKTABLE_H
#define WEFT_LOCKTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/u64map.h"

/*
 * Keyed by (process, lock address, kind family). Kept apart from the futex-based lock table so
 * the two can be merged: a lock is the same lock in both when pid and address match; waits
 * carry their [start, end] so a merged table can drop a futex wait covered by a shim wait.
 */
#define LOCK_TIDS_MAX 32

struct lock_tid_count {
	int32_t tid;
	uint64_t count;
};

struct lock_entry {
	int32_t pid;
	uint32_t kind;               /* enum weft_lock_kind */
	uint64_t lock;
	char site[256];              /* where it was first taken: "function (module)" */
	char name[128];              /* lock_name(): what every section calls it */
	bool named;                  /* name looked up */
	uint64_t waits, timeouts, releases;
	uint64_t total_wait_ns, max_wait_ns;
	int32_t waiters[LOCK_TIDS_MAX];
	size_t nwaiters;
	struct lock_tid_count holders[LOCK_TIDS_MAX];   /* sorted by count, most first */
	size_t nholders;
	struct lock_tid_count releasers[LOCK_TIDS_MAX];
	size_t nreleasers;
	/* last release seen, to join the next wait to it */
	uint64_t last_release_ts, last_release_flow;
	int32_t last_release_tid;
};

struct lock_table {
	struct u64map map;
};

void lock_table_init(struct lock_table *t);
void lock_table_free(struct lock_table *t);
/* Finds or creates. NULL on ENOMEM. */
struct lock_entry *lock_table_get(struct lock_table *t, int32_t pid, uint64_t lock, uint32_t kind);
struct lock_entry *lock_table_find(struct lock_table *t, int32_t pid, uint64_t lock);
void lock_entry_add_wait(struct lock_entry *l, int32_t waiter, int32_t holder, int32_t releaser,
			 uint64_t ns, bool failed);
const char *lock_kind_name(uint32_t kind);
/* Mutual exclusion (mutexes, rwlocks: contention) or waiting for an event (condition
 * variables, semaphores: a thread idle until told, not held up by a holder). */
bool lock_kind_exclusive(uint32_t kind);
/* The entries of one family (lock_kind_exclusive() == exclusive), most total wait first (then
 * most waits); caller frees the array. */
struct lock_entry **lock_table_ranked(struct lock_table *t, bool exclusive, size_t *n);

#endif
