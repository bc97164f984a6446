// SPDX-License-Identifier: MIT
/* Two locks that main holds for 20 ms while a worker waits, once per round: a pthread mutex
 * (the preload shim sees its waits) and a hand-made futex lock, as runtimes and allocators have
 * (no LD_PRELOAD shim can see it; the kernel probes can). Under --mode=both each must be one
 * lock in the summary, with one wait per round.
 * Usage: futex_lock [rounds=5]. Prints its own oracle line. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;

/* 0 free, 1 locked, 2 locked with waiters (Drepper, "Futexes Are Tricky", mutex 2). Alone on
 * its cache line, so no word next to it looks like a glibc mutex's owner. */
static struct {
	_Atomic uint32_t word;
	char pad[60];
} raw_lock __attribute__((aligned(64)));

static void raw_acquire(void)
{
	uint32_t c = 0;

	if (atomic_compare_exchange_strong(&raw_lock.word, &c, 1))
		return;
	if (c != 2)
		c = atomic_exchange(&raw_lock.word, 2);
	while (c != 0) {
		syscall(SYS_futex, &raw_lock.word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
		c = atomic_exchange(&raw_lock.word, 2);
	}
}

static void raw_release(void)
{
	if (atomic_exchange(&raw_lock.word, 0) == 2)
		syscall(SYS_futex, &raw_lock.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	nanosleep(&ts, NULL);
}

static void *waiter(void *arg)
{
	pthread_setname_np(pthread_self(), "waiter");
	raw_acquire();
	raw_release();
	pthread_mutex_lock(&shim_lock);
	pthread_mutex_unlock(&shim_lock);
	return arg;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	pthread_t t;

	for (int i = 0; i < rounds; i++) {
		raw_acquire();
		pthread_mutex_lock(&shim_lock);
		pthread_create(&t, NULL, waiter, NULL);
		sleep_ms(20); /* the waiter blocks on raw_lock */
		raw_release();
		sleep_ms(20); /* ... then on shim_lock */
		pthread_mutex_unlock(&shim_lock);
		pthread_join(t, NULL);
	}
	printf("weft-sample: shim_lock=%p raw_lock=%p rounds=%d\n",
	       (void *)&shim_lock, (void *)&raw_lock, rounds);
	return 0;
}
