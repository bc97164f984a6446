/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Rate limits for stack snapshots (their copy is fill_user_stack() in common.bpf.h). */
#ifndef WEFT_BUDGET_BPF_H
#define WEFT_BUDGET_BPF_H

#include "common.bpf.h"

/* Per-thread token bucket: one unit per `interval_ns`, at most `burst` saved up. */
struct stack_budget {
	__u64 last_ts;
	__u64 credit_ns;
};

static __always_inline bool budget_take(struct stack_budget *b, __u64 now, __u64 interval_ns,
					__u64 burst)
{
	__u64 cap = interval_ns * burst;

	if (b->last_ts == 0)
		b->credit_ns = cap;
	else
		b->credit_ns += now - b->last_ts;
	b->last_ts = now;
	if (b->credit_ns > cap)
		b->credit_ns = cap;
	if (b->credit_ns < interval_ns)
		return false;
	b->credit_ns -= interval_ns;
	return true;
}

/*
 * What one CPU may send, whatever its threads' own budgets: a thousand threads each within
 * theirs (a Python service sleeping 10 ms at a time) sent ~450 MB/s of stack copies, far more
 * than the rings hold between two drains, and the switch records behind them were lost (93% of
 * all). At most one stack per cpu_stack_interval_ns on each CPU (in bursts of CPU_STACK_BURST):
 * each object that takes stacks has its own, so the scheduler's and the lock probes' add up.
 */
#define CPU_STACK_BURST 32
/* 1000 a second, or the per-thread rate if that is higher (collector_cpu_stack_interval_ns) */
const volatile __u64 cpu_stack_interval_ns = 1000000;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_budget);
} cpu_stack_budgets SEC(".maps");

static __always_inline bool cpu_stack_take(__u64 now)
{
	__u32 zero = 0;
	struct stack_budget *b = bpf_map_lookup_elem(&cpu_stack_budgets, &zero);

	return b && budget_take(b, now, cpu_stack_interval_ns, CPU_STACK_BURST);
}

#endif /* WEFT_BUDGET_BPF_H */
