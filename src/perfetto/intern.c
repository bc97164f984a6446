// SPDX-License-Identifier: MIT
/* Interning tables: byte strings to ids (1, 2, ...) in insertion order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfetto/intern.h"

/*
 * Eight bytes at a step, each step a multiply and a shift, then a final mix (the 64-bit
 * finalizer of splitmix64): keys are names of tens of bytes, 24-byte frame keys and callstacks of
 * a few hundred bytes, and a byte at a time (FNV-1a) made hashing a lock wait's names a twelfth
 * of weft's CPU on a lock convoy.
 */
static uint32_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, sizeof(w));
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	if (len) {
		w = 0;
		for (size_t i = 0; i < len; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (uint32_t)(h ^ (h >> 32));
}

static int index_grow(struct pf_intern *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 64;
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	size_t i, s;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->len; i++) {
		s = t->ents[i].hash & (nslots - 1);
		while (slots[s])
			s = (s + 1) & (nslots - 1);
		slots[s] = (uint32_t)(i + 1);
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

static int reserve(void **p, size_t *cap, size_t need, size_t elem, size_t min)
{
	size_t ncap = *cap ? *cap : min;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int pf_intern_get(struct pf_intern *t, const void *key, size_t len, uint64_t *id)
{
	uint32_t hash = hash_bytes(key, len);
	struct pf_intern_ent *e;
	size_t s;
	int err;

	if (len > UINT32_MAX || t->len >= UINT32_MAX - 1)
		return -E2BIG;
	/* keep the load factor at or below 1/2 so probe runs stay short */
	if ((t->len + 1) * 2 > t->nslots) {
		err = index_grow(t);
		if (err)
			return err;
	}
	for (s = hash & (t->nslots - 1); t->slots[s]; s = (s + 1) & (t->nslots - 1)) {
		e = &t->ents[t->slots[s] - 1];
		if (e->hash == hash && e->len == len && !memcmp(t->arena + e->off, key, len)) {
			*id = t->base + t->slots[s];
			return 0;
		}
	}
	err = reserve((void **)&t->ents, &t->cap, t->len + 1, sizeof(*t->ents), 64);
	if (err)
		return err;
	err = reserve((void **)&t->arena, &t->arena_cap, t->arena_len + len + 1, 1, 4096);
	if (err)
		return err;
	e = &t->ents[t->len];
	e->off = t->arena_len;
	e->len = (uint32_t)len;
	e->hash = hash;
	if (len)
		memcpy(t->arena + e->off, key, len);
	t->arena[e->off + len] = '\0';
	t->arena_len += len + 1;
	t->slots[s] = (uint32_t)++t->len;
	*id = t->base + t->len;
	return 1;
}

const char *pf_intern_key(const struct pf_intern *t, uint64_t id)
{
	if (id <= t->base || id - t->base > t->len)
		return NULL;
	return t->arena + t->ents[id - t->base - 1].off;
}

void pf_intern_clear(struct pf_intern *t)
{
	pf_intern_retire(t);
	t->base = 0;
}

void pf_intern_retire(struct pf_intern *t)
{
	t->base += t->len;
	if (t->slots)
		memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->len = 0;
	t->arena_len = 0;
}

void pf_intern_free(struct pf_intern *t)
{
	free(t->arena);
	free(t->ents);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
