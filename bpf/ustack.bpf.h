/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* User stack snapshots for DWARF unwinding in user space: registers plus raw stack bytes. */
#ifndef WEFT_USTACK_BPF_H
#define WEFT_USTACK_BPF_H

#include "common.bpf.h"

/* The copy must stay inside the stack mapping: near the top of a stack a full-size read fails,
 * so retry with smaller sizes (constant sizes keep the verifier happy). */
static __always_inline __u32 copy_user_stack(__u8 *dst, __u64 sp)
{
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES, (void *)sp))
		return WEFT_USTACK_BYTES;
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES / 2, (void *)sp))
		return WEFT_USTACK_BYTES / 2;
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES / 4, (void *)sp))
		return WEFT_USTACK_BYTES / 4;
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES / 8, (void *)sp))
		return WEFT_USTACK_BYTES / 8;
	count_loss(WEFT_LOSS_STACK_READ);
	return 0;
}

/* Fills e's registers and user stack from the user registers the task entered the kernel with. */
static __always_inline void snapshot_user_stack(struct weft_stack_event *e, struct pt_regs *regs)
{
	e->uregs[WEFT_UREG_IP] = BPF_CORE_READ(regs, ip);
	e->uregs[WEFT_UREG_SP] = BPF_CORE_READ(regs, sp);
	e->uregs[WEFT_UREG_BP] = BPF_CORE_READ(regs, bp);
	e->uregs[WEFT_UREG_BX] = BPF_CORE_READ(regs, bx);
	e->uregs[WEFT_UREG_R12] = BPF_CORE_READ(regs, r12);
	e->uregs[WEFT_UREG_R13] = BPF_CORE_READ(regs, r13);
	e->uregs[WEFT_UREG_R14] = BPF_CORE_READ(regs, r14);
	e->uregs[WEFT_UREG_R15] = BPF_CORE_READ(regs, r15);
	e->ustack_len = copy_user_stack(e->ustack, e->uregs[WEFT_UREG_SP]);
}

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

#endif /* WEFT_USTACK_BPF_H */
