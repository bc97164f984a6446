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
/*
 * The processes being traced, one bit per tgid (bit tgid % 64 of word tgid / 64). A bitmap
 * rather than a hash: every switch and wakeup on the machine tests two tasks, and an inlined
 * array access costs ~40 ns here where a hash lookup costs ~200 ns. User space seeds it and
 * clears a process some time after it exited (so its last switches are still seen), through an
 * mmap of the map; fork sets children's bits. Both sides use atomic OR/AND on the words.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WEFT_TGID_LIMIT / 64);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} traced SEC(".maps");

/*
 * One ring buffer per CPU, so a CPU reserving a record never touches a cache line another CPU
 * just wrote: with one shared ring, two CPUs taking turns (a ping-pong) paid ~100 ns per
 * record for the ring's lock and producer position. User space creates the rings (its size
 * from --ringbuf-size) and fills the slots before attaching; the collector merges them by time.
 */
struct weft_cpu_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* set to the number of possible CPUs by user space */
	__type(key, __u32);
	__array(values, struct weft_cpu_ring);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEFT_LOSS_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} losses SEC(".maps");

static __always_inline void count_losses(__u32 reason, __u64 count)
{
	__u64 *n = bpf_map_lookup_elem(&losses, &reason);

	if (n)
		*n += count;
}

#define count_loss(reason) count_losses(reason, 1)

static __always_inline bool tgid_traced(__u32 tgid)
{
	__u32 word = tgid / 64;
	__u64 *bits = bpf_map_lookup_elem(&traced, &word);

	return bits && (*bits & (1ULL << (tgid % 64)));
}

static __always_inline void trace_tgid(__u32 tgid)
{
	__u32 word = tgid / 64;
	__u64 *bits = bpf_map_lookup_elem(&traced, &word);

	if (bits)
		__sync_fetch_and_or(bits, 1ULL << (tgid % 64));
}

/* t must be a trusted BTF pointer (a tp_btf argument, bpf_get_current_task_btf()): its fields
 * are then plain loads, where BPF_CORE_READ would call bpf_probe_read_kernel for each. */
static __always_inline bool is_traced(struct task_struct *t)
{
	return tgid_traced(t->tgid);
}

/* A task's name, as plain loads from a trusted task pointer. The kernel keeps comm terminated
 * at its last byte; a rename racing with the copy can mix two names but never overrun. */
static __always_inline void read_comm(char *dst, struct task_struct *t)
{
	__builtin_memcpy(dst, t->comm, WEFT_COMM_LEN);
}

static __always_inline void *reserve(__u32 size, __u16 type, struct task_struct *t, __u64 ts)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct weft_event_header *h = NULL;
	void *ring = bpf_map_lookup_elem(&events, &cpu);

	if (ring)
		h = bpf_ringbuf_reserve(ring, size, 0);
	if (!h) {
		count_loss(WEFT_LOSS_RINGBUF_FULL);
		return NULL;
	}
	h->type = type;
	h->size = size;
	h->cpu = cpu;
	h->ts = ts;
	h->pid = t->tgid;
	h->tid = t->pid;
	return h;
}

/* Never wake the collector per event: it polls on a timer and consumes in batches
 * (~1 µs of collector CPU per event with wakeups, ~70 ns without, measured on our VMs). */
#define submit(rec) bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP)

#define WEFT_PF_KTHREAD 0x00200000

/*
 * The copy stops where the readable stack does. A read that cannot fault fails as a whole if
 * any page of it is not in memory: above the top of the stack, or a page the program never
 * touched (libuv's uv__io_poll keeps 1024 epoll events in its frame and writes the first few,
 * so whenever sp sat near the top of its page every read of 512 bytes or more failed, about
 * one run in ten). So smaller sizes, and at last the rest of sp's own page, which is always
 * in (the thread has just used it). Sizes are bounded so that the verifier can check them.
 */
static __always_inline __u32 copy_user_stack(__u8 *dst, __u64 sp)
{
	__u32 page_rest = 4096 - (sp & 4095);

	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES, (void *)sp))
		return WEFT_USTACK_BYTES;
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES / 2, (void *)sp))
		return WEFT_USTACK_BYTES / 2;
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES / 4, (void *)sp))
		return WEFT_USTACK_BYTES / 4;
	if (!bpf_probe_read_user(dst, WEFT_USTACK_BYTES / 8, (void *)sp))
		return WEFT_USTACK_BYTES / 8;
	if (page_rest < WEFT_USTACK_BYTES / 8 && !bpf_probe_read_user(dst, page_rest, (void *)sp))
		return page_rest;
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
	/* A thread's last switches, as it exits, come after its memory is gone; a thread that
	 * sleeps inside execve (reading the new binary) has the new memory but still the old
	 * program's registers. Nothing to copy either way, and nothing lost. */
	if ((t->flags & WEFT_PF_KTHREAD) || !t->mm || BPF_CORE_READ_BITFIELD(t, in_execve))
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return;
	e->uregs[WEFT_UREG_IP] = regs->ip;
	e->uregs[WEFT_UREG_SP] = regs->sp;
	e->uregs[WEFT_UREG_BP] = regs->bp;
	e->uregs[WEFT_UREG_BX] = regs->bx;
	e->uregs[WEFT_UREG_R12] = regs->r12;
	e->uregs[WEFT_UREG_R13] = regs->r13;
	e->uregs[WEFT_UREG_R14] = regs->r14;
	e->uregs[WEFT_UREG_R15] = regs->r15;
	e->ustack_len = copy_user_stack(e->ustack, e->uregs[WEFT_UREG_SP]);
}

#endif /* WEFT_COMMON_BPF_H */
