/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The lock probes' map layouts, shared by bpf/locks.bpf.c and its loader src/collect/locks.c. */
#ifndef WEFT_LOCKS_H
#define WEFT_LOCKS_H

/* A wait in progress, by waiter tid: joined to its exit, so a wait is BEGIN + END. The loader
 * reads it too: waits older than a second are looked at in /proc (deadlock detection). */
struct pending_wait {
	__u64 start_ts;
	__u64 uaddr;
	__u64 wake_ts;
	__u64 wake_uaddr;
	__u32 tgid;
	__u32 cmd;
	__u32 releaser_pid;
	__u32 releaser_tid;
	__u32 wake_cmd;
	__u32 pad;
};

#endif
