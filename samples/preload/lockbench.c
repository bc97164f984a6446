// SPDX-License-Identifier: MIT
/* The cost of an uncontended lock + unlock, as the program sees it: one thread, one mutex; then
 * an outer and an inner mutex taken nested each time (so the shim's lock-order check runs),
 * reported per lock+unlock pair.
 * Usage: lockbench [iterations=20000000]. Prints ns per lock+unlock pair. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER, inner = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	double t0, t1, t2;

	t0 = now();
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&inner);
		pthread_mutex_unlock(&inner);
	}
	t1 = now();
	for (long i = 0; i < n / 2; i++) {
		pthread_mutex_lock(&outer);
		pthread_mutex_lock(&inner);
		pthread_mutex_unlock(&inner);
		pthread_mutex_unlock(&outer);
	}
	t2 = now();
	printf("weft-sample: ns_per_pair=%.2f ns_per_pair_nested=%.2f iterations=%ld\n",
	       (t1 - t0) * 1e9 / n, (t2 - t1) * 1e9 / (n / 2 * 2), n);
	return 0;
}
