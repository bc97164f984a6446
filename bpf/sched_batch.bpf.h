/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Switch and wakeup records, gathered per CPU and written to the ring a batch at a time.
 *
 * A ring record costs a reservation and a commit: ~100 ns of the ~300 a switch record cost
 * here (bpf_stats), for the ring's lock and its producer and consumer positions. A record in
 * the CPU's batch costs a map lookup, and a full batch (~45 records) one ring record
 * (bpf_ringbuf_output). The collector reads a ring record as records back to back, each sized
 * by its header.
 *
 * A batch is written only with interrupts off (sched_switch; sched_waking of another task,
 * under its pi_lock), so two writers on a CPU never interleave. It is flushed when full, before
 * an off-CPU stack (which goes straight to the ring and must follow its switch), and when the
 * collector asks, before each drain (flush_batch, run on each CPU that holds records, so that
 * none stays behind on a quiet CPU). That last one runs with interrupts on when it runs on the
 * collector's own CPU: a writer that interrupts a flush writes straight to the ring instead.
 * Its record may then land before the batch; the collector orders records by time anyway.
 */
#ifndef WEFT_SCHED_BATCH_BPF_H
#define WEFT_SCHED_BATCH_BPF_H

#include "common.bpf.h"

/* Another program on this CPU may read these between two of our stores: keep them in order. */
#define batch_barrier() asm volatile("" ::: "memory")
#define batch_flag(b) (*(volatile __u32 *)&(b)->flushing)

/*
 * struct weft_sched_batch (include/weft/events.h), a page per CPU so that no two CPUs' batches
 * share a cache line. Indexed by CPU, and mapped by the collector, which reads each len to run
 * the flush only on the CPUs that hold records (an idle CPU is not woken for nothing).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set to the number of possible CPUs by user space */
	__type(key, __u32);
	__type(value, struct weft_sched_batch);
} sched_batches SEC(".maps");

static __always_inline struct weft_sched_batch *sched_batch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&sched_batches, &cpu);
}

/* The batch to the CPU's ring, as one record; what a full ring refuses is counted lost. */
static __always_inline void sched_batch_flush(struct weft_sched_batch *b)
{
	__u32 cpu = bpf_get_smp_processor_id(), len;
	void *ring;

	/* The flag before the length: a writer that comes in after it leaves the batch alone. */
	batch_flag(b) = 1;
	batch_barrier();
	len = b->len;
	if (len) {
		ring = bpf_map_lookup_elem(&events, &cpu);
		if (len > WEFT_SCHED_BATCH_BYTES)
			len = WEFT_SCHED_BATCH_BYTES;
		if (!ring || bpf_ringbuf_output(ring, b->buf, len, BPF_RB_NO_WAKEUP))
			count_losses(WEFT_LOSS_RINGBUF_FULL, b->count);
		b->len = 0;
		b->count = 0;
	}
	batch_barrier();
	batch_flag(b) = 0;
}

/*
 * Room for a record of `size` bytes (a constant) in this CPU's batch, its header filled like
 * reserve()'s; sched_batch_commit() once the rest is. NULL: write it with reserve() instead.
 */
static __always_inline void *sched_batch_reserve(struct weft_sched_batch *b, __u32 size, __u16 type,
						 struct task_struct *t, __u64 ts)
{
	struct weft_event_header *h;
	__u32 off;

	if (!b || batch_flag(b))
		return NULL;
	off = b->len;
	if (off > WEFT_SCHED_BATCH_BYTES - size) {
		sched_batch_flush(b);
		off = 0;
	}
	h = (void *)(b->buf + off);
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts = ts;
	h->pid = t->tgid;
	h->tid = t->pid;
	return h;
}

static __always_inline void sched_batch_commit(struct weft_sched_batch *b, __u32 size)
{
	b->len += size;
	b->count++;
}

#endif /* WEFT_SCHED_BATCH_BPF_H */
