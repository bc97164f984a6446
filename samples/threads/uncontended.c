// SPDX-License-Identifier: MIT
/*
 * Sample (threads): uncontended lock/unlock, for overhead measurements.
 *   THREADS threads each lock and unlock their own mutex ITERS times: never contended, so no
 *   futex call is made and a futex-based tracer must cost nothing.
 * Prints: weft-sample: uncontended=1 threads=N iters=N
 * Usage: uncontended [ITERS [THREADS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long iters = 20000000;
static pthread_mutex_t locks[64];
static volatile long sink[64 * 8];

static void *run(void *arg)
{
	long id = (long)arg;

	for (long i = 0; i < iters; i++) {
		pthread_mutex_lock(&locks[id]);
		sink[id * 8]++;
		pthread_mutex_unlock(&locks[id]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long nthreads = 2;
	pthread_t th[64];

	if (argc > 1)
		iters = atol(argv[1]);
	if (argc > 2)
		nthreads = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	for (long i = 0; i < nthreads; i++) {
		pthread_mutex_init(&locks[i], NULL);
		pthread_create(&th[i], NULL, run, (void *)i);
	}
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	printf("weft-sample: uncontended=1 threads=%ld iters=%ld\n", nthreads, iters);
	return 0;
}
