/* SPDX-License-Identifier: MIT */
/* Interning tables: byte strings to ids (1, 2, ...) in insertion order. */
#ifndef WEFT_PERFETTO_INTERN_H
#define WEFT_PERFETTO_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct pf_intern_ent {
	size_t off; /* key bytes at arena + off, followed by a NUL */
	uint32_t len;
	uint32_t hash;
};

/*
 * Keys live in one growing arena and are found through an open-addressing index, so a table of
 * N keys costs a handful of allocations, and clearing it keeps the memory for reuse.
 */
struct pf_intern {
	char *arena;
	size_t arena_len, arena_cap;
	struct pf_intern_ent *ents; /* ents[id - 1] */
	size_t len, cap;
	uint32_t *slots; /* 0: empty, else index into ents + 1 */
	size_t nslots;	 /* power of two */
	uint64_t base;	 /* ids of this round are base + 1 ... base + len */
};

/* Finds key or adds it. *id gets its id (> base). Returns 1 if added, 0 if found, or -errno. */
int pf_intern_get(struct pf_intern *t, const void *key, size_t len, uint64_t *id);
/* The NUL-terminated key of id; valid until the next pf_intern_get() on t. */
const char *pf_intern_key(const struct pf_intern *t, uint64_t id);
static inline size_t pf_intern_count(const struct pf_intern *t)
{
	return t->len;
}
/* Forgets every key; ids start again at 1. */
void pf_intern_clear(struct pf_intern *t);
/* Forgets every key, but ids go on from the last one, so no id ever names two keys. */
void pf_intern_retire(struct pf_intern *t);
void pf_intern_free(struct pf_intern *t);

#endif /* WEFT_PERFETTO_INTERN_H */
