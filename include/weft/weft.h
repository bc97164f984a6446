/* SPDX-License-Identifier: MIT */
/* weft's annotation header: mark actor messages, tasks, channels and loop iterations for weft. */
#ifndef WEFT_WEFT_H
#define WEFT_WEFT_H

/*
 * Any runtime or program may include this header (C or C++, no library to link) and mark what
 * it does:
 *
 *     #include <weft/weft.h>
 *
 *     WEFT_ACTOR_NAME(me, "logger");              // once, when the actor starts
 *     WEFT_ACTOR_SEND(me, to, msg_id, depth);     // after enqueueing; depth = to's mailbox now
 *     WEFT_ACTOR_RECV(me, msg_id, depth);         // dequeued msg_id: its handler starts now
 *     WEFT_ACTOR_DONE(me);                        // the handler returned
 *
 * Each macro is a USDT probe (provider "weft", the systemtap ELF note format that perf, bpftrace
 * and libbpf read) guarded by a semaphore: while weft is not attached the semaphore is 0 and a
 * probe costs one load of a 16-bit global, a compare and a branch not taken; its arguments are
 * not even evaluated. The probe site itself is a single `nop`. When weft traces the process (or
 * starts it with `weft run`) it finds the notes in the binary and its libraries by itself, sets
 * the semaphores and turns each nop into a breakpoint (a uprobe: 6-24 us per hit on a VM, so mark
 * messages and handlers, not every instruction).
 *
 * Mark a send before the receiver can see the message (e.g. under the mailbox lock): weft joins a
 * receive to the send that came before it in time.
 *
 * Ids are any 64-bit values unique while the thing lives (a pointer will do). Depth arguments
 * are the mailbox/queue length after the operation; pass -1 when unknown. Strings must stay
 * readable for the duration of the call; weft copies at most 31 bytes.
 *
 * Without <sys/sdt.h> (Debian: systemtap-sdt-dev) or when WEFT_DISABLE is defined, every macro
 * compiles to nothing.
 */

#if defined(__has_include)
#if !defined(WEFT_DISABLE) && __has_include(<sys/sdt.h>)
#define WEFT_HAVE_SDT 1
#endif
#elif !defined(WEFT_DISABLE) && defined(__linux__)
#define WEFT_HAVE_SDT 1
#endif

#ifdef WEFT_HAVE_SDT

#ifndef _SDT_HAS_SEMAPHORES
#define _SDT_HAS_SEMAPHORES 1
#endif
/* Arguments in registers or constants only: libbpf before 1.3 cannot read %rip-relative operands,
 * which the default "nor" produces for globals. Loading a register costs nothing when the
 * semaphore branch is not taken. */
#ifndef STAP_SDT_ARG_CONSTRAINT
#define STAP_SDT_ARG_CONSTRAINT nr
#endif
#include <sys/sdt.h>

/*
 * One semaphore per probe, named as the note format requires (<provider>_<name>_semaphore) and
 * placed in ".probes". Weak and hidden: every translation unit may define it, the link keeps one
 * per executable or shared object, and the kernel counts attached tracers in it.
 */
#define WEFT__SEM(name) weft_##name##_semaphore
#define WEFT__DECLARE(name)                                                                \
	__extension__ unsigned short WEFT__SEM(name)                                       \
		__attribute__((weak, visibility("hidden"), section(".probes"), used))
WEFT__DECLARE(actor_name);
WEFT__DECLARE(actor_send);
WEFT__DECLARE(actor_recv);
WEFT__DECLARE(actor_done);
WEFT__DECLARE(actor_depth);
WEFT__DECLARE(task_spawn);
WEFT__DECLARE(task_poll_begin);
WEFT__DECLARE(task_poll_end);
WEFT__DECLARE(task_wake);
WEFT__DECLARE(chan_send);
WEFT__DECLARE(chan_recv);
WEFT__DECLARE(loop_begin);
WEFT__DECLARE(loop_end);

/* Non-zero while a tracer is attached to this probe: use it to skip work that only feeds it. */
#define WEFT_ENABLED(name) __builtin_expect(*(volatile unsigned short *)&WEFT__SEM(name) != 0, 0)

#define WEFT__P(n, name, ...)                                                              \
	do {                                                                               \
		if (WEFT_ENABLED(name))                                                    \
			STAP_PROBE##n(weft, name, __VA_ARGS__);                            \
	} while (0)
/* Casts keep the note's argument sizes fixed whatever types the caller passes. */
#define WEFT__U(x) ((unsigned long long)(x))
#define WEFT__S(x) ((long long)(x))

#else /* !WEFT_HAVE_SDT */

#define WEFT_ENABLED(name) 0
#define WEFT__P(n, name, ...)                                                              \
	do {                                                                               \
	} while (0)
#define WEFT__U(x) 0
#define WEFT__S(x) 0

#endif

/* --- actors ------------------------------------------------------------------------------ */
/* Names an actor (shown on its track). Name it before its first message: a track keeps the name
 * it was drawn with. */
#define WEFT_ACTOR_NAME(actor, name) WEFT__P(2, actor_name, WEFT__U(actor), (const char *)(name))
/* `from` put message `msg` into `to`'s mailbox, which now holds `depth` messages. */
#define WEFT_ACTOR_SEND(from, to, msg, depth)                                              \
	WEFT__P(4, actor_send, WEFT__U(from), WEFT__U(to), WEFT__U(msg), WEFT__S(depth))
/* `actor` took `msg` out of its mailbox (now `depth` left) and starts handling it. */
#define WEFT_ACTOR_RECV(actor, msg, depth)                                                 \
	WEFT__P(3, actor_recv, WEFT__U(actor), WEFT__U(msg), WEFT__S(depth))
/* `actor` finished handling its current message. */
#define WEFT_ACTOR_DONE(actor) WEFT__P(1, actor_done, WEFT__U(actor))
/* `actor`'s mailbox holds `depth` messages (for runtimes that learn depth apart from sends). */
#define WEFT_ACTOR_DEPTH(actor, depth) WEFT__P(2, actor_depth, WEFT__U(actor), WEFT__S(depth))

/* --- tasks (async/await, coroutines) ------------------------------------------------------- */
#define WEFT_TASK_SPAWN(task, parent, name)                                                \
	WEFT__P(3, task_spawn, WEFT__U(task), WEFT__U(parent), (const char *)(name))
#define WEFT_TASK_POLL_BEGIN(task) WEFT__P(1, task_poll_begin, WEFT__U(task))
/* `done` non-zero: the task completed in this poll. */
#define WEFT_TASK_POLL_END(task, done) WEFT__P(2, task_poll_end, WEFT__U(task), WEFT__S(done))
/* `waker` (a task id, or 0) made `task` ready to be polled again. */
#define WEFT_TASK_WAKE(task, waker) WEFT__P(2, task_wake, WEFT__U(task), WEFT__U(waker))

/* --- channels and loops -------------------------------------------------------------------- */
/* A value went into / came out of channel `chan`, which now holds `depth` values. */
#define WEFT_CHAN_SEND(chan, depth) WEFT__P(2, chan_send, WEFT__U(chan), WEFT__S(depth))
#define WEFT_CHAN_RECV(chan, depth) WEFT__P(2, chan_recv, WEFT__U(chan), WEFT__S(depth))
/* One iteration of event loop `loop` (begin after the poll returned, end before the next). */
#define WEFT_LOOP_BEGIN(loop) WEFT__P(1, loop_begin, WEFT__U(loop))
#define WEFT_LOOP_END(loop) WEFT__P(1, loop_end, WEFT__U(loop))

#endif /* WEFT_WEFT_H */
