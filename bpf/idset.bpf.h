/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Sets of thread ids, one bit per id in an array map: asked by programs that run for every
 * thread of the machine, where a test costs an inlined array access instead of a helper call
 * (a hash or task-storage lookup). */
#ifndef WEFT_IDSET_BPF_H
#define WEFT_IDSET_BPF_H

#include "common.bpf.h"

/* Declares the set `name`, for ids below WEFT_TGID_LIMIT (every pid is). */
#define ID_SET(name)                                       \
	struct {                                           \
		__uint(type, BPF_MAP_TYPE_ARRAY);          \
		__uint(max_entries, WEFT_TGID_LIMIT / 64); \
		__type(key, __u32);                        \
		__type(value, __u64);                      \
	} name SEC(".maps")

/* The word of set that holds id's bit; NULL if id is out of range. */
static __always_inline __u64 *idset_word(void *set, __u32 id)
{
	__u32 word = id / 64;

	return bpf_map_lookup_elem(set, &word);
}

static __always_inline __u64 idset_bit(__u32 id)
{
	return 1ULL << (id % 64);
}

static __always_inline bool idset_has(void *set, __u32 id)
{
	__u64 *w = idset_word(set, id);

	return w && (*w & idset_bit(id));
}

/* Atomic: other CPUs change other bits of the same word. */
static __always_inline void idset_add(void *set, __u32 id)
{
	__u64 *w = idset_word(set, id);

	if (w)
		__sync_fetch_and_or(w, idset_bit(id));
}

static __always_inline void idset_del(void *set, __u32 id)
{
	__u64 *w = idset_word(set, id);

	if (w)
		__sync_fetch_and_and(w, ~idset_bit(id));
}

#endif /* WEFT_IDSET_BPF_H */
