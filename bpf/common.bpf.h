/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* What every weft BPF object shares: the process filter, the ring buffer, loss counters. */
#ifndef WEFT_COMMON_BPF_H
#define WEFT_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "weft/events.h"

/*
 * Each object declares these maps; the collector makes every object after the first reuse the
 * first one's (bpf_map__reuse_fd), so there is one filter, one ring and one set of counters.
 */
/* tgid -> 1: processes being traced. User space seeds it; fork adds children; user space
 * removes a process some time after it exited (so its last switches are still seen). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} traced SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized by user space (--ringbuf-size) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_LOSS_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

static __always_inline void count_loss(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &reason);

	if (n)
		*n += 1;
}

static __always_inline bool is_traced(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u8 *v = bpf_map_lookup_elem(&traced, &tgid);

	/* Dereference: comparing the pointers alone lets clang OR them, which the verifier
	 * refuses ("bitwise operator on pointer"). */
	return v && *v;
}

static __always_inline void *reserve(__u32 size, __u16 type, struct task_struct *t, __u64 ts)
{
	struct weft_event_header *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		count_loss(WEFT_LOSS_RINGBUF_FULL);
		return NULL;
	}
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts = ts;
	h->pid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	return h;
}

/* Never wake the collector per event: it polls on a timer and consumes in batches
 * (~1 µs of collector CPU per event with wakeups, ~70 ns without, measured on our VMs). */
#define submit(rec) bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP)

#define WEFT_PF_KTHREAD 0x00200000

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

/*
 * The user half of a stack record for t, which must be current (its user memory is the one
 * mapped): the registers t entered the kernel with (where DWARF unwinding starts) and a copy
 * of its stack above sp.
 */
static __always_inline void fill_user_stack(struct weft_stack_event *e, struct task_struct *t)
{
	struct pt_regs *regs;

	e->ustack_len = 0;
	__builtin_memset(e->uregs, 0, sizeof(e->uregs));
	if (BPF_CORE_READ(t, flags) & WEFT_PF_KTHREAD)
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return;
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

#endif /* WEFT_COMMON_BPF_H */
