// SPDX-License-Identifier: MIT
/*
 * Sample (threads): a lock convoy on one global mutex.
 *   THREADS workers ("convoy-N") each take g_account_lock ITERS times and hold it for WORK_US of
 *   busy work (account_update), so the others queue behind it; a lightly used g_stats_lock is
 *   taken once per 64 iterations for contrast. g_account_lock must come first in any ranking.
 * Prints: weft-sample: lock=g_account_lock threads=N iters=N tids=T1,T2,... elapsed_ns=N cpu_ns=N
 *   (wall and process CPU time of the workers' phase, for overhead measurements)
 * Usage: lock_convoy [ITERS [WORK_US [THREADS]]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t g_account_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t g_stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long iters = 2000, work_us = 50;
static volatile long balance, stats;
static pid_t tids[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void spin_us(long us)
{
	uint64_t end = now_ns() + us * 1000;

	while (now_ns() < end)
		;
}

__attribute__((noinline)) void account_update(long i)
{
	pthread_mutex_lock(&g_account_lock);
	spin_us(work_us);
	balance += i;
	pthread_mutex_unlock(&g_account_lock);
}

static void *worker(void *arg)
{
	long id = (long)arg;
	char name[16];

	snprintf(name, sizeof(name), "convoy-%ld", id);
	pthread_setname_np(pthread_self(), name);
	tids[id] = syscall(SYS_gettid);
	for (long i = 0; i < iters; i++) {
		account_update(i);
		if (i % 64 == 0) {
			pthread_mutex_lock(&g_stats_lock);
			stats++;
			pthread_mutex_unlock(&g_stats_lock);
		}
		spin_us(work_us / 10);
	}
	return NULL;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t t0, c0;
	long nthreads = 4;
	pthread_t th[64];

	if (argc > 1)
		iters = atol(argv[1]);
	if (argc > 2)
		work_us = atol(argv[2]);
	if (argc > 3)
		nthreads = atol(argv[3]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	t0 = now_ns();
	c0 = cpu_ns();
	for (long i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (long i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	printf("weft-sample: lock=g_account_lock threads=%ld iters=%ld tids=", nthreads, iters);
	for (long i = 0; i < nthreads; i++)
		printf("%s%d", i ? "," : "", tids[i]);
	printf(" elapsed_ns=%llu cpu_ns=%llu\n", (unsigned long long)(now_ns() - t0),
	       (unsigned long long)(cpu_ns() - c0));
	return 0;
}
