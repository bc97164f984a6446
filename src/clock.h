/* SPDX-License-Identifier: MIT */
/* The clocks weft reads, in nanoseconds. CLOCK_BOOTTIME is the one its records are stamped
 * with (the BPF programs' bpf_ktime_get_boot_ns()); CLOCK_MONOTONIC times weft's own work. */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t boottime_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static inline uint64_t monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#endif
