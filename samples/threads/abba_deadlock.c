// SPDX-License-Identifier: MIT
/*
 * Sample (threads): a real ABBA deadlock that stays.
 *   "abba-1" takes lock_a then (after 50 ms) lock_b in transfer_ab(); "abba-2" takes lock_b then
 *   lock_a in transfer_ba(). Both block for ever; main waits in pthread_join.
 * Prints, once both are surely stuck:
 *   weft-sample: deadlocked=1 pid=P tid_a=T1 tid_b=T2 lock_a=0xADDR lock_b=0xADDR
 * Usage: abba_deadlock [DELAY_MS]   (DELAY_MS: wait this long before starting the threads)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static volatile pid_t tid_a, tid_b;

__attribute__((noinline)) void transfer_ab(void)
{
	pthread_mutex_lock(&lock_a);
	usleep(50000);
	pthread_mutex_lock(&lock_b);
	pthread_mutex_unlock(&lock_b);
	pthread_mutex_unlock(&lock_a);
}

__attribute__((noinline)) void transfer_ba(void)
{
	pthread_mutex_lock(&lock_b);
	usleep(50000);
	pthread_mutex_lock(&lock_a);
	pthread_mutex_unlock(&lock_a);
	pthread_mutex_unlock(&lock_b);
}

static void *one(void *arg)
{
	pthread_setname_np(pthread_self(), "abba-1");
	tid_a = syscall(SYS_gettid);
	transfer_ab();
	return NULL;
}

static void *two(void *arg)
{
	pthread_setname_np(pthread_self(), "abba-2");
	tid_b = syscall(SYS_gettid);
	transfer_ba();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;

	if (argc > 1)
		usleep(atol(argv[1]) * 1000);
	pthread_create(&a, NULL, one, NULL);
	pthread_create(&b, NULL, two, NULL);
	usleep(300000);
	printf("weft-sample: deadlocked=1 pid=%d tid_a=%d tid_b=%d lock_a=%p lock_b=%p\n",
	       getpid(), tid_a, tid_b, (void *)&lock_a, (void *)&lock_b);
	fflush(stdout);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
