// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Scheduler capture: switches, wakeups, task lifecycle and off-CPU stacks of traced processes. */
#include "common.bpf.h"
#include "budget.bpf.h"
#include "switch_clock.bpf.h"
#include "sched_batch.bpf.h"
#include "lock_wakes.bpf.h"
#include "python.bpf.h"

#define TASK_DEAD 0x80 /* an exiting task's last switch: its user memory is gone */

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Tunables, set between open and load. 64-bit so clang cannot shrink them into a 1-byte .bss
 * that the kernel's BTF check rejects. */
const volatile __u64 stack_interval_ns = 5000000; /* off-CPU stack budget: one per 5 ms/thread */
const volatile __u64 stack_burst = 8;             /* ... with bursts of this many */
const volatile __u64 want_stacks = 1;

/* Per-thread token bucket for off-CPU stacks (they are 4.5 KiB each). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_budget);
} budgets SEC(".maps");

/* Processes whose current image already sent a stack. The first stack of an image wakes the
 * collector at once: it must read the process's memory map while the process still exists
 * (a short-lived one may be gone before the next periodic drain). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} stacked SEC(".maps");

static __always_inline __u64 stack_submit_flags(struct task_struct *t)
{
	__u32 tgid = t->tgid;
	__u8 one = 1;

	if (bpf_map_lookup_elem(&stacked, &tgid))
		return BPF_RB_NO_WAKEUP;
	bpf_map_update_elem(&stacked, &tgid, &one, BPF_ANY);
	return BPF_RB_FORCE_WAKEUP;
}

/*
 * Threads refused a stack, and when their budget earns the next one: until then they are
 * refused again without the task-storage lookup, a helper call on most voluntary switches.
 * Exact: credit only grows with time, so nothing the bucket would allow is refused.
 */
#define REFUSALS 16

struct stack_refusal {
	__u32 tid;
	__u32 pad;
	__u64 until;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REFUSALS);
	__type(key, __u32);
	__type(value, struct stack_refusal);
} refusals SEC(".maps");

static __always_inline bool stack_allowed(struct task_struct *t, __u64 now)
{
	__u32 tid = t->pid, slot = tid % REFUSALS;
	struct stack_refusal *r = bpf_map_lookup_elem(&refusals, &slot);
	struct stack_budget *b;

	if (!want_stacks)
		return false;
	if (r && r->tid == tid && now < r->until) {
		count_loss(WEFT_LOSS_STACK_THROTTLED);
		return false;
	}
	b = bpf_task_storage_get(&budgets, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!b) {
		count_loss(WEFT_LOSS_TASK_STORAGE);
		return false;
	}
	if (!budget_take(b, now, stack_interval_ns, stack_burst)) {
		if (r) {
			r->tid = tid;
			r->until = now + (stack_interval_ns - b->credit_ns);
		}
		count_loss(WEFT_LOSS_STACK_THROTTLED);
		return false;
	}
	if (!cpu_stack_take(now)) {
		count_loss(WEFT_LOSS_STACK_THROTTLED);
		return false;
	}
	return true;
}

static __always_inline void emit_stack(void *ctx, struct task_struct *prev, __u64 ts)
{
	struct weft_stack_event *e;
	long n;

	emit_py_frames(prev, ts);
	e = reserve(sizeof(*e), WEFT_EV_STACK, prev, ts);
	if (!e)
		return;
	n = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
	e->kstack_len = n > 0 ? n / sizeof(__u64) : 0;
	/* prev is current here: its saved user registers are the ones it entered the kernel
	 * with, its user stack is intact. */
	fill_user_stack(e, prev);
	bpf_ringbuf_submit(e, stack_submit_flags(prev));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	bool prev_traced = is_traced(prev), next_traced = is_traced(next);
	struct weft_switch_event *e;
	struct weft_sched_batch *b;
	bool batched;
	__u64 ts;

	if (!prev_traced && !next_traced)
		return 0;
	ts = switch_time(prev);
	b = sched_batch();
	e = sched_batch_reserve(b, sizeof(*e), WEFT_EV_SWITCH, prev, ts);
	batched = e;
	if (!e)
		e = reserve(sizeof(*e), WEFT_EV_SWITCH, prev, ts);
	if (!e)
		return 0;
	e->prev_state = prev_state;
	e->prev_exit_state = prev->exit_state;
	e->next_pid = next->tgid;
	e->next_tid = next->pid;
	e->prev_prio = prev->prio;
	e->next_prio = next->prio;
	e->preempt = preempt;
	e->prev_traced = prev_traced;
	e->next_traced = next_traced;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	read_comm(e->prev_comm, prev);
	read_comm(e->next_comm, next);
	if (batched)
		sched_batch_commit(b, sizeof(*e));
	else
		submit(e);

	/* Voluntary switch-out: the thread is going to wait; remember where. The stack goes
	 * straight to the ring, after the batch that holds its switch. */
	if (prev_traced && !preempt && prev_state != 0 && !(prev_state & TASK_DEAD) &&
	    !prev->exit_state && stack_allowed(prev, ts)) {
		if (b)
			sched_batch_flush(b);
		emit_stack(ctx, prev, ts);
	}
	return 0;
}

/* p is traced. */
static __always_inline void emit_waking(struct task_struct *p, __u8 new_task)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task_btf();
	/* A task that wakes itself does it with interrupts on: not into the batch. */
	struct weft_sched_batch *b = p != cur ? sched_batch() : NULL;
	struct weft_waking_event *e;
	__u64 ts = waking_time();
	bool batched;

	e = sched_batch_reserve(b, sizeof(*e), WEFT_EV_WAKING, cur, ts);
	batched = e;
	if (!e)
		e = reserve(sizeof(*e), WEFT_EV_WAKING, cur, ts);
	if (!e)
		return;
	e->pid = p->tgid;
	e->tid = p->pid;
	e->prio = p->prio;
	e->target_cpu = p->thread_info.cpu;
	e->new_task = new_task;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	read_comm(e->comm, p);
	if (batched)
		sched_batch_commit(b, sizeof(*e));
	else
		submit(e);
}

SEC("tp_btf/sched_waking")
int BPF_PROG(on_waking, struct task_struct *p)
{
	if (!is_traced(p))
		return 0;
	emit_waking(p, 0);
	lock_waking(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	if (!is_traced(p))
		return 0;
	emit_waking(p, 1);
	return 0;
}

/* Run by the collector on each CPU before it reads the rings (BPF_F_TEST_RUN_ON_CPU). */
SEC("raw_tp")
int flush_batch(void *ctx)
{
	struct weft_sched_batch *b = sched_batch();

	if (b)
		sched_batch_flush(b);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	struct weft_fork_event *e;
	__u32 child_tgid;

	if (!is_traced(parent))
		return 0;
	child_tgid = child->tgid;
	/* Follow new processes in the kernel, before the child can run. */
	if (child_tgid != parent->tgid) {
		trace_tgid(child_tgid);
		py_process_forked(parent->tgid, child_tgid);
	}
	e = reserve(sizeof(*e), WEFT_EV_FORK, parent, bpf_ktime_get_boot_ns());
	if (!e)
		return 0;
	e->child_pid = child_tgid;
	e->child_tid = child->pid;
	read_comm(e->child_comm, child);
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct weft_exec_event *e;
	const char *filename;

	__u32 tgid = p->tgid;

	if (!is_traced(p))
		return 0;
	bpf_map_delete_elem(&stacked, &tgid);
	py_process_gone(tgid);
	e = reserve(sizeof(*e), WEFT_EV_EXEC, p, bpf_ktime_get_boot_ns());
	if (!e)
		return 0;
	e->old_tid = old_pid;
	e->pad = 0;
	read_comm(e->comm, p);
	filename = bprm->filename;
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), filename);
	/* Wake the collector: per-binary probes (Go, actors) attach when it reads the exec. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	struct weft_exit_event *e;
	bool group_dead;

	if (!is_traced(p))
		return 0;
	/* do_exit() decremented signal->live before this tracepoint: 0 means last thread. */
	group_dead = p->signal->live.counter == 0;
	if (group_dead)
		py_process_gone(p->tgid);
	e = reserve(sizeof(*e), WEFT_EV_EXIT, p, bpf_ktime_get_boot_ns());
	if (!e)
		return 0;
	e->exit_code = p->exit_code;
	e->group_dead = group_dead;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	read_comm(e->comm, p);
	submit(e);
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct *task, const char *comm)
{
	struct weft_comm_event *e;

	if (!is_traced(task))
		return 0;
	e = reserve(sizeof(*e), WEFT_EV_COMM, task, bpf_ktime_get_boot_ns());
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	submit(e);
	return 0;
}
