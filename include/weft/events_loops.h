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
};

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

/* X(type, name, struct) for each record of this area. */
#define WEFT_LOOPS_KINDS(X)                                               \
	X(WEFT_EV_POLL_ENTER, "poll_enter", struct weft_poll_enter_event) \
	X(WEFT_EV_POLL_EXIT, "poll_exit", struct weft_poll_exit_event)

#endif
