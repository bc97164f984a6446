// SPDX-License-Identifier: MIT
/*
 * Sample (threads): many threads that each sleep a few milliseconds at a time, like the workers
 * of a large service waiting on timers. Each thread alone switches rarely; together they make
 * a hundred thousand switches a second, and every wait is one an off-CPU stack could be taken
 * for.
 * Prints: weft-sample: threads=N period_us=N seconds=N
 * Usage: sleepers [THREADS [PERIOD_US [SECONDS]]]   (default 400 threads, 5000 us, 2 s)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long period_us = 5000, seconds = 2;
static struct timespec end;

static int before_end(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec);
}

static void *sleeper(void *arg)
{
	struct timespec nap = { period_us / 1000000, period_us % 1000000 * 1000 };
	char name[16];

	snprintf(name, sizeof(name), "sleeper-%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	while (before_end())
		nanosleep(&nap, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 400;
	pthread_t *threads;
	pthread_attr_t attr;

	if (argc > 2)
		period_us = atol(argv[2]);
	if (argc > 3)
		seconds = atol(argv[3]);
	threads = calloc(n > 0 ? n : 1, sizeof(*threads));
	if (n <= 0 || period_us <= 0 || !threads) {
		fprintf(stderr, "usage: sleepers [THREADS [PERIOD_US [SECONDS]]]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (long i = 0; i < n; i++)
		if (pthread_create(&threads[i], &attr, sleeper, (void *)i)) {
			n = i;
			break;
		}
	for (long i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	printf("weft-sample: threads=%ld period_us=%ld seconds=%ld\n", n, period_us, seconds);
	return 0;
}
