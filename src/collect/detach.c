// SPDX-License-Identifier: MIT
/*
 * Destroying a link to a tracepoint waits for the kernel's RCU grace periods before it
 * returns: ~70 ms each on our VMs. libbpf destroys a skeleton's links one after another, so
 * weft's 16 kept it alive 1.2 s after it had printed the summary. Destroyed from several
 * threads at once, the waits overlap and the whole batch takes about one.
 *
 * Not for every kind of link, though: a perf-event link (a syscall's tracepoint, a uprobe) is
 * released under the kernel's event_mutex, with a grace period of its own inside, so those go
 * one at a time however many threads close them (~28 ms apiece here). weft's ~20 held it
 * ~0.5 s after its summary was out. detach_in_child() takes that wait off weft's exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

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

/*
 * The last references go to a child: it takes a copy of every open file at the fork, this
 * process then destroys its links (closes that are no longer the last return at once) and
 * gives the child its cue, and the child's exit releases them in the kernel while this process
 * writes its trace and exits, waiting for none of it. The child holds nothing a caller waits
 * on (its standard streams become /dev/null; the cue's pipe is close-on-exec) and leaves the
 * terminal's session, so a Ctrl-C meant for the next command does not reach it.
 */
bool detach_in_child(struct detach_batch *b)
{
	static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	int cue[2];
	pid_t pid;

	if (!b->n)
		return true;
	if (pipe2(cue, O_CLOEXEC))
		return false;
	pid = fork();
	if (pid < 0) {
		close(cue[0]);
		close(cue[1]);
		return false;
	}
	if (pid == 0) {
		/* Async-signal-safe calls only: the parent had other threads. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		int null = open("/dev/null", O_RDWR);
		char byte;

		close(cue[1]);
		setsid();
		for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
			sigaction(handled[i], &dfl, NULL); /* weft's handlers only set flags */
		for (int fd = 0; null >= 0 && fd < 3; fd++)
			dup2(null, fd);
		/* EOF: the parent has let go (a signal ends the wait too: the exit releases all
		 * the same, only the parent's closes may then be the last ones). */
		while (read(cue[0], &byte, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(cue[0]);
	for (size_t i = 0; i < b->n; i++)
		bpf_link__destroy(b->links[i]);
	free(b->links);
	*b = (struct detach_batch){ 0 };
	close(cue[1]);
	return true;
}
