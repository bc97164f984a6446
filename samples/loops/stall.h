/* SPDX-License-Identifier: MIT */
/* Seeded stalls shared by the event-loop samples: each a named, non-inlined function that
 * keeps the loop thread away from its poll call for a known time, and reports it:
 *   weft-sample: stall_ms=MS function=NAME tid=TID start_ns=BOOTTIME dur_ns=MEASURED */
#ifndef SAMPLES_LOOPS_STALL_H
#define SAMPLES_LOOPS_STALL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t stall_sink;

static inline uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void stall_report(const char *fn, int ms, uint64_t start)
{
	printf("weft-sample: stall_ms=%d function=%s tid=%ld start_ns=%llu dur_ns=%llu\n", ms, fn,
	       (long)syscall(SYS_gettid), (unsigned long long)start,
	       (unsigned long long)(boot_ns() - start));
	fflush(stdout);
}

/* The spin stays in the caller's own code (the clock is read only now and then), so samples
 * land in the seeded function itself. */
#define SPIN_FOR_MS(ms)                                                        \
	do {                                                                   \
		uint64_t _end = boot_ns() + (uint64_t)(ms) * 1000000ULL;        \
		do {                                                           \
			for (int _i = 0; _i < 20000; _i++)                     \
				stall_sink = stall_sink * 6364136223846793005ULL + 1; \
		} while (boot_ns() < _end);                                    \
	} while (0)

__attribute__((noinline)) static void stall_busy_150ms(void)
{
	uint64_t t0 = boot_ns();

	SPIN_FOR_MS(150);
	stall_report(__func__, 150, t0);
}

__attribute__((noinline)) static void stall_busy_300ms(void)
{
	uint64_t t0 = boot_ns();

	SPIN_FOR_MS(300);
	stall_report(__func__, 300, t0);
}

/* A blocking call on the loop thread: the stall's culprit is the sleep. */
__attribute__((noinline)) static void stall_sleep_200ms(void)
{
	struct timespec ts = { 0, 200 * 1000000L };
	uint64_t t0 = boot_ns();

	nanosleep(&ts, NULL);
	stall_report(__func__, 200, t0);
}

/* Called once per loop iteration with the time since the loop started: seeds the stalls at
 * fixed times when `stalls` is set. Returns 1 once the run is over. */
static inline int stall_schedule(int stalls, uint64_t elapsed_ms, uint64_t run_ms)
{
	static int done;

	if (stalls) {
		if (done == 0 && elapsed_ms >= 300) {
			done++;
			stall_busy_150ms();
		} else if (done == 1 && elapsed_ms >= 800) {
			done++;
			stall_busy_300ms();
		} else if (done == 2 && elapsed_ms >= 1500) {
			done++;
			stall_sleep_200ms();
		}
	}
	return elapsed_ms >= run_ms;
}

#endif
