/* SPDX-License-Identifier: MIT */
/* Off-CPU time aggregated by the (symbolized) stack a thread was waiting in. */
#ifndef WEFT_OFFCPU_H
#define WEFT_OFFCPU_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/u64map.h"

struct offcpu_stack {
	uint64_t key;
	uint64_t total_ns;
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
void offcpu_add(struct offcpu_table *t, struct offcpu_stack *s, uint64_t ns);
/* A malloc'ed array of all stacks, worst (most total time) first. */
struct offcpu_stack **offcpu_ranked(const struct offcpu_table *t, size_t *n);
void offcpu_free(struct offcpu_table *t);

#endif
