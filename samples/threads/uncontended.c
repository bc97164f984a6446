// SPDX-License-Identifier: MIT
/*
 * Sample (threads): uncontended lock/unlock, for overhead measurements.
 *   THREADS threads each lock and unlock their own mutex ITERS times: never contended, so no
 *   futex call is made and a futex-based tracer must cost nothing.
 * Prints: weft-sample: uncontended=1 threads=N iters=N elapsed_ns=N cpu_ns=N
 *   (wall and process CPU time of the locking phase, so overhead can be measured without the
 *   tracer's start-up)
 * Usage: uncontended [ITERS [THREADS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long iters = 20000000;
/* One cache line per lock: two threads' mutexes sharing a line would make the benchmark
 * measure cache-line ping-pong (which varies with where the scheduler puts them), not locking. */
static struct padded_lock {
	pthread_mutex_t m;
} __attribute__((aligned(64))) locks[64];
static volatile long sink[64 * 8];

static void *run(void *arg)
{
	long id = (long)arg;

	for (long i = 0; i < iters; i++) {
		pthread_mutex_lock(&locks[id].m);
		sink[id * 8]++;
		pthread_mutex_unlock(&locks[id].m);
	}
	return NULL;
}

static unsigned long long ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long long t0, c0;
	long nthreads = 2;
	pthread_t th[64];

	if (argc > 1)
		iters = atol(argv[1]);
	if (argc > 2)
		nthreads = atol(argv[2]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	t0 = ns(CLOCK_MONOTONIC);
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < nthreads; i++) {
		pthread_mutex_init(&locks[i].m, NULL);
		pthread_create(&th[i], NULL, run, (void *)i);
	}
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	printf("weft-sample: uncontended=1 threads=%ld iters=%ld elapsed_ns=%llu cpu_ns=%llu\n",
	       nthreads, iters, ns(CLOCK_MONOTONIC) - t0, ns(CLOCK_PROCESS_CPUTIME_ID) - c0);
	return 0;
}
