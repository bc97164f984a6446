// SPDX-License-Identifier: MIT
/*
 * A thread that waits does so from a handful of places, so most off-CPU stacks repeat. Turning
 * one into names and interned frames (symbol lookups, a label per frame, interning each frame
 * and the callstack) cost about as much as unwinding it; a repeat now costs a hash and a
 * compare. Direct-mapped: a slot holds the last stack that hashed to it, so memory is bounded
 * however many distinct stacks a recording has.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/stack_cache.h"

#define STACK_CACHE_SLOTS 1024 /* a power of two */

struct stack_cache_slot {
	uint64_t hash;
	uint64_t gen;
	int32_t pid;
	uint32_t n;
	uint64_t *ips; /* n of them, NULL: empty slot */
	struct stack_cache_val val;
};

static uint64_t stack_hash(int32_t pid, const uint64_t *ips, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uint32_t)pid ^ (uint64_t)n << 32;

	for (size_t i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static struct stack_cache_slot *slot_of(struct stack_cache *c, uint64_t hash)
{
	return &c->slots[hash & (STACK_CACHE_SLOTS - 1)];
}

const struct stack_cache_val *stack_cache_get(struct stack_cache *c, int32_t pid, uint64_t gen,
					      const uint64_t *ips, size_t n)
{
	uint64_t hash = stack_hash(pid, ips, n);
	struct stack_cache_slot *s;

	if (!c->slots) {
		c->misses++;
		return NULL;
	}
	s = slot_of(c, hash);
	if (s->ips && s->hash == hash && s->gen == gen && s->pid == pid && s->n == n &&
	    !memcmp(s->ips, ips, n * sizeof(*ips))) {
		c->hits++;
		return &s->val;
	}
	c->misses++;
	return NULL;
}

void stack_cache_put(struct stack_cache *c, int32_t pid, uint64_t gen, const uint64_t *ips,
		     size_t n, const struct stack_cache_val *v)
{
	uint64_t hash = stack_hash(pid, ips, n);
	struct stack_cache_slot *s;
	uint64_t *copy;

	if (!c->slots && !(c->slots = calloc(STACK_CACHE_SLOTS, sizeof(*c->slots))))
		return;
	copy = malloc(n ? n * sizeof(*ips) : 1);
	if (!copy)
		return;
	memcpy(copy, ips, n * sizeof(*ips));
	s = slot_of(c, hash);
	free(s->ips);
	*s = (struct stack_cache_slot){ hash, gen, pid, (uint32_t)n, copy, *v };
}

void stack_cache_free(struct stack_cache *c)
{
	for (size_t i = 0; c->slots && i < STACK_CACHE_SLOTS; i++)
		free(c->slots[i].ips);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}
