// SPDX-License-Identifier: MIT
/* A lock-order inversion that does not deadlock: thread "forward" takes A then B; later, after
 * it has finished, thread "backward" takes B then A. Usage: inversion [rounds=1000].
 * Also takes C then D in both threads (well ordered: must not be reported) and tries B while
 * holding D with trylock (cannot block: must not be reported either). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_d = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long work;
static int rounds = 1000;

/* A little work inside each critical section, as real code has. */
static void work_a_little(void)
{
	for (volatile int i = 0; i < 40; i++)
		;
	work++;
}

__attribute__((noinline)) static void take_a_then_b(void)
{
	pthread_mutex_lock(&lock_a);
	pthread_mutex_lock(&lock_b);
	work_a_little();
	pthread_mutex_unlock(&lock_b);
	pthread_mutex_unlock(&lock_a);
}

__attribute__((noinline)) static void take_b_then_a(void)
{
	pthread_mutex_lock(&lock_b);
	pthread_mutex_lock(&lock_a);
	work_a_little();
	pthread_mutex_unlock(&lock_a);
	pthread_mutex_unlock(&lock_b);
}

__attribute__((noinline)) static void well_ordered(void)
{
	pthread_mutex_lock(&lock_c);
	pthread_mutex_lock(&lock_d);
	if (pthread_mutex_trylock(&lock_b) == 0) /* D -> B by trylock: no edge */
		pthread_mutex_unlock(&lock_b);
	work_a_little();
	pthread_mutex_unlock(&lock_d);
	pthread_mutex_unlock(&lock_c);
}

static void *forward(void *arg)
{
	pthread_setname_np(pthread_self(), "forward");
	for (int i = 0; i < rounds; i++) {
		take_a_then_b();
		well_ordered();
	}
	return NULL;
}

static void *backward(void *arg)
{
	pthread_setname_np(pthread_self(), "backward");
	for (int i = 0; i < rounds; i++) {
		take_b_then_a();
		well_ordered();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	int linger_ms = argc > 2 ? atoi(argv[2]) : 200;

	if (argc > 1)
		rounds = atoi(argv[1]);
	/* One after the other: the inversion is there, the deadlock never happens. */
	pthread_create(&t, NULL, forward, NULL);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, backward, NULL);
	pthread_join(t, NULL);
	usleep(linger_ms * 1000); /* stay alive a little: symbols are read from /proc meanwhile */
	printf("weft-sample: inversion=lock_a,lock_b a=%p b=%p first=take_a_then_b "
	       "second=take_b_then_a\n", (void *)&lock_a, (void *)&lock_b);
	printf("weft-sample: ordered=lock_c,lock_d c=%p d=%p work=%lu\n", (void *)&lock_c,
	       (void *)&lock_d, work);
	return 0;
}
