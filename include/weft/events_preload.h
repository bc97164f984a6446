/* SPDX-License-Identifier: MIT */
/* Records only the LD_PRELOAD shim can give: lock waits with their holder, releases that hand a
 * lock to a waiter, and lock-order edges (with the stack where each was first seen). */
#ifndef WEFT_EVENTS_PRELOAD_H
#define WEFT_EVENTS_PRELOAD_H

/* Included by weft/events.h; types start at WEFT_EV_PRELOAD_BASE (24..31, inside the locks
 * range). Same rules as there: fixed-width fields, explicit padding, header first.
 *
 * The shim also emits scheduler-area records where they say the same thing: WEFT_EV_FORK
 * (pthread_create: header = the creating thread, written by the new thread when it starts;
 * fork(): header = the forking thread, written by the child), WEFT_EV_EXEC (every process the
 * shim starts in, from its constructor), WEFT_EV_EXIT (a thread ends; group_dead = 0) and
 * WEFT_EV_COMM (pthread_setname_np), and the event-loop records WEFT_EV_POLL_ENTER/EXIT. */

enum {
	WEFT_EV_LOCK_WAIT = WEFT_EV_PRELOAD_BASE + 0,    /* a blocking call that had to wait */
	WEFT_EV_LOCK_RELEASE = WEFT_EV_PRELOAD_BASE + 1, /* a release that had waiters */
	WEFT_EV_LOCK_EDGE = WEFT_EV_PRELOAD_BASE + 2,    /* new lock-order edge: from held, to taken */
};

enum weft_lock_kind {
	WEFT_LOCK_MUTEX = 1,
	WEFT_LOCK_RWLOCK_READ = 2,
	WEFT_LOCK_RWLOCK_WRITE = 3,
	WEFT_LOCK_SEM = 4,
	WEFT_LOCK_COND = 5,       /* lock = the condition variable, aux = its mutex */
};

/* Loss reasons the shim counts in its ring header (enum weft_loss_reason continues here). */
enum {
	WEFT_LOSS_PRELOAD_RING_FULL = 24,  /* ring full: the collector is slow or gone */
	WEFT_LOSS_PRELOAD_EDGES_FULL = 25, /* lock-order edge table full: later edges not checked */
	WEFT_LOSS_PRELOAD_REENTRY = 26,    /* a call made from inside the shim (e.g. a signal
					    * handler interrupting it) was passed through */
	WEFT_LOSS_PRELOAD_HELD_FULL = 27,  /* a thread held more locks than the shim tracks */
	WEFT_LOSS_PERF_SWITCH_LOST = 28,   /* preload mode's perf context-switch buffer overran */
	WEFT_LOSS_PRELOAD_NO_RING = 29,    /* a process whose shim could not make its ring (so
					    * recorded nothing): counted once per process */
	WEFT_LOSS_PRELOAD_RING_CUT = 30,   /* a ring whose file was cut short under weft (its
					    * later records): counted once per ring */
};

#define WEFT_LOCK_F_TIMEOUT 0x1   /* timed/clock variant gave up (ret = ETIMEDOUT) */
#define WEFT_LOCK_F_BROADCAST 0x2 /* release: pthread_cond_broadcast */
#define WEFT_LOCK_F_TRY 0x4       /* edge: `to` was taken by a trylock (never set: see below) */

/* header: the waiting thread; ts = when the call returned (acquired, or gave up). */
struct weft_lock_wait_event {
	struct weft_event_header hdr;
	__u64 lock;         /* address of the mutex / rwlock / sem / cond */
	__u64 aux;          /* cond waits: the mutex; 0 otherwise */
	__u64 wait_start;   /* CLOCK_BOOTTIME ns when the first attempt failed */
	__u64 caller;       /* return address into the caller of the locking function */
	__u32 kind;         /* enum weft_lock_kind */
	__u32 holder_tid;   /* owner when the wait began (mutex: __owner, rwlock: writer); 0: unknown */
	__s32 ret;          /* 0 acquired, else the errno the call returned */
	__u32 flags;        /* WEFT_LOCK_F_* */
};

/* header: the releasing thread; ts = just before the release. Only releases that had waiters
 * are recorded: the uncontended path stays a few nanoseconds. */
struct weft_lock_release_event {
	struct weft_event_header hdr;
	__u64 lock;
	__u64 caller;
	__u32 kind;
	__u32 flags;
};

/*
 * header: the thread that took `to` while holding `from`; ts = that acquisition.
 * Emitted once per process for each (from, to) pair, the first time it is seen; trylocks never
 * add edges (a trylock cannot block, so it cannot deadlock) but locks they took are held.
 * The stack is a snapshot like struct weft_stack_event's user part, taken inside the shim and
 * unwound by the collector with DWARF CFI.
 */
struct weft_lock_edge_event {
	struct weft_event_header hdr;
	__u64 from;
	__u64 to;
	__u64 from_caller;  /* return address where `from` was taken */
	__u64 to_caller;    /* return address where `to` was taken */
	__u32 from_kind;    /* enum weft_lock_kind */
	__u32 to_kind;
	__u32 ustack_len;
	__u32 pad;
	__u64 uregs[WEFT_UREGS];
	__u8 ustack[WEFT_USTACK_BYTES];
};

/* X(type, name, struct) for each record of this area. */
#define WEFT_PRELOAD_KINDS(X)                                                  \
	X(WEFT_EV_LOCK_WAIT, "lock_wait", struct weft_lock_wait_event)         \
	X(WEFT_EV_LOCK_RELEASE, "lock_release", struct weft_lock_release_event) \
	X(WEFT_EV_LOCK_EDGE, "lock_edge", struct weft_lock_edge_event)

#endif
