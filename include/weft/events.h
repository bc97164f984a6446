/* SPDX-License-Identifier: MIT */
/* The one record format every weft probe emits: BPF ring buffer and preload ring alike. */
#ifndef WEFT_EVENTS_H
#define WEFT_EVENTS_H

/*
 * Shared by BPF programs (which see __u32 etc. from vmlinux.h) and user space (linux/types.h).
 * Rules: fixed-width fields only, explicit padding, no pointers or longs, every record starts
 * with struct weft_event_header and its size field covers the whole record, a multiple of 8.
 * A BPF ring record holds one or several records back to back (switches and wakeups are
 * written a batch at a time: bpf/sched_batch.bpf.h). tests/unit/test_events.c pins sizes and
 * offsets.
 *
 *   0      2      4          8                 16        20        24
 *   +------+------+----------+-----------------+---------+---------+------------ - -
 *   | type | size |   cpu    |  ts (BOOTTIME)  |   pid   |   tid   |  body ...
 *   +------+------+----------+-----------------+---------+---------+------------ - -
 *
 * Timestamps are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns()), the clock Perfetto reads
 * scheduling data on, so no clock snapshot is needed. A switch's is the run queue's clock as
 * __schedule() began, mapped to CLOCK_BOOTTIME in BPF (bpf/switch_clock.bpf.h).
 */
#ifndef __BPF__
#include <linux/types.h>
#endif

#define WEFT_EVENT_ABI 1
#define WEFT_COMM_LEN 16
#define WEFT_KSTACK_MAX 32        /* kernel frames kept per off-CPU stack */
#define WEFT_USTACK_BYTES 4096    /* user stack bytes copied from sp for DWARF unwinding */
#define WEFT_UREGS 8              /* see enum weft_ureg */
#define WEFT_TGID_LIMIT (1 << 22) /* the kernel's PID_MAX_LIMIT on 64-bit: every pid is below */

/*
 * Record types, by area. Each area keeps its records in its own header (included at the end)
 * and lists them in a WEFT_<AREA>_KINDS(X) macro, from which the one decoder builds its table:
 *    1..15  scheduler (this file)      16..23 locks: futex waits and wakes (BPF)
 *                                      24..31 locks: the preload shim's acquisitions
 *   32..47  event loops                48..63 Go / CSP
 *   64..79  actors and annotations     80..95 reserved
 */
#define WEFT_EV_LOCKS_BASE 16
#define WEFT_EV_PRELOAD_BASE 24
#define WEFT_EV_LOOPS_BASE 32
#define WEFT_EV_GO_BASE 48
#define WEFT_EV_ACTORS_BASE 64
#define WEFT_EV_TYPE_MAX 96

enum weft_event_type {
	WEFT_EV_SWITCH = 1,   /* sched_switch: header pid/tid = prev task */
	WEFT_EV_WAKING = 2,   /* sched_waking / wakeup_new: header pid/tid = the waker (current) */
	WEFT_EV_FORK = 3,     /* new task (thread or process): header = parent */
	WEFT_EV_EXEC = 4,     /* exec: header = the task after exec */
	WEFT_EV_EXIT = 5,     /* a task exited: header = the exiting task */
	WEFT_EV_STACK = 6,    /* off-CPU stack of the task that just switched out (header = it) */
	WEFT_EV_COMM = 7,     /* task renamed (prctl PR_SET_NAME, pthread_setname_np) */
	WEFT_EV_PY_FRAMES = 8,/* a CPython thread's Python functions, before its stack record */
};

/* Why events were lost; counted per CPU in the BPF programs, reported by the collector.
 * Areas take reasons from 8 up (see their headers). */
enum weft_loss_reason {
	WEFT_LOSS_RINGBUF_FULL = 0,   /* bpf_ringbuf_reserve failed: --ringbuf-size too small */
	WEFT_LOSS_STACK_READ = 1,     /* user stack could not be copied (unmapped / paged out) */
	WEFT_LOSS_STACK_THROTTLED = 2,/* off-CPU stack not taken: per-thread rate limit */
	WEFT_LOSS_TASK_STORAGE = 3,   /* no per-task state could be created */
	WEFT_LOSS_REASON_MAX = 32,
};

/*
 * A CPU's batch of switch and wakeup records on their way to its ring (bpf/sched_batch.bpf.h),
 * in a map the collector maps too: it reads len to flush only the CPUs that hold records, and
 * takes the records itself from a CPU that went offline, where no flush can run. A page each.
 */
#define WEFT_SCHED_BATCH_BYTES (4096 - 16)

struct weft_sched_batch {
	__u32 len;       /* bytes of records in buf */
	__u32 count;     /* records in buf */
	__u32 flushing;  /* a flush is under way: a writer goes straight to the ring */
	__u32 pad;
	__u8 buf[WEFT_SCHED_BATCH_BYTES];
};

struct weft_event_header {
	__u16 type;   /* enum weft_event_type */
	__u16 size;   /* bytes of the whole record, header included */
	__u32 cpu;
	__u64 ts;     /* CLOCK_BOOTTIME ns */
	__u32 pid;    /* thread group id (process) */
	__u32 tid;    /* thread id */
};

/* header: the task switched out (prev). */
struct weft_switch_event {
	struct weft_event_header hdr;
	__u32 prev_state;   /* raw __state passed to the tracepoint */
	__u32 prev_exit_state;
	__u32 next_pid;
	__u32 next_tid;
	__s32 prev_prio;
	__s32 next_prio;
	__u8 preempt;       /* 1: involuntary (preempted); 0: called schedule() itself */
	__u8 prev_traced;   /* prev belongs to a traced process */
	__u8 next_traced;
	__u8 pad[5];
	char prev_comm[WEFT_COMM_LEN];
	char next_comm[WEFT_COMM_LEN];
};

/* header: the waker (the task running on hdr.cpu, may be an idle or irq context: tid 0). */
struct weft_waking_event {
	struct weft_event_header hdr;
	__u32 pid;          /* wakee process */
	__u32 tid;          /* wakee thread */
	__s32 prio;
	__u32 target_cpu;
	__u8 new_task;      /* 1: sched_wakeup_new (first wakeup of a new task) */
	__u8 pad[7];
	char comm[WEFT_COMM_LEN];
};

/* header: the parent task (pid = parent process). */
struct weft_fork_event {
	struct weft_event_header hdr;
	__u32 child_pid;    /* child's process id: equal to hdr.pid when a thread was created */
	__u32 child_tid;
	char child_comm[WEFT_COMM_LEN];
};

/* header: the task after exec. */
struct weft_exec_event {
	struct weft_event_header hdr;
	__u32 old_tid;      /* a non-leader thread that exec'd takes the leader's tid */
	__u32 pad;
	char comm[WEFT_COMM_LEN];
	char filename[128];
};

/* header: the exiting task. */
struct weft_exit_event {
	struct weft_event_header hdr;
	__s32 exit_code;
	__u8 group_dead;    /* the last thread of the process exited */
	__u8 pad[3];
	char comm[WEFT_COMM_LEN];
};

/* header: the renamed task. */
struct weft_comm_event {
	struct weft_event_header hdr;
	char comm[WEFT_COMM_LEN];
};

/* x86-64 user registers kept with a stack snapshot: what DWARF CFI needs to start unwinding. */
enum weft_ureg {
	WEFT_UREG_IP = 0,
	WEFT_UREG_SP,
	WEFT_UREG_BP,
	WEFT_UREG_BX,
	WEFT_UREG_R12,
	WEFT_UREG_R13,
	WEFT_UREG_R14,
	WEFT_UREG_R15,
};

/*
 * header: the task that just switched out voluntarily (same ts as its WEFT_EV_SWITCH).
 * Kernel frames come already walked; the user part is a raw copy of the stack from sp upwards
 * plus the registers, unwound in user space with .eh_frame (Debian's libc has no frame pointers).
 */
struct weft_stack_event {
	struct weft_event_header hdr;
	__u32 kstack_len;   /* valid entries in kstack */
	__u32 ustack_len;   /* valid bytes in ustack (0: no user stack, e.g. a kernel thread) */
	__u64 uregs[WEFT_UREGS];
	__u64 kstack[WEFT_KSTACK_MAX];
	__u8 ustack[WEFT_USTACK_BYTES];
};

#define WEFT_PY_FRAMES 8     /* innermost Python frames kept with a stack */
#define WEFT_PY_NAME 56

/* The Python functions a CPython thread was in (read from the interpreter's frames). */
struct weft_py_frames {
	__u32 n;            /* valid entries, innermost first; 0: not CPython, or not known */
	__u32 entries;      /* bit i: frame i is the first of its _PyEval_EvalFrameDefault call */
	__s32 line[WEFT_PY_FRAMES];   /* the function's first line */
	char func[WEFT_PY_FRAMES][WEFT_PY_NAME]; /* qualified name, truncated */
	__u64 code[WEFT_PY_FRAMES];   /* its code object (where its line table is) */
	__u32 instr[WEFT_PY_FRAMES];  /* byte offset of the instruction it last ran, -1: none */
};

/*
 * header: a CPython thread, and the time of the stack record (WEFT_EV_STACK, WEFT_EV_LOCK_STACK)
 * that follows it from the same CPU: the Python functions it was in, which the analysis puts
 * in place of the interpreter's frames in that stack.
 */
struct weft_py_frames_event {
	struct weft_event_header hdr;
	struct weft_py_frames py;
};

/* X(type, name, struct) for every scheduler record: the decoder's table. */
#define WEFT_SCHED_KINDS(X)                                        \
	X(WEFT_EV_SWITCH, "switch", struct weft_switch_event)      \
	X(WEFT_EV_WAKING, "waking", struct weft_waking_event)      \
	X(WEFT_EV_FORK, "fork", struct weft_fork_event)            \
	X(WEFT_EV_EXEC, "exec", struct weft_exec_event)            \
	X(WEFT_EV_EXIT, "exit", struct weft_exit_event)            \
	X(WEFT_EV_STACK, "stack", struct weft_stack_event)         \
	X(WEFT_EV_COMM, "comm", struct weft_comm_event)            \
	X(WEFT_EV_PY_FRAMES, "py_frames", struct weft_py_frames_event)

#include "weft/events_locks.h"
#include "weft/events_preload.h"
#include "weft/events_loops.h"
#include "weft/events_go.h"
#include "weft/events_actors.h"

#define WEFT_ALL_KINDS(X)        \
	WEFT_SCHED_KINDS(X)      \
	WEFT_LOCKS_KINDS(X)      \
	WEFT_PRELOAD_KINDS(X)    \
	WEFT_LOOPS_KINDS(X)      \
	WEFT_GO_KINDS(X)         \
	WEFT_ACTORS_KINDS(X)

#endif /* WEFT_EVENTS_H */
