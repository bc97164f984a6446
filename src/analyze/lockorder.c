// SPDX-License-Identifier: MIT
/* Lock-order graph and cycle detection (see lockorder.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/lockorder.h"
#include "weft/hash.h"

struct lo_node {
	uint64_t lock;
	struct lo_edge *out;
	unsigned mark;
};

struct lo_graph {
	int32_t pid;
	struct u64map nodes;   /* lock -> struct lo_node */
	struct lo_edge **edges;
	size_t nedges, cap;
};

void lockorder_init(struct lockorder *lo)
{
	memset(lo, 0, sizeof(*lo));
}

static void graph_free(struct lo_graph *g)
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&g->nodes, &i, &k, &v);)
		free(v);
	u64map_free(&g->nodes);
	for (size_t i = 0; i < g->nedges; i++)
		free(g->edges[i]);
	free(g->edges);
	free(g);
}

void lockorder_free(struct lockorder *lo)
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&lo->graphs, &i, &k, &v);)
		graph_free(v);
	u64map_free(&lo->graphs);
	for (size_t i = 0; i < lo->nretired; i++)
		graph_free(lo->retired[i]);
	free(lo->retired);
	u64map_free(&lo->reported);
	for (size_t i = 0; i < lo->ncycles; i++)
		free(lo->cycles[i]);
	free(lo->cycles);
	memset(lo, 0, sizeof(*lo));
}

void lockorder_forget(struct lockorder *lo, int32_t pid)
{
	struct lo_graph *g = u64map_del(&lo->graphs, (uint64_t)(uint32_t)pid + 1);
	void **p;

	/* Reported cycles point at its edges: keep its memory until lockorder_free(). */
	if (!g)
		return;
	p = realloc(lo->retired, (lo->nretired + 1) * sizeof(*p));
	if (!p) {
		u64map_put(&lo->graphs, (uint64_t)(uint32_t)pid + 1, g);
		return;
	}
	lo->retired = p;
	lo->retired[lo->nretired++] = g;
}

static struct lo_node *node_get(struct lo_graph *g, uint64_t lock, bool create)
{
	struct lo_node *n = u64map_get(&g->nodes, lock);

	if (n || !create)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->lock = lock;
	if (u64map_put(&g->nodes, lock, n)) {
		free(n);
		return NULL;
	}
	return n;
}

/* Depth-first search for a path start -> ... -> goal of at most LO_CYCLE_MAX - 1 edges. */
static bool find_path(struct lockorder *lo, struct lo_graph *g, struct lo_node *start,
		      uint64_t goal, const struct lo_edge **path, size_t *len)
{
	struct {
		struct lo_node *node;
		struct lo_edge *next;
	} st[LO_CYCLE_MAX];
	size_t depth = 0;

	start->mark = lo->epoch;
	st[0].node = start;
	st[0].next = start->out;
	while (true) {
		struct lo_edge *e = st[depth].next;
		struct lo_node *n;

		if (!e) {
			if (depth == 0)
				return false;
			depth--;
			continue;
		}
		st[depth].next = e->next_out;
		path[depth] = e;
		if (e->to == goal) {
			*len = depth + 1;
			return true;
		}
		n = node_get(g, e->to, false);
		if (!n || n->mark == lo->epoch || depth + 2 >= LO_CYCLE_MAX)
			continue;
		n->mark = lo->epoch;
		depth++;
		st[depth].node = n;
		st[depth].next = n->out;
	}
}

int lockorder_add(struct lockorder *lo, int32_t pid, uint64_t from, uint64_t to, int32_t tid,
		  uint64_t ts, void *user, const struct lo_cycle **cycle)
{
	uint64_t gkey = (uint64_t)(uint32_t)pid + 1, ckey = 0;
	const struct lo_edge *path[LO_CYCLE_MAX];
	struct lo_node *nf, *nt;
	struct lo_graph *g;
	struct lo_cycle *c;
	struct lo_edge *e;
	size_t len = 0;

	*cycle = NULL;
	if (from == to)
		return 0;
	g = u64map_get(&lo->graphs, gkey);
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g || u64map_put(&lo->graphs, gkey, g)) {
			free(g);
			return -ENOMEM;
		}
		g->pid = pid;
	}
	nf = node_get(g, from, true);
	nt = node_get(g, to, true);
	if (!nf || !nt)
		return -ENOMEM;
	for (e = nf->out; e; e = e->next_out)
		if (e->to == to)
			return 0;
	if (g->nedges == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		void *p = realloc(g->edges, cap * sizeof(*g->edges));

		if (!p)
			return -ENOMEM;
		g->edges = p;
		g->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct lo_edge){ from, to, pid, tid, ts, user, nf->out };
	nf->out = e;
	g->edges[g->nedges++] = e;
	lo->nedges++;

	/* Does `to` already reach `from`? Then from -> to closes a cycle. */
	lo->epoch++;
	if (!find_path(lo, g, nt, from, path, &len))
		return 1;
	ckey = weft_mix64(from) ^ weft_mix64(to);
	for (size_t i = 0; i < len; i++)
		if (path[i]->to != from)
			ckey ^= weft_mix64(path[i]->to);
	ckey = weft_mix64(ckey ^ (uint64_t)(uint32_t)pid) | 1;
	if (u64map_get(&lo->reported, ckey))
		return 1;
	c = calloc(1, sizeof(*c));
	if (!c || (lo->ncycles == lo->cap &&
		   !(lo->cycles = realloc(lo->cycles, (lo->cap = lo->cap ? lo->cap * 2 : 8) *
							 sizeof(*lo->cycles))))) {
		free(c);
		return 1; /* the edge is in; only the report is lost */
	}
	c->pid = pid;
	c->ts = ts;
	c->edges[0] = e;
	for (size_t i = 0; i < len && i + 1 < LO_CYCLE_MAX; i++)
		c->edges[i + 1] = path[i];
	c->n = len + 1;
	lo->cycles[lo->ncycles++] = c;
	u64map_put(&lo->reported, ckey, c);
	*cycle = c;
	return 1;
}

static void graph_users(struct lo_graph *g, void (*fn)(void *))
{
	for (size_t i = 0; i < g->nedges; i++) {
		fn(g->edges[i]->user);
		g->edges[i]->user = NULL;
	}
}

void lockorder_free_users(struct lockorder *lo, void (*fn)(void *))
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&lo->graphs, &i, &k, &v);)
		graph_users(v, fn);
	for (size_t i = 0; i < lo->nretired; i++)
		graph_users(lo->retired[i], fn);
}
