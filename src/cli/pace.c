// SPDX-License-Identifier: MIT
/*
 * weft runs beside the program it traces, mostly on the same CPUs. At the default priority
 * each of its drains (a fraction of a millisecond every 20 ms at a few hundred thousand
 * records a second) holds up the program's threads that wake meanwhile, for as long as the
 * scheduler lets the running task finish its slice: on a pipe ping-pong across two CPUs that
 * was half of the overhead weft caused (1.17x at nice 0, 1.08x at nice 19, in one run). So it
 * records at nice 19, and goes back to normal priority when it falls behind: a drain that took
 * in more than a quarter of one CPU's ring, or records lost to a full ring; it returns to
 * nice 19 after a second of light drains. Only where it may raise its priority again (root):
 * otherwise it stays as it was started.
 */
#include <sys/resource.h>
#include <unistd.h>

#include "cli/pace.h"

#define PACE_LOW_NICE 19
#define PACE_CALM_DRAINS 50 /* light drains in a row (20 ms each) before going low again */

static void set_nice(int nice)
{
	/* PRIO_PROCESS 0 is the calling thread on Linux: the one that drains. */
	setpriority(PRIO_PROCESS, 0, nice);
}

void pace_start(struct pace *p, size_t ring_bytes_per_cpu)
{
	*p = (struct pace){ .busy_bytes = ring_bytes_per_cpu / 4 };
	if (geteuid() != 0 || getpriority(PRIO_PROCESS, 0) != 0)
		return;
	p->on = true;
	set_nice(PACE_LOW_NICE);
}

void pace_after_drain(struct pace *p, uint64_t ring_bytes_read, uint64_t lost_full)
{
	bool heavy = ring_bytes_read - p->last_read > p->busy_bytes || lost_full > p->last_lost;

	p->last_read = ring_bytes_read;
	p->last_lost = lost_full;
	if (!p->on)
		return;
	if (heavy) {
		if (!p->behind)
			set_nice(0);
		p->behind = true;
		p->calm_drains = 0;
	} else if (p->behind && ++p->calm_drains >= PACE_CALM_DRAINS) {
		set_nice(PACE_LOW_NICE);
		p->behind = false;
	}
}
