// SPDX-License-Identifier: MIT
/* A lock convoy: N workers take one global mutex for a short critical section, again and again;
 * a second, lightly used lock sees little contention. The global lock must rank first.
 * Usage: convoy [threads=4] [iterations=20000]. Prints its own oracle lines. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t side_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long counter, side;
static int iterations = 20000;

static void spin(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

static void *worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "convoy-%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < iterations; i++) {
		pthread_mutex_lock(&big_lock);
		counter++;
		spin(2000); /* the critical section everyone queues for */
		pthread_mutex_unlock(&big_lock);
		spin(200);
		if (i % 64 == 0) {
			pthread_mutex_lock(&side_lock);
			side++;
			pthread_mutex_unlock(&side_lock);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t t[64];

	if (argc > 2)
		iterations = atoi(argv[2]);
	if (n < 1 || n > 64)
		n = 4;
	for (long i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("weft-sample: lock=big_lock addr=%p threads=%d iterations=%d counter=%lu\n",
	       (void *)&big_lock, n, iterations, counter);
	printf("weft-sample: lock=side_lock addr=%p\n", (void *)&side_lock);
	return counter == (unsigned long)n * iterations ? 0 : 1;
}
