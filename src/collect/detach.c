// SPDX-License-Identifier: MIT
/*
 * Destroying a link to a tracepoint waits for the kernel's RCU grace periods before it
 * returns: ~70 ms each on our VMs. libbpf destroys a skeleton's links one after another, so
 * weft's 16 kept it alive 1.2 s after it had printed the summary. Destroyed from several
 * threads at once, the waits overlap and the whole batch takes about one.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <bpf/libbpf.h>

#include "collect/detach.h"

#define DETACH_THREADS 16

struct detach_work {
	struct detach_batch *b;
	atomic_size_t next;
};

void detach_add(struct detach_batch *b, struct bpf_link **link)
{
	if (!*link)
		return;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 32;
		struct bpf_link **p = realloc(b->links, cap * sizeof(*p));

		if (!p) {
			/* Out of memory: this one the slow way, now. */
			bpf_link__destroy(*link);
			*link = NULL;
			return;
		}
		b->links = p;
		b->cap = cap;
	}
	b->links[b->n++] = *link;
	*link = NULL;
}

void detach_skeleton(struct detach_batch *b, struct bpf_object_skeleton *s)
{
	for (int i = 0; s && i < s->prog_cnt; i++) {
		struct bpf_prog_skeleton *p = (void *)((char *)s->progs + (size_t)i * s->prog_skel_sz);

		if (p->link)
			detach_add(b, p->link);
	}
}

static void *detach_worker(void *arg)
{
	struct detach_work *w = arg;
	size_t i;

	while ((i = atomic_fetch_add(&w->next, 1)) < w->b->n)
		bpf_link__destroy(w->b->links[i]);
	return NULL;
}

void detach_run(struct detach_batch *b)
{
	struct detach_work w = { .b = b };
	pthread_t threads[DETACH_THREADS];
	size_t started = 0;

	while (started < DETACH_THREADS && started + 1 < b->n &&
	       !pthread_create(&threads[started], NULL, detach_worker, &w))
		started++;
	detach_worker(&w); /* this thread too; and all of them if no thread could start */
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(b->links);
	*b = (struct detach_batch){ 0 };
}
