/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Timestamps for context switches without a clock read on every switch.
 *
 * bpf_ktime_get_boot_ns() costs ~150 ns here (the CPU's return-thunk mitigations make every
 * call and return in it dear): half of what recording a switch costs. But __schedule() has
 * just read the clock for us: the run queue's clock (sched_clock) is updated as it starts,
 * under the run queue's lock, so at the tracepoint rq->clock is the time the switch began,
 * a load away. sched_clock and CLOCK_BOOTTIME run at the same rate bar the NTP slew (~1 ppm
 * measured here), so BOOTTIME = rq->clock + offset, and the offset is re-measured every
 * millisecond of run-queue time per CPU by reading both.
 *
 * A measured offset is too large by the time between the clock update and the tracepoint
 * (usually well under a microsecond, tens of microseconds when the CPU went looking for work
 * to pull in between), never too small: keep the smallest, let it rise by a little at each
 * measurement so that it follows a drifting clock (up to 25 ppm) and forgets an unusually small
 * one. The first measurements on a CPU are taken on consecutive switches, to start from a
 * good minimum.
 *
 * The two clocks are not one clock, though (in a VM, sched_clock may be the hypervisor's and
 * CLOCK_BOOTTIME the TSC's), and an estimate lagging a jump would stamp a switch before a
 * wakeup recorded just before it on the same CPU: the trace would show the woken thread
 * running without having been runnable. So no switch on a CPU is stamped earlier than the last
 * wakeup recorded there. The other way round, an estimate too large would stamp a switch after
 * a wakeup its next task made once running: the trace would show the previous task as the
 * waker (or, first on its CPU, Perfetto would drop the wakeup). So no wakeup on a CPU is
 * stamped earlier than the last switch there.
 */
#ifndef WEFT_SWITCH_CLOCK_BPF_H
#define WEFT_SWITCH_CLOCK_BPF_H

#include "common.bpf.h"

#define SWITCH_CLOCK_SYNC_NS 1000000ULL /* re-measure the offset after this much rq time */
#define SWITCH_CLOCK_RISE_NS 25         /* ... letting it rise by at most this much */
#define SWITCH_CLOCK_FIRST 16           /* measurements on consecutive switches to begin with */

struct switch_clock {
	__u64 offset;    /* CLOCK_BOOTTIME - rq->clock */
	__u64 synced_at; /* rq->clock when the offset was last measured */
	__u64 syncs;     /* measurements so far */
	__u64 floor;     /* the last wakeup's timestamp on this CPU */
	__u64 last;      /* the last switch's */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct switch_clock);
} switch_clocks SEC(".maps");

/* CLOCK_BOOTTIME of a switch of prev, which is running on this CPU (sched_switch). */
static __always_inline __u64 switch_time(struct task_struct *prev)
{
	struct switch_clock *c;
	__u64 clock, offset;
	__u32 zero = 0;
	struct rq *rq;

	if (!bpf_core_field_exists(prev->se.cfs_rq->rq))
		return bpf_ktime_get_boot_ns();
	c = bpf_map_lookup_elem(&switch_clocks, &zero);
	rq = prev->se.cfs_rq->rq;
	if (!c || !rq)
		return bpf_ktime_get_boot_ns();
	clock = rq->clock;
	if (c->syncs < SWITCH_CLOCK_FIRST || clock < c->synced_at ||
	    clock - c->synced_at >= SWITCH_CLOCK_SYNC_NS) {
		offset = bpf_ktime_get_boot_ns() - clock;
		if (c->syncs && offset > c->offset + SWITCH_CLOCK_RISE_NS)
			offset = c->offset + SWITCH_CLOCK_RISE_NS;
		c->offset = offset;
		c->synced_at = clock;
		c->syncs++;
	}
	c->last = clock + c->offset > c->floor ? clock + c->offset : c->floor;
	return c->last;
}

/* CLOCK_BOOTTIME of a wakeup on this CPU (sched_waking): now, or the last switch's time if that
 * is later; and no later switch here is stamped before it. */
static __always_inline __u64 waking_time(void)
{
	__u64 ts = bpf_ktime_get_boot_ns();
	struct switch_clock *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&switch_clocks, &zero);
	if (!c)
		return ts;
	if (ts < c->last)
		ts = c->last;
	c->floor = ts;
	return ts;
}

#endif /* WEFT_SWITCH_CLOCK_BPF_H */
