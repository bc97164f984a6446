/* SPDX-License-Identifier: MIT */
/* Off-CPU time aggregated by the (symbolized) stack a thread was waiting in. */
#ifndef WEFT_OFFCPU_H
#define WEFT_OFFCPU_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/u64map.h"

/* Stacks are sampled per thread (a rate limit in the kernel), so each thread's share is kept
 * apart and scaled by how much of that thread's off-CPU time was sampled. */
struct offcpu_contrib {
	int32_t tid;
	uint64_t ns;
};

struct offcpu_stack {
	uint64_t key;
	uint64_t total_ns;       /* sampled waits only */
	uint64_t est_ns;         /* estimate for all waits, set by offcpu_ranked() */
	struct offcpu_contrib *contribs;
	size_t ncontribs;
	uint64_t waits;
	uint64_t max_ns;
	size_t nframes;
	char **frames;   /* innermost first: "function (module)" */
};

struct offcpu_table {
	struct u64map by_key;
	uint64_t total_ns;
};

/* Finds or adds the stack made of these frames. NULL only when out of memory. */
struct offcpu_stack *offcpu_intern(struct offcpu_table *t, const char *const *frames, size_t n);
int offcpu_add(struct offcpu_table *t, struct offcpu_stack *s, int32_t tid, uint64_t ns);
/* Factor by which a thread's sampled off-CPU time must be multiplied to cover all of it. */
typedef double (*offcpu_scale_fn)(void *ctx, int32_t tid);
/* A malloc'ed array of all stacks with waits, largest estimated total first. */
struct offcpu_stack **offcpu_ranked(const struct offcpu_table *t, offcpu_scale_fn scale,
				    void *ctx, size_t *n);
void offcpu_free(struct offcpu_table *t);

#endif
