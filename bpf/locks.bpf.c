// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Lock contention: contended futex waits of traced processes, their holder and their releaser. */
#include "common.bpf.h"
#include "budget.bpf.h"
#include "idset.bpf.h"
#include "lock_wakes.bpf.h"
#include "python.bpf.h"
#include "locks.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define NR_FUTEX 202          /* x86-64 */
#define FUTEX_CMD_MASK 127    /* drops FUTEX_PRIVATE_FLAG (128), FUTEX_CLOCK_REALTIME (256) */

/* Tunables, set between open and load (64-bit: see sched.bpf.c). */
const volatile __u64 lock_stack_interval_ns = 50000000; /* wait stacks: one per 50 ms/thread */
const volatile __u64 lock_stack_burst = 4;
const volatile __u64 want_lock_stacks = 1;

/* Locks that already had a stack taken: the first contended wait on each always gets one
 * (it names heap locks and tells the lock's kind), later ones within the budget. */
struct lock_key {
	__u64 uaddr;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct lock_key);
	__type(value, __u8);
} seen_locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct stack_budget);
} lock_budgets SEC(".maps");

static __always_inline bool is_wait_cmd(__u32 cmd)
{
	return cmd == WEFT_FUTEX_WAIT || cmd == WEFT_FUTEX_WAIT_BITSET ||
	       cmd == WEFT_FUTEX_LOCK_PI || cmd == WEFT_FUTEX_LOCK_PI2 ||
	       cmd == WEFT_FUTEX_WAIT_REQUEUE_PI;
}

static __always_inline bool is_wake_cmd(__u32 cmd)
{
	return cmd == WEFT_FUTEX_WAKE || cmd == WEFT_FUTEX_WAKE_BITSET ||
	       cmd == WEFT_FUTEX_WAKE_OP || cmd == WEFT_FUTEX_REQUEUE ||
	       cmd == WEFT_FUTEX_CMP_REQUEUE || cmd == WEFT_FUTEX_UNLOCK_PI ||
	       cmd == WEFT_FUTEX_CMP_REQUEUE_PI;
}

static __always_inline bool lock_stack_allowed(struct task_struct *t, __u32 tgid, __u64 uaddr,
					       __u64 now)
{
	struct lock_key k = { .uaddr = uaddr, .tgid = tgid };
	struct stack_budget *b;
	__u8 one = 1;

	if (!want_lock_stacks)
		return false;
	b = bpf_task_storage_get(&lock_budgets, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!bpf_map_lookup_elem(&seen_locks, &k)) {
		bpf_map_update_elem(&seen_locks, &k, &one, BPF_ANY);
		return true;
	}
	if (!b) {
		count_loss(WEFT_LOSS_TASK_STORAGE);
		return false;
	}
	if (!budget_take(b, now, lock_stack_interval_ns, lock_stack_burst))
		return false;
	return cpu_stack_take(now);
}

static __always_inline void emit_begin(struct task_struct *t, __u32 tgid, __u64 uaddr, __u32 cmd,
				       __u32 val, __u64 ts)
{
	struct weft_lock_begin_event *e;
	struct weft_stack_event *st;

	e = reserve(sizeof(*e), WEFT_EV_LOCK_BEGIN, t, ts);
	if (!e)
		return;
	e->uaddr = uaddr;
	e->cmd = cmd;
	e->val = val;
	e->words_ok = 0;
	e->pad = 0;
	__builtin_memset(e->words, 0, sizeof(e->words));
	/* Three chunks, each may fail alone at the edge of a mapping. */
	if (!bpf_probe_read_user(&e->words[0], 16, (void *)(uaddr - 16)))
		e->words_ok |= WEFT_LOCK_WORDS_LO;
	if (!bpf_probe_read_user(&e->words[4], 16, (void *)uaddr))
		e->words_ok |= WEFT_LOCK_WORDS_MID;
	if (!bpf_probe_read_user(&e->words[8], 16, (void *)(uaddr + 16)))
		e->words_ok |= WEFT_LOCK_WORDS_HI;
	submit(e);

	if (!lock_stack_allowed(t, tgid, uaddr, ts))
		return;
	emit_py_frames(t, ts);
	st = reserve(sizeof(*st), WEFT_EV_LOCK_STACK, t, ts);
	if (!st)
		return;
	st->kstack_len = 0;
	fill_user_stack(st, t);
	submit(st);
}

/* A futex call of the current task begins: op and its arguments as the syscall got them. */
static __always_inline void futex_enter(__u64 uaddr, __u32 op, __u32 val)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ts;
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid, cmd = op & FUTEX_CMD_MASK;

	if (!tgid_traced(tgid))
		return;
	ts = bpf_ktime_get_boot_ns();
	if (is_wait_cmd(cmd)) {
		struct pending_wait w = {
			.start_ts = ts, .uaddr = uaddr, .tgid = tgid, .cmd = cmd,
		};

		if (bpf_map_update_elem(&waits, &tid, &w, BPF_ANY)) {
			count_loss(WEFT_LOSS_LOCK_TABLE);
			return;
		}
		idset_add(&waiting, tid);
		emit_begin(bpf_get_current_task_btf(), tgid, uaddr, cmd, val, ts);
	} else if (is_wake_cmd(cmd)) {
		struct pending_wake k = { .ts = ts, .uaddr = uaddr, .cmd = cmd };

		if (bpf_map_update_elem(&wakes, &tid, &k, BPF_ANY))
			count_loss(WEFT_LOSS_LOCK_TABLE);
	}
}

/* ... and returns ret. */
static __always_inline void futex_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct weft_lock_end_event *e;
	struct pending_wait *w;

	w = bpf_map_lookup_elem(&waits, &tid);
	if (!w) {
		bpf_map_delete_elem(&wakes, &tid);
		return;
	}
	/* The word changed before the thread could sleep: no wait happened. The BEGIN was
	 * sent; user space drops it when the END says so. */
	e = reserve(sizeof(*e), WEFT_EV_LOCK_END, bpf_get_current_task_btf(),
		    bpf_ktime_get_boot_ns());
	if (e) {
		e->uaddr = w->uaddr;
		e->start_ts = w->start_ts;
		e->wake_ts = w->wake_ts;
		e->wake_uaddr = w->wake_uaddr;
		e->cmd = w->cmd;
		e->ret = ret;
		e->releaser_pid = w->releaser_pid;
		e->releaser_tid = w->releaser_tid;
		e->wake_cmd = w->wake_cmd;
		e->pad = 0;
		submit(e);
	}
	bpf_map_delete_elem(&waits, &tid);
	idset_del(&waiting, tid);
}

/*
 * Two ways in; the loader keeps one. The futex syscall's own tracepoints cost the other
 * syscalls almost nothing (the kernel tests a bitmap), so they are the choice wherever tracefs
 * can be found; without it, the generic sys_enter/sys_exit, which run for every syscall.
 */
SEC("tracepoint/syscalls/sys_enter_futex")
int on_futex_enter(struct trace_event_raw_sys_enter *ctx)
{
	futex_enter(ctx->args[0], ctx->args[1], ctx->args[2]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int on_futex_exit(struct trace_event_raw_sys_exit *ctx)
{
	futex_exit(ctx->ret);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	/* Every syscall of the system comes here: the id first, it is the cheapest test. */
	if (id == NR_FUTEX)
		futex_enter(regs->di, regs->si, regs->dx);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	if (regs->orig_ax == NR_FUTEX)
		futex_exit(ret);
	return 0;
}
