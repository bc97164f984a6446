// SPDX-License-Identifier: MIT
/*
 * Sample (threads): a condition-variable thundering herd.
 *   WAITERS threads ("herd-N") wait on g_work_cond under g_queue_lock; the producer broadcasts
 *   ROUNDS times, adding one item each time: every waiter wakes, all but one find nothing and
 *   go back to sleep, queueing on g_queue_lock on the way.
 * Prints: weft-sample: cond=g_work_cond lock=g_queue_lock waiters=N rounds=N
 * Usage: condvar_herd [ROUNDS [WAITERS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

pthread_mutex_t g_queue_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_work_cond = PTHREAD_COND_INITIALIZER;
static long items, done, rounds = 500;
static volatile long consumed;

static void *waiter(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "herd-%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&g_queue_lock);
	for (;;) {
		while (!items && !done)
			pthread_cond_wait(&g_work_cond, &g_queue_lock);
		if (!items && done)
			break;
		items--;
		consumed++;
	}
	pthread_mutex_unlock(&g_queue_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	long nwaiters = 8;
	pthread_t th[64];

	if (argc > 1)
		rounds = atol(argv[1]);
	if (argc > 2)
		nwaiters = atol(argv[2]);
	if (nwaiters < 1 || nwaiters > 64)
		return 2;
	pthread_setname_np(pthread_self(), "producer");
	for (long i = 0; i < nwaiters; i++)
		pthread_create(&th[i], NULL, waiter, (void *)i);
	usleep(20000);
	for (long r = 0; r < rounds; r++) {
		pthread_mutex_lock(&g_queue_lock);
		items++;
		pthread_cond_broadcast(&g_work_cond);
		pthread_mutex_unlock(&g_queue_lock);
		usleep(200);
	}
	pthread_mutex_lock(&g_queue_lock);
	done = 1;
	pthread_cond_broadcast(&g_work_cond);
	pthread_mutex_unlock(&g_queue_lock);
	for (long i = 0; i < nwaiters; i++)
		pthread_join(th[i], NULL);
	printf("weft-sample: cond=g_work_cond lock=g_queue_lock waiters=%ld rounds=%ld\n",
	       nwaiters, rounds);
	return 0;
}
