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
 *
 * Where other work keeps every CPU busy, a nice-19 thread may not run at all for seconds (5 s
 * measured beside two ping-pongs), far longer than the rings last, and then it cannot even find
 * out that it fell behind. A watchdog thread at normal priority, which wakes 20 times a second
 * and costs nothing else, raises the drainer's priority when a drain is 100 ms overdue.
 */
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/pace.h"
#include "clock.h"

#define PACE_LOW_NICE 19
#define PACE_CALM_NS 1000000000ULL       /* light drains for this long: low again */
#define PACE_CALM_MAX_NS 64000000000ULL  /* ... doubled each time it fell behind, up to this */
#define PACE_MIN_PERIOD_NS 10000000ULL   /* rings filling faster than this: behind anyway */
#define PACE_FIRST_PERIOD_NS 20000000ULL /* until the first drain tells how fast they fill */
#define PACE_WATCH_NS 50000000ULL        /* the watchdog looks this often */
#define PACE_OVERDUE_NS 100000000ULL     /* ... and raises a drain this late */

/* The draining thread, while pacing is on (0: off). For pace_hurry(). */
static volatile sig_atomic_t pacing_tid;

static void set_nice(int nice)
{
	/* PRIO_PROCESS 0 is the calling thread on Linux: the one that drains. */
	setpriority(PRIO_PROCESS, 0, nice);
}

static void *watchdog_main(void *arg)
{
	struct pace *p = arg;
	struct timespec nap = { 0, PACE_WATCH_NS };

	while (!atomic_load(&p->stop)) {
		uint64_t due = atomic_load(&p->due_ns);

		if (due && boottime_ns() > due + PACE_OVERDUE_NS && !atomic_load(&p->raised)) {
			atomic_store(&p->raised, true);
			setpriority(PRIO_PROCESS, (id_t)p->drainer, 0);
		}
		nanosleep(&nap, NULL);
	}
	return NULL;
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
	p->drainer = (pid_t)syscall(SYS_gettid);
	pacing_tid = (sig_atomic_t)p->drainer;
	atomic_store(&p->due_ns, boottime_ns() + p->period_ns);
	/* created before the drop, so it keeps normal priority (a thread's nice is its own) */
	p->watching = !pthread_create(&p->watchdog, NULL, watchdog_main, p);
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

/*
 * Each time weft falls behind again it waits twice as long before it goes back down: where
 * other work keeps the CPUs busy, a nice-19 weft may not run at all for longer than its rings
 * last (at 300 000 records/s, ~0.6 s), and going back down every second lost a third of them.
 */
static void fall_behind(struct pace *p)
{
	if (p->behind)
		return;
	set_nice(0);
	p->behind = true;
	p->calm_ns = 0;
	if (p->calm_needed_ns)
		p->calm_needed_ns = p->calm_needed_ns * 2 < PACE_CALM_MAX_NS ? p->calm_needed_ns * 2
									  : PACE_CALM_MAX_NS;
	else
		p->calm_needed_ns = PACE_CALM_NS;
}

/*
 * Known before the drain, as well as after it: on a machine whose CPUs other work keeps busy,
 * a nice-19 weft gets well under 1% of them, and a drain that would find out only at its end
 * took seconds (a 1 s recording took 7.9 s and lost 96% of its records to full rings).
 */
void pace_before_drain(struct pace *p, uint64_t waiting_bytes)
{
	if (p->on && waiting_bytes > p->ring_bytes / 4)
		fall_behind(p);
}

void pace_after_drain(struct pace *p, uint64_t peak_ring_bytes, uint64_t elapsed_ns,
		      uint64_t lost_full)
{
	bool heavy = peak_ring_bytes > p->ring_bytes / 4 || lost_full > p->last_lost;

	p->last_lost = lost_full;
	p->period_ns = next_period(p, peak_ring_bytes, elapsed_ns);
	if (!p->on)
		return;
	atomic_store(&p->due_ns, boottime_ns() + p->period_ns);
	if (atomic_exchange(&p->raised, false))
		heavy = true; /* the watchdog had to raise it */
	if (heavy) {
		fall_behind(p);
		p->calm_ns = 0;
	} else if (p->behind && (p->calm_ns += elapsed_ns) >= p->calm_needed_ns) {
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
	if (p->watching) {
		atomic_store(&p->stop, true);
		pthread_join(p->watchdog, NULL);
		p->watching = false;
	}
}

/* A plain system call: safe in a signal handler, whichever thread the signal landed on. */
void pace_hurry(void)
{
	if (pacing_tid)
		setpriority(PRIO_PROCESS, (id_t)pacing_tid, 0);
}
