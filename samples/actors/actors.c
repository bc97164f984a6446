// SPDX-License-Identifier: MIT
/*
 * A small C actor runtime annotated with weft.h: one thread per actor, a mailbox each.
 * Known behaviour: three fast producers flood "slow" (2 ms per message), whose mailbox grows;
 * "ping" and "pong" bounce a message back and forth. Prints what it knows about itself:
 *   weft-sample: actor=slow max_depth=N handled=M
 *   weft-sample: actor=ping rounds=R
 * Usage: actors [messages-per-producer] [ms-to-wait-for-weft]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "weft/weft.h"

struct msg {
	struct msg *next;
	uint64_t id;
	int kind; /* 0 work, 1 ping, 2 stop */
	struct actor *from;
};

struct actor {
	const char *name;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg *head, *tail;
	long depth, max_depth, handled;
	void (*handle)(struct actor *self, struct msg *m);
	pthread_t thread;
	struct actor *peer;
};

static uint64_t next_id = 1;

static void send(struct actor *from, struct actor *to, int kind)
{
	struct msg *m = calloc(1, sizeof(*m));
	long depth;

	m->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	m->kind = kind;
	m->from = from;
	pthread_mutex_lock(&to->mu);
	if (to->tail)
		to->tail->next = m;
	else
		to->head = m;
	to->tail = m;
	depth = ++to->depth;
	if (depth > to->max_depth)
		to->max_depth = depth;
	/* inside the lock: the send must be recorded before the receiver can take the message */
	WEFT_ACTOR_SEND(from, to, m->id, depth);
	pthread_cond_signal(&to->cv);
	pthread_mutex_unlock(&to->mu);
}

static void *actor_main(void *arg)
{
	struct actor *a = arg;

	for (;;) {
		struct msg *m;
		long depth;

		pthread_mutex_lock(&a->mu);
		while (!a->head)
			pthread_cond_wait(&a->cv, &a->mu);
		m = a->head;
		a->head = m->next;
		if (!a->head)
			a->tail = NULL;
		depth = --a->depth;
		pthread_mutex_unlock(&a->mu);
		WEFT_ACTOR_RECV(a, m->id, depth);
		if (m->kind == 2) {
			WEFT_ACTOR_DONE(a);
			free(m);
			return NULL;
		}
		a->handle(a, m);
		a->handled++;
		WEFT_ACTOR_DONE(a);
		free(m);
	}
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void slow_handle(struct actor *self, struct msg *m)
{
	sleep_us(2000);
}

static int rounds_left;

static void pingpong_handle(struct actor *self, struct msg *m)
{
	if (self->name[1] == 'i' && __atomic_sub_fetch(&rounds_left, 1, __ATOMIC_RELAXED) < 0)
		return;
	sleep_us(100);
	send(self, self->peer, 1);
}

static void actor_start(struct actor *a, const char *name, void (*handle)(struct actor *,
									   struct msg *))
{
	a->name = name;
	a->handle = handle;
	/* before anyone sends to it: its tracks are named when they are first drawn */
	WEFT_ACTOR_NAME(a, name);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	pthread_create(&a->thread, NULL, actor_main, a);
}

struct producer {
	struct actor self;
	struct actor *to;
	int n;
	pthread_t thread;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	WEFT_ACTOR_NAME(&p->self, p->self.name);
	for (int i = 0; i < p->n; i++) {
		send(&p->self, p->to, 0);
		sleep_us(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int wait_ms = argc > 2 ? atoi(argv[2]) : 0;
	static struct actor slow, ping, pong;
	static struct producer prod[3];
	static const char *const names[3] = { "producer-1", "producer-2", "producer-3" };

	/* Under `weft run` the probes go in shortly after exec: wait for them, if asked to. */
	for (int i = 0; i < wait_ms && !(WEFT_ENABLED(actor_name) && WEFT_ENABLED(actor_send) &&
					 WEFT_ENABLED(actor_recv) && WEFT_ENABLED(actor_done)); i++)
		sleep_us(1000);
	/* A semaphore goes up when a probe is registered, its BPF program a moment later. */
	if (wait_ms)
		sleep_us(100 * 1000);
	rounds_left = n;
	actor_start(&slow, "slow", slow_handle);
	actor_start(&ping, "ping", pingpong_handle);
	actor_start(&pong, "pong", pingpong_handle);
	ping.peer = &pong;
	pong.peer = &ping;
	send(NULL, &ping, 1);
	for (int i = 0; i < 3; i++) {
		prod[i].self.name = names[i];
		prod[i].to = &slow;
		prod[i].n = n;
		pthread_create(&prod[i].thread, NULL, produce, &prod[i]);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(prod[i].thread, NULL);
	send(NULL, &slow, 2);
	pthread_join(slow.thread, NULL);
	send(NULL, &ping, 2);
	pthread_join(ping.thread, NULL);
	send(NULL, &pong, 2);
	pthread_join(pong.thread, NULL);
	printf("weft-sample: actor=slow max_depth=%ld handled=%ld\n", slow.max_depth, slow.handled);
	printf("weft-sample: actor=ping handled=%ld\n", ping.handled);
	printf("weft-sample: actor=pong handled=%ld\n", pong.handled);
	return 0;
}
