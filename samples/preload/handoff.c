// SPDX-License-Identifier: MIT
/* Hand-offs that are waits, not contention: a consumer waits on a condition variable for a
 * producer's items, another on a semaphore the producer posts; each item comes every 2 ms.
 * Usage: handoff [items=50]. Prints its own oracle lines. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static sem_t tokens;
static int queued, items = 50, producer_tid;

static void *cond_consumer(void *arg)
{
	pthread_setname_np(pthread_self(), "cond-consumer");
	for (int got = 0; got < items; got++) {
		pthread_mutex_lock(&mu);
		while (!queued)
			pthread_cond_wait(&ready, &mu);
		queued--;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static void *sem_consumer(void *arg)
{
	pthread_setname_np(pthread_self(), "sem-consumer");
	for (int got = 0; got < items; got++)
		sem_wait(&tokens);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t c1, c2;

	if (argc > 1)
		items = atoi(argv[1]);
	sem_init(&tokens, 0, 0);
	producer_tid = gettid();
	pthread_create(&c1, NULL, cond_consumer, NULL);
	pthread_create(&c2, NULL, sem_consumer, NULL);
	for (int i = 0; i < items; i++) {
		usleep(2000);
		pthread_mutex_lock(&mu);
		queued++;
		pthread_cond_signal(&ready);
		pthread_mutex_unlock(&mu);
		sem_post(&tokens);
	}
	pthread_join(c1, NULL);
	pthread_join(c2, NULL);
	printf("weft-sample: producer_tid=%d cond=%p sem=%p items=%d\n", producer_tid,
	       (void *)&ready, (void *)&tokens, items);
	return 0;
}
