/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The releaser of a contended lock: the thread whose futex wake wakes a waiter. The lock probes
 * (locks.bpf.c) keep the waits and the wakes in progress; this hook, run at sched_waking,
 * joins them. It is called from the scheduler's own sched_waking program (sched.bpf.c), not
 * attached on its own: a program run costs ~70 ns here, on every wakeup of the machine. The
 * collector makes the lock object use the scheduler object's copies of these maps.
 */
#ifndef WEFT_LOCK_WAKES_BPF_H
#define WEFT_LOCK_WAKES_BPF_H

#include "common.bpf.h"
#include "idset.bpf.h"
#include "locks.h"

/* A futex wake in progress, by waker tid: sched_waking inside it names the releaser. */
struct pending_wake {
	__u64 ts;
	__u64 uaddr;
	__u32 cmd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending_wait);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending_wake);
} wakes SEC(".maps");

/* The threads with an entry in `waits`: every wakeup of a traced thread asks, and an array bit
 * costs a fraction of a hash lookup. */
ID_SET(waiting);

static __always_inline void lock_waking(struct task_struct *p)
{
	struct pending_wake *k;
	struct pending_wait *w;
	__u32 wakee = p->pid, waker;

	/* Every wakeup of a traced thread comes here: the bitmap first, the cheapest test. */
	if (!idset_has(&waiting, wakee))
		return;
	w = bpf_map_lookup_elem(&waits, &wakee);
	if (!w || w->releaser_tid)
		return;
	waker = (__u32)bpf_get_current_pid_tgid();
	/* Only a wake from inside a futex call releases a lock (not a signal or a timeout). */
	k = bpf_map_lookup_elem(&wakes, &waker);
	if (!k)
		return;
	w->releaser_pid = bpf_get_current_pid_tgid() >> 32;
	w->releaser_tid = waker;
	w->wake_ts = k->ts;
	w->wake_uaddr = k->uaddr;
	w->wake_cmd = k->cmd;
}

#endif /* WEFT_LOCK_WAKES_BPF_H */
