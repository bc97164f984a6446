/* SPDX-License-Identifier: MIT */
/* Go runtime records (goroutine park/ready, channel operations). */
#ifndef WEFT_EVENTS_GO_H
#define WEFT_EVENTS_GO_H

/* Included by weft/events.h; types start at WEFT_EV_GO_BASE. Same rules as there: fixed-width fields,
 * explicit padding, a struct weft_event_header first. */

/*
 * Probes sit where goroutines block and wake, not on every channel operation (a uprobe hit costs
 * 6-24 us): runtime.gopark (blocks), runtime.goready (made runnable), runtime.newproc1
 * (created), runtime.goexit1 (ended), runtime.semacquire1 (remembers the semaphore a
 * sync.Mutex waiter is about to park on; emits nothing), the RET of runtime.makechan (where
 * channels are made: once per channel), runtime.netpollready (a goroutine's network I/O is
 * ready: emitted as a ready by the runtime). Header pid/tid: the OS thread (M)
 * running the probed code. Goroutine ids are the runtime's goid; 0 means "no goroutine" (g0,
 * the scheduler's own stack: timers and the like).
 */
enum weft_go_event_type {
	WEFT_EV_GO_PARK = WEFT_EV_GO_BASE, /* a goroutine blocks */
	WEFT_EV_GO_READY,                   /* a goroutine makes another runnable */
	WEFT_EV_GO_NEW,                     /* a goroutine is created */
	WEFT_EV_GO_EXIT,                    /* a goroutine ends */
	WEFT_EV_GO_CHAN,                    /* a channel is made (probe on makechan's RET) */
};

#define WEFT_GO_CHANS 4    /* channels kept per park (a select waits on several) */
#define WEFT_GO_FRAMES 16  /* park stack: return addresses from the frame-pointer chain */

/* Loss reasons of this area (enum weft_loss_reason leaves 8.. to areas). */
#define WEFT_LOSS_GO_READ 20 /* a g / sudog field could not be read */

/* park flags */
#define WEFT_GO_PARK_SEMA 0x1       /* obj is the semaphore address from semacquire1 */
#define WEFT_GO_PARK_SEMA_MUTEX 0x2 /* ... acquired for a sync.Mutex / RWMutex */

/* header: the thread the goroutine ran on when it parked. */
struct weft_go_park_event {
	struct weft_event_header hdr;
	__u64 goid;
	__u64 startpc;     /* the function the goroutine was started with */
	__u64 lock;        /* gopark's lock argument (channel waits: &hchan.lock) */
	__u64 obj;         /* semaphore address (flags & WEFT_GO_PARK_SEMA), else 0 */
	__u64 chans[WEFT_GO_CHANS]; /* hchan addresses from g.waiting's sudog list */
	__u8 reason;       /* the runtime's waitReason (version-specific numbering) */
	__u8 nchans;
	__u8 nframes;
	__u8 flags;
	__u32 pad;
	__u64 frames[WEFT_GO_FRAMES]; /* frames[0]: gopark's caller, then return addresses */
};

/* header: the thread running the waker. */
struct weft_go_ready_event {
	struct weft_event_header hdr;
	__u64 goid;        /* waker (0: the runtime on g0: timers, scheduler) */
	__u64 wakee_goid;
	__u64 startpc;     /* waker's start function */
	__u64 wakee_startpc;
	__u64 chan;        /* channel that completed the wakee's wait (from gp.param's sudog), or 0 */
	__u32 flags;       /* WEFT_GO_READY_* */
	__u32 pad;
};

#define WEFT_GO_READY_NETPOLL 0x1 /* made runnable by the netpoller (runtime.netpollready) */

/* header: the thread running the creator. */
struct weft_go_new_event {
	struct weft_event_header hdr;
	__u64 creator_goid;
	__u64 startpc;     /* the new goroutine's function */
	__u64 callerpc;    /* the go statement */
	__u64 creator_startpc;
};

struct weft_go_exit_event {
	struct weft_event_header hdr;
	__u64 goid;
	__u64 startpc;
};

/* header: the thread running the creator. */
struct weft_go_chan_event {
	struct weft_event_header hdr;
	__u64 goid;
	__u64 chan;        /* the new hchan */
	__u64 site;        /* return address into the function that made it */
};

/* X(type, name, struct) for each record of this area. */
#define WEFT_GO_KINDS(X)                                                 \
	X(WEFT_EV_GO_PARK, "go_park", struct weft_go_park_event)         \
	X(WEFT_EV_GO_READY, "go_ready", struct weft_go_ready_event)      \
	X(WEFT_EV_GO_NEW, "go_new", struct weft_go_new_event)            \
	X(WEFT_EV_GO_EXIT, "go_exit", struct weft_go_exit_event)          \
	X(WEFT_EV_GO_CHAN, "go_chan", struct weft_go_chan_event)

#endif
