// SPDX-License-Identifier: MIT
/* Stacks are keyed by a hash of their frame names, so one call path is one row however its
 * return addresses or stack contents varied. */
#include <stdlib.h>
#include <string.h>

#include "analyze/offcpu.h"

static uint64_t hash_frames(const char *const *frames, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = frames[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		h = (h ^ 0xff) * 0x100000001b3ULL;
	}
	return h;
}

struct offcpu_stack *offcpu_intern(struct offcpu_table *t, const char *const *frames, size_t n)
{
	uint64_t key = hash_frames(frames, n);
	struct offcpu_stack *s = u64map_get(&t->by_key, key);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = key;
	s->frames = calloc(n ? n : 1, sizeof(*s->frames));
	if (!s->frames)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		s->frames[i] = strdup(frames[i]);
		if (!s->frames[i])
			goto fail;
		s->nframes++;
	}
	if (u64map_put(&t->by_key, key, s))
		goto fail;
	return s;
fail:
	for (size_t i = 0; i < s->nframes; i++)
		free(s->frames[i]);
	free(s->frames);
	free(s);
	return NULL;
}

void offcpu_add(struct offcpu_table *t, struct offcpu_stack *s, uint64_t ns)
{
	s->total_ns += ns;
	s->waits++;
	if (ns > s->max_ns)
		s->max_ns = ns;
	t->total_ns += ns;
}

static int by_total(const void *a, const void *b)
{
	const struct offcpu_stack *x = *(const struct offcpu_stack *const *)a;
	const struct offcpu_stack *y = *(const struct offcpu_stack *const *)b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

struct offcpu_stack **offcpu_ranked(const struct offcpu_table *t, size_t *n)
{
	struct offcpu_stack **arr = malloc((t->by_key.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&t->by_key, &i, &k, &v);)
		arr[(*n)++] = v;
	qsort(arr, *n, sizeof(*arr), by_total);
	return arr;
}

void offcpu_free(struct offcpu_table *t)
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&t->by_key, &i, &k, &v);) {
		struct offcpu_stack *s = v;

		for (size_t j = 0; j < s->nframes; j++)
			free(s->frames[j]);
		free(s->frames);
		free(s);
	}
	u64map_free(&t->by_key);
	t->total_ns = 0;
}
