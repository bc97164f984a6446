// SPDX-License-Identifier: MIT
/*
 * weft runs beside the program it traces, mostly on the same CPUs, so how it spends its CPU
 * shows in the program's time.
 *
 * How often it drains: every drain has a fixed cost, whatever it finds (waking up, syscalls,
 * caches the program has since filled): ~0.1-0.2 ms of weft's CPU on our VMs. Draining every
 * 20 ms cost ~200 ns per record at 300k records a second, every 100 ms ~145. So weft drains as
 * seldom as the rings allow: when the fullest ring would be an eighth full, and at least every
 * max_period_ns (100 ms, the usual poll period of BPF tools). Records that must be seen at
 * once (a new process's first stack, the first event loop) wake it anyway.
 *
 * At what priority: at the default priority each drain holds up the program's threads that
 * wake meanwhile, for as long as the scheduler lets the running task finish its slice: on a
 * pipe ping-pong across two CPUs that was half of the overhead weft caused (1.17x at nice 0,
 * 1.08x at nice 19, in one run). So it records at nice 19, and goes back to normal priority
 * when it falls behind: a drain that found a ring more than a quarter full, or records lost to
 * a full ring; it returns to nice 19 after a second of light drains. Only where it may raise
 * its priority again (root): otherwise it stays as it was started. When the recording ends
 * (the command's end, Ctrl-C) it goes back to normal at once: the user is waiting now, and
 * on a machine busy with other work a nice-19 weft took seconds to finish.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/pace.h"

#define PACE_LOW_NICE 19
#define PACE_CALM_NS 1000000000ULL       /* light drains for this long: low again */
#define PACE_MIN_PERIOD_NS 10000000ULL   /* rings filling faster than this: behind anyway */
#define PACE_FIRST_PERIOD_NS 20000000ULL /* until the first drain tells how fast they fill */

/* The draining thread, while pacing is on (0: off). For pace_hurry(). */
static volatile sig_atomic_t pacing_tid;

static void set_nice(int nice)
{
	/* PRIO_PROCESS 0 is the calling thread on Linux: the one that drains. */
	setpriority(PRIO_PROCESS, 0, nice);
}

void pace_start(struct pace *p, size_t ring_bytes_per_cpu, uint64_t max_period_ns)
{
	*p = (struct pace){ .ring_bytes = ring_bytes_per_cpu,
			    .period_ns = max_period_ns < PACE_FIRST_PERIOD_NS ? max_period_ns
									  : PACE_FIRST_PERIOD_NS,
			    .max_period_ns = max_period_ns };
	if (geteuid() != 0 || getpriority(PRIO_PROCESS, 0) != 0)
		return;
	p->on = true;
	pacing_tid = (sig_atomic_t)syscall(SYS_gettid);
	set_nice(PACE_LOW_NICE);
}

/* The time the fullest ring, filling as fast as it did, takes to be an eighth full. */
static uint64_t next_period(const struct pace *p, uint64_t peak, uint64_t elapsed_ns)
{
	double period = p->max_period_ns;

	if (peak && elapsed_ns)
		period = (double)elapsed_ns * (p->ring_bytes / 8) / peak;
	if (period >= p->max_period_ns)
		return p->max_period_ns;
	if (period < PACE_MIN_PERIOD_NS)
		return PACE_MIN_PERIOD_NS;
	return period;
}

void pace_after_drain(struct pace *p, uint64_t peak_ring_bytes, uint64_t elapsed_ns,
		      uint64_t lost_full)
{
	bool heavy = peak_ring_bytes > p->ring_bytes / 4 || lost_full > p->last_lost;

	p->last_lost = lost_full;
	p->period_ns = next_period(p, peak_ring_bytes, elapsed_ns);
	if (!p->on)
		return;
	if (heavy) {
		if (!p->behind)
			set_nice(0);
		p->behind = true;
		p->calm_ns = 0;
	} else if (p->behind && (p->calm_ns += elapsed_ns) >= PACE_CALM_NS) {
		set_nice(PACE_LOW_NICE);
		p->behind = false;
	}
}

void pace_stop(struct pace *p)
{
	if (p->on)
		set_nice(0);
	p->on = false;
	pacing_tid = 0;
}

/* A plain system call: safe in a signal handler, whichever thread the signal landed on. */
void pace_hurry(void)
{
	if (pacing_tid)
		setpriority(PRIO_PROCESS, (id_t)pacing_tid, 0);
}
