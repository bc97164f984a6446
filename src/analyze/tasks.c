// SPDX-License-Identifier: MIT
/* Task tables and the per-thread running / runnable / sleeping state machine. */
#include <stdlib.h>
#include <string.h>

#include "analyze/tasks.h"

#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_REPORT 0x7f
#define TASK_IDLE 0x402
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_FROZEN 0x8000
#define REPORT_PREEMPTED 0x100
#define REPORT_IDLE 0x80

struct task *task_find(struct task_table *tt, int32_t tid)
{
	struct task *t = u64map_get(&tt->tasks, (uint32_t)tid);

	if (t)
		tt->recent[(uint32_t)tid % TASK_RECENT] = t;
	return t;
}

struct task *task_upsert(struct task_table *tt, int32_t tid, int32_t pid, const char *comm)
{
	struct task *t = task_get(tt, tid);

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || u64map_put(&tt->tasks, (uint32_t)tid, t)) {
			free(t);
			return NULL;
		}
		t->tid = tid;
	}
	t->pid = pid;
	if (comm && comm[0]) {
		/* comm may fill all 16 bytes with no NUL (a record is not trusted to end it) */
		size_t n = strnlen(comm, WEFT_COMM_LEN - 1);

		memcpy(t->comm, comm, n);
		t->comm[n] = '\0';
	}
	return t;
}

struct process *proc_get(struct task_table *tt, int32_t pid)
{
	return u64map_get(&tt->procs, (uint32_t)pid);
}

struct process *proc_upsert(struct task_table *tt, int32_t pid)
{
	struct process *p = proc_get(tt, pid);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p || u64map_put(&tt->procs, (uint32_t)pid, p)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	return p;
}

void task_table_free(struct task_table *tt)
{
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&tt->tasks, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&tt->procs, &i, &k, &v);)
		free(v);
	u64map_free(&tt->tasks);
	u64map_free(&tt->procs);
	memset(tt->recent, 0, sizeof(tt->recent));
}

int64_t task_report_state(bool preempt, uint32_t prev_state, uint32_t exit_state)
{
	uint32_t state;

	if (preempt)
		return REPORT_PREEMPTED;
	/* Same folding as the kernel's __task_state_index(): one bit, the highest set. Flags such
	 * as TASK_FREEZABLE ride along, so the tests are masks (6.1 frozen -> D, 6.6 idle). */
	state = (prev_state | exit_state) & TASK_REPORT;
	if ((prev_state & TASK_IDLE) == TASK_IDLE)
		state = REPORT_IDLE;
	if ((prev_state & TASK_RTLOCK_WAIT) || (prev_state & TASK_FROZEN))
		state = TASK_UNINTERRUPTIBLE;
	if (!state)
		return 0;
	return 1LL << (31 - __builtin_clz(state));
}

/* Adds the interval that ends at ts to the bucket of the state that is ending. */
static uint64_t close_interval(struct task *t, uint64_t ts)
{
	uint64_t d = 0;

	if (t->state != TS_UNKNOWN && t->state != TS_DEAD && ts > t->since)
		d = ts - t->since;
	switch (t->state) {
	case TS_RUNNING:
		t->st.on_cpu_ns += d;
		break;
	case TS_RUNNABLE:
		t->st.runnable_ns += d;
		break;
	case TS_SLEEPING:
		t->st.sleep_ns += d;
		break;
	case TS_BLOCKED:
		t->st.blocked_ns += d;
		break;
	default:
		break;
	}
	if (!t->first_ts)
		t->first_ts = ts;
	t->last_ts = ts;
	t->since = ts;
	return d;
}

uint64_t task_switch_out(struct task *t, uint64_t ts, bool preempt, uint32_t prev_state,
			 uint32_t exit_state)
{
	uint64_t d = close_interval(t, ts);

	/* The kernel counts nvcsw exactly when schedule() was entered with a non-running
	 * state and not by preemption; everything else is nivcsw. */
	if (!preempt && prev_state != 0) {
		t->st.voluntary++;
		if (exit_state || (prev_state & 0x80 /* TASK_DEAD */))
			t->state = TS_DEAD;
		else if (prev_state & TASK_UNINTERRUPTIBLE && (prev_state & TASK_IDLE) != TASK_IDLE)
			t->state = TS_BLOCKED;
		else
			t->state = TS_SLEEPING;
	} else {
		t->st.involuntary++;
		t->state = TS_RUNNABLE;
	}
	t->wait_stack = NULL;
	return d;
}

uint64_t task_switch_in(struct task *t, uint64_t ts)
{
	enum task_state was = t->state;
	uint64_t d = close_interval(t, ts);

	if (was == TS_RUNNABLE)
		hist_add(&t->st.rq_delay, d);
	t->state = TS_RUNNING;
	return was == TS_RUNNABLE ? d : 0;
}

uint64_t task_wake(struct task *t, uint64_t ts)
{
	uint64_t d;

	if (t->state != TS_SLEEPING && t->state != TS_BLOCKED && t->state != TS_UNKNOWN)
		return 0;
	d = close_interval(t, ts);
	t->state = TS_RUNNABLE;
	return d;
}

void task_finish(struct task *t, uint64_t ts)
{
	if (t->state == TS_DEAD || t->state == TS_UNKNOWN)
		return;
	close_interval(t, ts);
}
