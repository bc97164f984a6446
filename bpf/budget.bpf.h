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

#endif /* WEFT_BUDGET_BPF_H */
