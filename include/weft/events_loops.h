/* SPDX-License-Identifier: MIT */
/* Event-loop records (poll-family calls, loop iterations, stall samples). */
#ifndef WEFT_EVENTS_LOOPS_H
#define WEFT_EVENTS_LOOPS_H

/* Included by weft/events.h; types start at WEFT_EV_LOOPS_BASE. Same rules as there:
 * fixed-width fields, explicit padding, a struct weft_event_header first.
 * The poll records come from BPF (syscall tracepoints) and from the preload shim alike. */

enum weft_poll_kind {
	WEFT_POLL_EPOLL_WAIT = 1,  /* epoll_wait, epoll_pwait, epoll_pwait2 */
	WEFT_POLL_POLL = 2,        /* poll, ppoll */
	WEFT_POLL_SELECT = 3,      /* select, pselect6 */
	WEFT_POLL_IO_URING = 4,    /* io_uring_enter waiting for completions */
};

enum {
	WEFT_EV_POLL_ENTER = WEFT_EV_LOOPS_BASE + 0, /* a thread starts waiting in a poll call */
	WEFT_EV_POLL_EXIT = WEFT_EV_LOOPS_BASE + 1,  /* ... and returns from it */
	WEFT_EV_LOOP_STATS = WEFT_EV_LOOPS_BASE + 2, /* BPF: iterations aggregated per period */
	WEFT_EV_LOOP_STALL = WEFT_EV_LOOPS_BASE + 3, /* BPF: one iteration above the threshold */
	WEFT_EV_LOOP_SAMPLE = WEFT_EV_LOOPS_BASE + 4,/* BPF: loop thread sampled mid-iteration */
	WEFT_EV_LOOP_BLOCK = WEFT_EV_LOOPS_BASE + 5, /* BPF: loop thread blocked mid-iteration */
};

/* The stall threshold (--stall-threshold) when none is given: 50 ms, the "long task" of
 * browsers, half of asyncio's slow-callback warning. */
#define WEFT_LOOPS_DEFAULT_STALL_NS (50 * 1000000ULL)

/* Iteration-time histogram kept in BPF: log2 buckets split in 8 linear sub-buckets.
 * Bucket b covers [2^e + s * 2^(e-3), 2^e + (s+1) * 2^(e-3)) ns with e = b / 8, s = b % 8
 * (for e < 3: the single values 2^e.. as far as they go). */
#define WEFT_LOOP_HIST_SUB_BITS 3
#define WEFT_LOOP_HIST_BUCKETS (64 << WEFT_LOOP_HIST_SUB_BITS)

/* header: the polling thread; ts = entry. */
struct weft_poll_enter_event {
	struct weft_event_header hdr;
	__u32 kind;         /* enum weft_poll_kind */
	__s32 fd;           /* epoll fd, or -1 */
	__s64 timeout_ns;   /* -1: infinite */
};

/* header: the polling thread; ts = return. */
struct weft_poll_exit_event {
	struct weft_event_header hdr;
	__u32 kind;
	__s32 ret;          /* ready count, 0 on timeout, -errno */
};

/*
 * The BPF probes do the iteration accounting in the kernel (an enter/exit pair per poll call
 * would be two records per iteration): iterations are counted into a histogram and sent once
 * per period per loop thread; only iterations above the stall threshold become records.
 * An iteration runs from a poll call's return to the next poll call's entry (see
 * bpf/loops.bpf.c for how the return is placed without hooking syscall exits).
 */

/* header: the loop thread; ts = end of the period (a poll entry). */
struct weft_loop_stats_event {
	struct weft_event_header hdr;
	__u64 since;        /* start of the period (ts of the previous stats record or first poll) */
	__u64 iterations;   /* iterations that ended in the period */
	__u64 busy_ns;      /* their total time */
	__u64 poll_ns;      /* time spent inside poll calls in the period */
	__u64 max_ns;       /* longest iteration */
	__u32 kind;         /* enum weft_poll_kind of the last poll call */
	__u32 pad;
	__u32 hist[WEFT_LOOP_HIST_BUCKETS];
};

/* header: the loop thread; ts = the poll entry that ended the stall. */
struct weft_loop_stall_event {
	struct weft_event_header hdr;
	__u64 start;        /* the poll return that began the iteration */
	__u32 kind;         /* enum weft_poll_kind of the poll call that ended it */
	__u32 pad;
};

/* header (in stack.hdr): the loop thread, running away from its poll call; ts = sample time.
 * The stack is what the thread was running (kernel frames if it was in the kernel). */
struct weft_loop_sample_event {
	struct weft_stack_event stack;
	__u64 iter_start;   /* the poll return that began the current iteration */
	struct weft_py_frames py;
};

/* header (in stack.hdr): the loop thread, switched back in after waiting (off-CPU, voluntarily)
 * outside its poll call for at least the block threshold; ts = the switch-in. The stack is
 * the one it switched out with: where it blocked, kernel and user frames. */
struct weft_loop_block_event {
	struct weft_stack_event stack;
	__u64 iter_start;
	__u64 off_ts;       /* when it switched out (voluntarily) */
	__u64 off_ns;       /* how long it stayed off-CPU */
	__u32 syscall;      /* x86-64 syscall number it blocked in; (__u32)-1: none (page fault) */
	__u32 pad;
	struct weft_py_frames py;
};

/* X(type, name, struct) for each record of this area. */
#define WEFT_LOOPS_KINDS(X)                                                  \
	X(WEFT_EV_POLL_ENTER, "poll_enter", struct weft_poll_enter_event)    \
	X(WEFT_EV_POLL_EXIT, "poll_exit", struct weft_poll_exit_event)       \
	X(WEFT_EV_LOOP_STATS, "loop_stats", struct weft_loop_stats_event)    \
	X(WEFT_EV_LOOP_STALL, "loop_stall", struct weft_loop_stall_event)    \
	X(WEFT_EV_LOOP_SAMPLE, "loop_sample", struct weft_loop_sample_event) \
	X(WEFT_EV_LOOP_BLOCK, "loop_block", struct weft_loop_block_event)

#endif
