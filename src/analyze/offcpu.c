// SPDX-License-Identifier: MIT
/* Stacks are keyed by a hash of their frame names, so one call path is one row however its
 * return addresses or stack contents varied. */
#include <errno.h>
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

int offcpu_add(struct offcpu_table *t, struct offcpu_stack *s, int32_t tid, uint64_t ns)
{
	size_t i;

	for (i = 0; i < s->ncontribs && s->contribs[i].tid != tid; i++)
		;
	if (i == s->ncontribs) {
		void *p = realloc(s->contribs, (i + 1) * sizeof(*s->contribs));

		if (!p)
			return -ENOMEM;
		s->contribs = p;
		s->contribs[i] = (struct offcpu_contrib){ tid, 0 };
		s->ncontribs++;
	}
	s->contribs[i].ns += ns;
	s->total_ns += ns;
	s->waits++;
	if (ns > s->max_ns)
		s->max_ns = ns;
	t->total_ns += ns;
	return 0;
}

static int by_total(const void *a, const void *b)
{
	const struct offcpu_stack *x = *(const struct offcpu_stack *const *)a;
	const struct offcpu_stack *y = *(const struct offcpu_stack *const *)b;

	if (x->est_ns != y->est_ns)
		return x->est_ns > y->est_ns ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

struct offcpu_stack **offcpu_ranked(const struct offcpu_table *t, offcpu_scale_fn scale,
				    void *ctx, size_t *n)
{
	struct offcpu_stack **arr = malloc((t->by_key.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&t->by_key, &i, &k, &v);) {
		struct offcpu_stack *s = v;
		double est = 0;

		if (!s->waits)
			continue;
		for (size_t j = 0; j < s->ncontribs; j++)
			est += s->contribs[j].ns * (scale ? scale(ctx, s->contribs[j].tid) : 1.0);
		s->est_ns = (uint64_t)est;
		arr[(*n)++] = s;
	}
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
		free(s->contribs);
		free(s);
	}
	u64map_free(&t->by_key);
	t->total_ns = 0;
}
