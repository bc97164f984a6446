/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The poll calls of the event-loop probes, shared by bpf/loops.bpf.c and its loader
 * src/collect/loops.c (which attaches to each one's syscall tracepoints). */
#ifndef WEFT_LOOPS_H
#define WEFT_LOOPS_H

/* X(x86-64 syscall number, name, enum weft_poll_kind) for each syscall a loop waits in. */
#define LOOPS_POLL_SYSCALLS(X)                              \
	X(7, poll, WEFT_POLL_POLL)                          \
	X(23, select, WEFT_POLL_SELECT)                     \
	X(232, epoll_wait, WEFT_POLL_EPOLL_WAIT)            \
	X(270, pselect6, WEFT_POLL_SELECT)                  \
	X(271, ppoll, WEFT_POLL_POLL)                       \
	X(281, epoll_pwait, WEFT_POLL_EPOLL_WAIT)           \
	X(426, io_uring_enter, WEFT_POLL_IO_URING)          \
	X(441, epoll_pwait2, WEFT_POLL_EPOLL_WAIT)

#endif
