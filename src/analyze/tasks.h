/* SPDX-License-Identifier: MIT */
/* Processes and threads seen in a recording, with each thread's scheduling state machine. */
#ifndef WEFT_TASKS_H
#define WEFT_TASKS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/hist.h"
#include "analyze/u64map.h"
#include "weft/events.h"

enum task_state {
	TS_UNKNOWN = 0,  /* not seen switching yet (attached mid-flight) */
	TS_RUNNING,
	TS_RUNNABLE,     /* woken or preempted, waiting for a CPU */
	TS_SLEEPING,     /* interruptible wait (S) */
	TS_BLOCKED,      /* uninterruptible wait (D) */
	TS_DEAD,
};

struct offcpu_stack;

struct task_stats {
	uint64_t on_cpu_ns;
	uint64_t sleep_ns;       /* S */
	uint64_t blocked_ns;     /* D */
	uint64_t runnable_ns;    /* run-queue delay, wakeup or preemption to running */
	uint64_t voluntary;      /* switched out to wait (kernel's nvcsw) */
	uint64_t involuntary;    /* preempted or yielded while runnable (kernel's nivcsw) */
	uint64_t sampled_offcpu_ns;   /* waits whose stack was taken */
	uint64_t unsampled_offcpu_ns; /* waits whose stack was not taken (rate limit) */
	struct hist rq_delay;
};

struct task {
	int32_t tid;
	int32_t pid;
	char comm[WEFT_COMM_LEN];
	enum task_state state;
	uint64_t since;          /* when the current state began */
	uint64_t first_ts, last_ts;
	struct offcpu_stack *wait_stack; /* where the current wait began, if sampled */
	bool traced;
	bool described;          /* written to the trace */
	struct task_stats st;
};

struct process {
	int32_t pid;
	int32_t ppid;
	char name[WEFT_COMM_LEN];
	char cmdline[256];
	bool exited;
	int32_t exit_code;
	bool described;
	uint64_t exit_ts;
};

/* Tasks found last, by tid modulo this: see task_get(). */
#define TASK_RECENT 64

struct task_table {
	struct u64map tasks;
	struct u64map procs;
	struct task *recent[TASK_RECENT];
};

/* The hash table lookup behind task_get(); remembers what it finds in recent. */
struct task *task_find(struct task_table *tt, int32_t tid);

/*
 * Switches and wakeups name the same few threads over and over: the task last found in the
 * tid's recent slot is checked before hashing. Tasks live as long as the table, so a slot
 * never points at a freed task.
 */
static inline struct task *task_get(struct task_table *tt, int32_t tid)
{
	struct task *t = tt->recent[(uint32_t)tid % TASK_RECENT];

	return t && t->tid == tid ? t : task_find(tt, tid);
}
/* Finds or creates; NULL only when out of memory. */
struct task *task_upsert(struct task_table *tt, int32_t tid, int32_t pid, const char *comm);
struct process *proc_get(struct task_table *tt, int32_t pid);
struct process *proc_upsert(struct task_table *tt, int32_t pid);
void task_table_free(struct task_table *tt);

/* The state machine. Each returns the length of the interval it closed (0 if none). */
/* Switched out: preempted (or yielded while runnable) -> runnable, else -> sleeping / blocked /
 * dead according to the kernel's prev_state. */
uint64_t task_switch_out(struct task *t, uint64_t ts, bool preempt, uint32_t prev_state,
			 uint32_t exit_state);
/* Switched in: closes a runnable interval (returned, also added to rq_delay). */
uint64_t task_switch_in(struct task *t, uint64_t ts);
/* Woken: closes a sleeping / blocked interval (returned). */
uint64_t task_wake(struct task *t, uint64_t ts);
/* End of recording: close whatever is open at `ts`. */
void task_finish(struct task *t, uint64_t ts);

/* The kernel's trace encoding of prev_state (what `perf sched` and Perfetto read):
 * 0 R, 1 S, 2 D, 4 T, 8 t, 0x10 X, 0x20 Z, 0x40 P, 0x80 I, 0x100 R+ (preempted). */
int64_t task_report_state(bool preempt, uint32_t prev_state, uint32_t exit_state);

#endif
