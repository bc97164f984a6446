// SPDX-License-Identifier: MIT
/*
 * Sample (threads): rwlock writer starvation.
 *   READERS threads ("reader-N") hold g_table_lock for reading most of the time, overlapping each
 *   other (glibc's default rwlock prefers readers), so the "writer" thread, which wants it for
 *   writing every millisecond, waits long; its longest wait is printed.
 * Prints: weft-sample: lock=g_table_lock writes=N max_writer_wait_us=N
 * Usage: rwlock_writer [WRITES [READERS]]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

pthread_rwlock_t g_table_lock = PTHREAD_RWLOCK_INITIALIZER;
static volatile int stop;
static volatile long table[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *reader(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "reader-%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	while (!stop) {
		uint64_t end;

		pthread_rwlock_rdlock(&g_table_lock);
		end = now_ns() + 300000;
		while (now_ns() < end)
			(void)table[(long)arg];
		pthread_rwlock_unlock(&g_table_lock);
		usleep(50);
	}
	return NULL;
}

__attribute__((noinline)) void table_write(long i)
{
	pthread_rwlock_wrlock(&g_table_lock);
	table[i % 64] = i;
	pthread_rwlock_unlock(&g_table_lock);
}

int main(int argc, char **argv)
{
	long writes = 100, nreaders = 3;
	uint64_t max = 0;
	pthread_t th[64];

	if (argc > 1)
		writes = atol(argv[1]);
	if (argc > 2)
		nreaders = atol(argv[2]);
	if (nreaders < 1 || nreaders > 64)
		return 2;
	pthread_setname_np(pthread_self(), "writer");
	for (long i = 0; i < nreaders; i++)
		pthread_create(&th[i], NULL, reader, (void *)i);
	usleep(10000);
	for (long i = 0; i < writes; i++) {
		uint64_t t0 = now_ns();

		table_write(i);
		if (now_ns() - t0 > max)
			max = now_ns() - t0;
		usleep(1000);
	}
	stop = 1;
	for (long i = 0; i < nreaders; i++)
		pthread_join(th[i], NULL);
	printf("weft-sample: lock=g_table_lock writes=%ld max_writer_wait_us=%llu\n", writes,
	       (unsigned long long)(max / 1000));
	return 0;
}
