// SPDX-License-Identifier: MIT
/* Two mutexes on the heap (no symbol names them), each waited for and taken in both orders:
 * once per round main holds A and B (A -> B) for 10 ms each while a worker waits for A, then
 * for B; at the end a thread takes B then A (an inversion, never a deadlock: main is done). Under
 * --mode=both the lock table (the kernel's futex waits) and the inversion (the shim's edges)
 * must name each lock the same way.
 * Usage: heap_locks [rounds=3]. Prints its own oracle line. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t *lock_a, *lock_b;

static void *waiter(void *arg)
{
	pthread_setname_np(pthread_self(), "heap-waiter");
	pthread_mutex_lock(lock_a);
	pthread_mutex_unlock(lock_a);
	pthread_mutex_lock(lock_b);
	pthread_mutex_unlock(lock_b);
	return NULL;
}

static void *take_b_then_a(void *arg)
{
	pthread_mutex_lock(lock_b);
	pthread_mutex_lock(lock_a);
	pthread_mutex_unlock(lock_a);
	pthread_mutex_unlock(lock_b);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3;
	pthread_t t;

	lock_a = malloc(sizeof(*lock_a));
	lock_b = malloc(sizeof(*lock_b));
	if (!lock_a || !lock_b)
		return 1;
	pthread_mutex_init(lock_a, NULL);
	pthread_mutex_init(lock_b, NULL);
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(lock_a);
		pthread_mutex_lock(lock_b);
		pthread_create(&t, NULL, waiter, NULL);
		usleep(10000); /* the worker is queued on A well before this */
		pthread_mutex_unlock(lock_a);
		usleep(10000); /* and then on B */
		pthread_mutex_unlock(lock_b);
		pthread_join(t, NULL);
	}
	pthread_create(&t, NULL, take_b_then_a, NULL);
	pthread_join(t, NULL);
	usleep(200000); /* stay alive a little: the memory map is read from /proc meanwhile */
	printf("weft-sample: heap_locks=a,b a=%p b=%p rounds=%d\n", (void *)lock_a, (void *)lock_b,
	       rounds);
	return 0;
}
