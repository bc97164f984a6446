// SPDX-License-Identifier: MIT
/*
 * Sample (threads): a thread that waits with never-written stack pages just above it.
 *   The thread "blocker" waits in read() (inside libc) 64 times, each time below a gap of
 *   stack it reserved and never wrote (as an event loop's large, mostly unused array of events
 *   does), and each time with its stack pointer 64 bytes further into its page. When the
 *   pointer sits near the top of its page, the page above was never touched, so a copy of the
 *   stack that cannot fault in pages gets only the rest of the stack pointer's page.
 *   Every wait is in block_in(), called by shift_and_block().
 * Prints: weft-sample: thread=blocker tid=N waits=N
 * Usage: untouched_stack
 */
#define _GNU_SOURCE
#include <alloca.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WAITS 64
/* Two pages and 64 bytes deeper each wait: the page above a wait's stack pointer is never
 * the one an earlier wait wrote. */
#define STEP (2 * 4096 + 64)

static int pipe_fd[2];

static __attribute__((noinline)) void block_in(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		exit(1);
}

static __attribute__((noinline)) void shift_and_block(int fd, size_t gap)
{
	char *unused = alloca(gap);

	/* keeps the reservation; its bytes are never written */
	__asm__ volatile("" : : "r"(unused) : "memory");
	block_in(fd);
}

static void *blocker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "blocker");
	printf("weft-sample: thread=blocker tid=%ld waits=%d\n", (long)syscall(SYS_gettid), WAITS);
	fflush(stdout);
	for (int i = 0; i < WAITS; i++)
		shift_and_block(pipe_fd[0], 8192 + (size_t)i * STEP);
	return NULL;
}

int main(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 }; /* within the default stack rate */
	pthread_t t;

	if (pipe(pipe_fd) || pthread_create(&t, NULL, blocker, NULL))
		return 1;
	for (int i = 0; i < WAITS; i++) {
		nanosleep(&tick, NULL);
		if (write(pipe_fd[1], "x", 1) != 1)
			return 1;
	}
	pthread_join(t, NULL);
	return 0;
}
