/* SPDX-License-Identifier: MIT */
/* Lock records from BPF: contended futex waits (with the holder) and the wakes that end them. */
#ifndef WEFT_EVENTS_LOCKS_H
#define WEFT_EVENTS_LOCKS_H

/* Included by weft/events.h; types are WEFT_EV_LOCKS_BASE..+7. Same rules as there: fixed-width fields,
 * explicit padding, a struct weft_event_header first.
 *
 * Only contended paths reach the kernel, so these cost nothing on uncontended locks. A wait is
 * two records, joined per thread in BPF: BEGIN at futex entry (with the lock's neighbourhood,
 * from which user space reads the holder) and END at exit (with the thread that woke it, seen
 * from sched_waking while that thread was inside a futex wake). Threads already blocked when
 * weft attached, or blocked for over a second, are reported by user space from /proc as
 * BLOCKED records (what deadlock detection trusts: the owner is read afresh). */

enum {
	WEFT_EV_LOCK_BEGIN = WEFT_EV_LOCKS_BASE + 0,   /* a thread starts a futex wait */
	WEFT_EV_LOCK_END = WEFT_EV_LOCKS_BASE + 1,     /* ... and returns from it */
	WEFT_EV_LOCK_STACK = WEFT_EV_LOCKS_BASE + 2,   /* user stack at a BEGIN (weft_stack_event) */
	WEFT_EV_LOCK_BLOCKED = WEFT_EV_LOCKS_BASE + 3, /* seen blocked in a futex wait via /proc */
};

/* Futex commands (the op without FUTEX_PRIVATE_FLAG / FUTEX_CLOCK_REALTIME). */
enum weft_futex_cmd {
	WEFT_FUTEX_WAIT = 0,
	WEFT_FUTEX_WAKE = 1,
	WEFT_FUTEX_REQUEUE = 3,
	WEFT_FUTEX_CMP_REQUEUE = 4,
	WEFT_FUTEX_WAKE_OP = 5,
	WEFT_FUTEX_LOCK_PI = 6,
	WEFT_FUTEX_UNLOCK_PI = 7,
	WEFT_FUTEX_WAIT_BITSET = 9,
	WEFT_FUTEX_WAKE_BITSET = 10,
	WEFT_FUTEX_WAIT_REQUEUE_PI = 11,
	WEFT_FUTEX_CMP_REQUEUE_PI = 12,
	WEFT_FUTEX_LOCK_PI2 = 13,
};

/*
 * The 32-bit words around the futex word at wait start: words[WEFT_LOCK_WORD0] is the futex
 * word itself. Enough to reach a glibc mutex's __owner (+8), an rwlock's __cur_writer (+12 or
 * +16 from the futex it waits on) and __readers (-8 / -12).
 *
 *   uaddr-16        uaddr           uaddr+16        uaddr+32
 *   | w0 w1 w2 w3   | w4 w5 w6 w7   | w8 w9 w10 w11 |
 */
#define WEFT_LOCK_WORDS 12
#define WEFT_LOCK_WORD0 4
#define WEFT_LOCK_WORDS_LO 1   /* words_ok bits: which 16-byte chunks could be read */
#define WEFT_LOCK_WORDS_MID 2
#define WEFT_LOCK_WORDS_HI 4

/* header: the waiting thread; ts = futex entry. */
struct weft_lock_begin_event {
	struct weft_event_header hdr;
	__u64 uaddr;
	__u32 cmd;          /* enum weft_futex_cmd */
	__u32 val;          /* the value the caller expects in the futex word */
	__u32 words[WEFT_LOCK_WORDS];
	__u32 words_ok;
	__u32 pad;
};

/* header: the waiting thread; ts = futex return. */
struct weft_lock_end_event {
	struct weft_event_header hdr;
	__u64 uaddr;
	__u64 start_ts;     /* the BEGIN's ts */
	__u64 wake_ts;      /* when the releaser entered its futex wake; 0: unknown */
	__u64 wake_uaddr;   /* the futex the releaser woke (differs after a requeue) */
	__u32 cmd;
	__s32 ret;          /* 0 woken, -ETIMEDOUT, -EINTR, ... (-EAGAIN: the word changed, no wait) */
	__u32 releaser_pid; /* 0: unknown (not woken by a traced thread's futex call) */
	__u32 releaser_tid;
	__u32 wake_cmd;     /* the releaser's futex command */
	__u32 pad;
};

/* header: the blocked thread; ts = when user space looked. */
struct weft_lock_blocked_event {
	struct weft_event_header hdr;
	__u64 uaddr;
	__u64 since_ts;     /* when the wait began (from BPF), or a time it had begun by (the
			     * attach); 0: unknown */
	__u32 cmd;
	__u32 val;
	__u32 words[WEFT_LOCK_WORDS];   /* read from /proc/PID/mem just now */
	__u32 words_ok;
	__u32 source;       /* 1: scan at attach, 2: a wait older than a second */
	/* Its user stack: pc and sp from /proc/PID/task/TID/syscall, the bytes from /proc/PID/mem
	 * (other registers unknown: 0). stack.hdr repeats this header with type LOCK_STACK. */
	struct weft_stack_event stack;
};

#define WEFT_LOCK_BLOCKED_ATTACH 1
#define WEFT_LOCK_BLOCKED_LONG 2

/* Loss reasons of this area. */
#define WEFT_LOSS_LOCK_TABLE 8   /* too many threads in futex calls at once: wait not joined */

/* X(type, name, struct) for each record of this area. */
#define WEFT_LOCKS_KINDS(X)                                                   \
	X(WEFT_EV_LOCK_BEGIN, "lock_begin", struct weft_lock_begin_event)     \
	X(WEFT_EV_LOCK_END, "lock_end", struct weft_lock_end_event)           \
	X(WEFT_EV_LOCK_STACK, "lock_stack", struct weft_stack_event)          \
	X(WEFT_EV_LOCK_BLOCKED, "lock_blocked", struct weft_lock_blocked_event)

#endif
