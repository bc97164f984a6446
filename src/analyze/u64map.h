/* SPDX-License-Identifier: MIT */
/* Open-addressing hash map from a 64-bit key to a pointer: the tables behind tasks and stacks. */
#ifndef WEFT_U64MAP_H
#define WEFT_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys;
	void **vals;
	size_t cap;   /* power of two; 0 until the first insert */
	size_t len;
};

void *u64map_get(const struct u64map *m, uint64_t key);
/* Insert or replace. Returns 0 or -ENOMEM. NULL values are not allowed. */
int u64map_put(struct u64map *m, uint64_t key, void *val);
void *u64map_del(struct u64map *m, uint64_t key);
void u64map_free(struct u64map *m);
/* Iterate: for (size_t i = 0; u64map_next(m, &i, &k, &v);) */
int u64map_next(const struct u64map *m, size_t *pos, uint64_t *key, void **val);

#endif
