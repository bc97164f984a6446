// SPDX-License-Identifier: MIT
/* Per-lock wait statistics (see locktable.h). */
#include <stdlib.h>
#include <string.h>

#include "analyze/locktable.h"
#include "weft/events.h"

void lock_table_init(struct lock_table *t)
{
	memset(t, 0, sizeof(*t));
}

void lock_table_free(struct lock_table *t)
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&t->map, &i, &k, &v);)
		free(v);
	u64map_free(&t->map);
}

static uint64_t key_of(int32_t pid, uint64_t lock)
{
	uint64_t x = lock ^ ((uint64_t)(uint32_t)pid * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 31;
	return x ? x : 1;
}

struct lock_entry *lock_table_find(struct lock_table *t, int32_t pid, uint64_t lock)
{
	struct lock_entry *l = u64map_get(&t->map, key_of(pid, lock));

	return l && l->pid == pid && l->lock == lock ? l : NULL;
}

struct lock_entry *lock_table_get(struct lock_table *t, int32_t pid, uint64_t lock, uint32_t kind)
{
	struct lock_entry *l = lock_table_find(t, pid, lock);

	if (l) {
		/* rwlock read and write waits are one lock */
		if (!l->kind)
			l->kind = kind;
		return l;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->pid = pid;
	l->lock = lock;
	l->kind = kind == WEFT_LOCK_RWLOCK_READ ? WEFT_LOCK_RWLOCK_WRITE : kind;
	if (u64map_put(&t->map, key_of(pid, lock), l)) {
		free(l);
		return NULL;
	}
	return l;
}

static void count_tid(struct lock_tid_count *arr, size_t *n, int32_t tid)
{
	size_t i;

	if (!tid)
		return;
	for (i = 0; i < *n && arr[i].tid != tid; i++)
		;
	if (i == *n) {
		if (*n == LOCK_TIDS_MAX)
			return;
		arr[(*n)++] = (struct lock_tid_count){ tid, 0 };
	}
	arr[i].count++;
	/* keep the busiest first */
	while (i > 0 && arr[i].count > arr[i - 1].count) {
		struct lock_tid_count tmp = arr[i - 1];

		arr[i - 1] = arr[i];
		arr[i] = tmp;
		i--;
	}
}

void lock_entry_add_wait(struct lock_entry *l, int32_t waiter, int32_t holder, int32_t releaser,
			 uint64_t ns, bool failed)
{
	size_t i;

	l->waits++;
	if (failed)
		l->timeouts++;
	l->total_wait_ns += ns;
	if (ns > l->max_wait_ns)
		l->max_wait_ns = ns;
	for (i = 0; i < l->nwaiters && l->waiters[i] != waiter; i++)
		;
	if (i == l->nwaiters && l->nwaiters < LOCK_TIDS_MAX)
		l->waiters[l->nwaiters++] = waiter;
	count_tid(l->holders, &l->nholders, holder);
	count_tid(l->releasers, &l->nreleasers, releaser);
}

const char *lock_kind_name(uint32_t kind)
{
	switch (kind) {
	case WEFT_LOCK_MUTEX:
		return "mutex";
	case WEFT_LOCK_RWLOCK_READ:
	case WEFT_LOCK_RWLOCK_WRITE:
		return "rwlock";
	case WEFT_LOCK_SEM:
		return "sem";
	case WEFT_LOCK_COND:
		return "cond";
	}
	return "lock";
}

static int by_wait(const void *a, const void *b)
{
	const struct lock_entry *x = *(const struct lock_entry *const *)a;
	const struct lock_entry *y = *(const struct lock_entry *const *)b;

	if (x->total_wait_ns != y->total_wait_ns)
		return x->total_wait_ns > y->total_wait_ns ? -1 : 1;
	if (x->waits != y->waits)
		return x->waits > y->waits ? -1 : 1;
	return x->lock < y->lock ? -1 : x->lock > y->lock;
}

bool lock_kind_exclusive(uint32_t kind)
{
	return kind != WEFT_LOCK_COND && kind != WEFT_LOCK_SEM;
}

struct lock_entry **lock_table_ranked(struct lock_table *t, bool exclusive, size_t *n)
{
	struct lock_entry **arr = malloc((t->map.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&t->map, &i, &k, &v);)
		if (lock_kind_exclusive(((struct lock_entry *)v)->kind) == exclusive)
			arr[(*n)++] = v;
	qsort(arr, *n, sizeof(*arr), by_wait);
	return arr;
}
