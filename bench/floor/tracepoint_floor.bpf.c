// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The floor under any tracer of context switches: programs on sched_switch and sched_waking
 * that do nothing (or only read the clock, as every record needs). The benchmarks run the
 * workload under these to show what weft's own work adds to the cost of being called at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

__u64 last_ts; /* written, so the clock read is not optimized away */

SEC("tp_btf/sched_switch")
int BPF_PROG(empty_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(empty_waking, struct task_struct *p)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(clock_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	last_ts = bpf_ktime_get_boot_ns();
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(clock_waking, struct task_struct *p)
{
	last_ts = bpf_ktime_get_boot_ns();
	return 0;
}
