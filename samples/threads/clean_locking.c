// SPDX-License-Identifier: MIT
/*
 * Sample (threads): heavy but well-ordered locking. No inversion, no deadlock.
 *   THREADS workers ("clean-N") repeatedly take g_outer_lock then g_inner_lock (always in that
 *   order), or g_inner_lock alone, with contention on both. A tracer must report contention
 *   here and never a lock-order inversion or a deadlock.
 * Prints: weft-sample: clean=1 threads=N iters=N
 * Usage: clean_locking [ITERS [THREADS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

pthread_mutex_t g_outer_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_inner_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void work(int n)
{
	for (volatile int i = 0; i < n; i++)
		counter++;
}

static long g_iters = 20000;

static void *run(void *arg)
{
	long id = (long)arg;
	char name[16];

	snprintf(name, sizeof(name), "clean-%ld", id);
	pthread_setname_np(pthread_self(), name);
	for (long i = 0; i < g_iters; i++) {
		if ((i + id) % 3) {
			pthread_mutex_lock(&g_outer_lock);
			work(200);
			pthread_mutex_lock(&g_inner_lock);
			work(200);
			pthread_mutex_unlock(&g_inner_lock);
			pthread_mutex_unlock(&g_outer_lock);
		} else {
			pthread_mutex_lock(&g_inner_lock);
			work(300);
			pthread_mutex_unlock(&g_inner_lock);
		}
		work(100);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long nthreads = 4;
	pthread_t th[64];

	if (argc > 1)
		g_iters = atol(argv[1]);
	if (argc > 2)
		nthreads = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	for (long i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, run, (void *)i);
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	printf("weft-sample: clean=1 threads=%ld iters=%ld\n", nthreads, g_iters);
	return 0;
}
