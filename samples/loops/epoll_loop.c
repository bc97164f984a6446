// SPDX-License-Identifier: MIT
/*
 * Sample (event loops): a bare epoll loop on a 1 ms timerfd.
 *   epoll_loop stalls   ~2.2 s, with three seeded stalls (see stall.h): stall_busy_150ms,
 *                       stall_busy_300ms (CPU) and stall_sleep_200ms (a blocking nanosleep)
 *   epoll_loop calm     ~1 s, no stall
 *   epoll_loop hang     1.5 s of loop, then stall_forever() holds it for 10 s (a handler that
 *                       does not return while a recording ends)
 *   epoll_loop fast N [STEPS]  N short iterations as fast as an eventfd drives them, each
 *                       doing STEPS multiply-adds (default 10000, ~25 us): the overhead
 *                       benchmark
 *   epoll_loop many N MS  N short seeded stalls of MS ms, every tenth tick, by turns asleep
 *                       (stall_sleep_short) and busy (stall_busy_short): hundreds of stalls
 *                       in a few seconds, each to be found and the sleeps blamed on the sleep
 * Prints one line per seeded stall (stall.h) and at the end
 *   weft-sample: thread=loop tid=TID iterations=N elapsed_ns=NS
 */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include "stall.h"

__attribute__((noinline)) static void stall_forever(void)
{
	printf("weft-sample: stall_ms=10000 function=stall_forever tid=%ld start_ns=%llu\n",
	       (long)syscall(SYS_gettid), (unsigned long long)boot_ns());
	fflush(stdout);
	SPIN_FOR_MS(10000);
}

__attribute__((noinline)) static void stall_sleep_short(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	uint64_t t0 = boot_ns();

	nanosleep(&ts, NULL);
	stall_report(__func__, ms, t0);
}

__attribute__((noinline)) static void stall_busy_short(int ms)
{
	uint64_t t0 = boot_ns();

	SPIN_FOR_MS(ms);
	stall_report(__func__, ms, t0);
}

static void small_work(long steps)
{
	for (long i = 0; i < steps; i++)
		stall_sink = stall_sink * 6364136223846793005ULL + 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "stalls";
	int ep = epoll_create1(0), fd;
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	uint64_t t0 = boot_ns(), v, iters = 0;
	long n = argc > 2 ? atol(argv[2]) : 100000;
	long steps = argc > 3 ? atol(argv[3]) : 10000;

	if (!strcmp(mode, "fast")) {
		fd = eventfd(0, EFD_NONBLOCK);
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		v = 1;
		if (write(fd, &v, sizeof(v)) < 0)
			return 1;
		while ((long)iters < n) {
			if (epoll_wait(ep, out, 4, -1) < 1)
				continue;
			if (read(fd, &v, sizeof(v)) < 0)
				return 1;
			small_work(steps);
			iters++;
			v = 1;
			if (write(fd, &v, sizeof(v)) < 0)
				return 1;
		}
	} else {
		struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
		int stalls = !strcmp(mode, "stalls"), hang = !strcmp(mode, "hang");
		int many = !strcmp(mode, "many"), ms = argc > 3 ? atoi(argv[3]) : 8;
		long seeded = 0;
		uint64_t run_ms = stalls ? 2200 : hang ? 3000 : 1000;

		fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		timerfd_settime(fd, 0, &its, NULL);
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		for (;;) {
			if (epoll_wait(ep, out, 4, -1) < 1)
				continue;
			if (read(fd, &v, sizeof(v)) < 0)
				continue;
			iters++;
			if (hang && boot_ns() - t0 >= 1500 * 1000000ULL) {
				stall_forever();
				break;
			}
			if (many) {
				/* Ten quiet ticks after the last one, so it ends like the others. */
				if (seeded == n && iters % 10 == 0)
					break;
				if (seeded < n && iters % 10 == 0) {
					if (seeded++ % 2)
						stall_busy_short(ms);
					else
						stall_sleep_short(ms);
				}
				continue;
			}
			if (stall_schedule(stalls, (boot_ns() - t0) / 1000000, run_ms))
				break;
		}
	}
	printf("weft-sample: thread=loop tid=%ld iterations=%llu elapsed_ns=%llu\n",
	       (long)syscall(SYS_gettid), (unsigned long long)iters,
	       (unsigned long long)(boot_ns() - t0));
	return 0;
}
