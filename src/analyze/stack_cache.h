/* SPDX-License-Identifier: MIT */
/* Off-CPU stacks already symbolized, found again by the addresses they unwound to. */
#ifndef WEFT_ANALYZE_STACK_CACHE_H
#define WEFT_ANALYZE_STACK_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct offcpu_stack;

/* What a stack became: its interned callstack in the trace, its aggregate in the summary, and
 * the kernel function it blocked in. */
struct stack_cache_val {
	uint64_t callstack_iid;
	struct offcpu_stack *agg;
	const char *blocked_in;
};

struct stack_cache_slot;

struct stack_cache {
	struct stack_cache_slot *slots; /* STACK_CACHE_SLOTS, allocated on first insert */
	uint64_t hits, misses;
};

/* The value for pid's stack ips[0..n), symbolized under symbol generation gen; NULL if not
 * cached. */
const struct stack_cache_val *stack_cache_get(struct stack_cache *c, int32_t pid, uint64_t gen,
					      const uint64_t *ips, size_t n);
/* Remember it, in place of whatever shared its slot. */
void stack_cache_put(struct stack_cache *c, int32_t pid, uint64_t gen, const uint64_t *ips,
		     size_t n, const struct stack_cache_val *v);
void stack_cache_free(struct stack_cache *c);

#endif
