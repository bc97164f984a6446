// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Event loops: iterations between poll calls, stalls, culprit samples, blocking calls. */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* x86-64 syscall numbers of the calls a loop waits in. */
#define NR_POLL 7
#define NR_SELECT 23
#define NR_EPOLL_WAIT 232
#define NR_PSELECT6 270
#define NR_PPOLL 271
#define NR_EPOLL_PWAIT 281
#define NR_IO_URING_ENTER 426
#define NR_EPOLL_PWAIT2 441
#define IORING_ENTER_GETEVENTS 1

/* Tunables, set between open and load (64-bit: see sched.bpf.c). */
const volatile __u64 stall_ns = 50000000;      /* iterations at least this long are stalls */
const volatile __u64 block_ns = 1000000;       /* off-CPU this long inside an iteration */
const volatile __u64 sample_after_ns = 1000000;/* sample only iterations already this long */
const volatile __u64 period_ns = 100000000;    /* one stats record per loop thread per period */
const volatile __u64 min_polls = 2;            /* poll calls before a thread counts as a loop */

/* What a histogram is reset from (an inlined memset of 2 KiB is refused by clang). */
const volatile __u32 hist_zeros[WEFT_LOOP_HIST_BUCKETS];

/*
 * Per-thread loop state, created at a traced thread's first poll call. Task storage: found
 * from any program by the task pointer and freed by the kernel when the thread exits.
 */
struct loop_state {
	__u64 iter_start;   /* return of the last poll call; 0 while inside one */
	__u64 poll_enter;
	__u64 period_start;
	__u64 iterations, busy_ns, poll_ns, max_ns;
	__u64 polls;
	__u64 off_ts;       /* voluntary switch-out inside the current iteration */
	__u64 block_off_ts, block_off_ns; /* a long one, reported at the syscall's return */
	__u32 in_poll;
	__u32 kind;
	__u32 hist[WEFT_LOOP_HIST_BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct loop_state);
} loop_states SEC(".maps");

static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

/* See WEFT_LOOP_HIST_BUCKETS in weft/events_loops.h. */
static __always_inline __u32 hist_bucket(__u64 v)
{
	__u32 e, b;

	if (v < (1 << WEFT_LOOP_HIST_SUB_BITS))
		return v;
	e = log2_u64(v);
	b = (e << WEFT_LOOP_HIST_SUB_BITS) +
	    ((v >> (e - WEFT_LOOP_HIST_SUB_BITS)) & ((1 << WEFT_LOOP_HIST_SUB_BITS) - 1));
	return b & (WEFT_LOOP_HIST_BUCKETS - 1);
}

static __always_inline int poll_kind(long id, struct pt_regs *regs)
{
	switch (id) {
	case NR_EPOLL_WAIT:
	case NR_EPOLL_PWAIT:
	case NR_EPOLL_PWAIT2:
		return WEFT_POLL_EPOLL_WAIT;
	case NR_POLL:
	case NR_PPOLL:
		return WEFT_POLL_POLL;
	case NR_SELECT:
	case NR_PSELECT6:
		return WEFT_POLL_SELECT;
	case NR_IO_URING_ENTER:
		/* Only a call that waits for completions: io_uring_enter(fd, to_submit,
		 * min_complete, flags, ...) with GETEVENTS and min_complete > 0. */
		if (!regs)
			return WEFT_POLL_IO_URING;
		if ((BPF_CORE_READ(regs, r10) & IORING_ENTER_GETEVENTS) && BPF_CORE_READ(regs, dx))
			return WEFT_POLL_IO_URING;
		return 0;
	}
	return 0;
}

static __always_inline void emit_stats(struct task_struct *t, struct loop_state *st, __u64 now)
{
	struct weft_loop_stats_event *e;

	e = reserve(sizeof(*e), WEFT_EV_LOOP_STATS, t, now);
	if (e) {
		e->since = st->period_start;
		e->iterations = st->iterations;
		e->busy_ns = st->busy_ns;
		e->poll_ns = st->poll_ns;
		e->max_ns = st->max_ns;
		e->kind = st->kind;
		e->pad = 0;
		/* Too big for an inlined memcpy: the helper copies it. */
		bpf_probe_read_kernel(e->hist, sizeof(e->hist), st->hist);
		submit(e);
	}
	st->period_start = now;
	st->iterations = st->busy_ns = st->poll_ns = st->max_ns = 0;
	bpf_probe_read_kernel(st->hist, sizeof(st->hist), (const void *)hist_zeros);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *t;
	struct loop_state *st;
	__u64 now, it;
	int kind;

	/* Every syscall of the system passes here: the id first, it is the cheapest test. */
	kind = poll_kind(id, NULL);
	if (!kind)
		return 0;
	if (id == NR_IO_URING_ENTER && !poll_kind(id, regs))
		return 0;
	t = bpf_get_current_task_btf();
	st = bpf_task_storage_get(&loop_states, t, NULL, 0);
	if (!st) {
		if (!is_traced(t))
			return 0;
		st = bpf_task_storage_get(&loop_states, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!st) {
			count_loss(WEFT_LOSS_TASK_STORAGE);
			return 0;
		}
		st->period_start = bpf_ktime_get_boot_ns();
	}
	now = bpf_ktime_get_boot_ns();
	if (st->iter_start) {
		it = now - st->iter_start;
		st->iterations++;
		st->busy_ns += it;
		if (it > st->max_ns)
			st->max_ns = it;
		st->hist[hist_bucket(it)]++;
		if (it >= stall_ns && st->polls >= min_polls) {
			struct weft_loop_stall_event *e;

			e = reserve(sizeof(*e), WEFT_EV_LOOP_STALL, t, now);
			if (e) {
				e->start = st->iter_start;
				e->kind = kind;
				e->pad = 0;
				submit(e);
			}
		}
	}
	st->in_poll = 1;
	st->kind = kind;
	st->poll_enter = now;
	st->iter_start = 0;
	st->off_ts = 0;
	st->block_off_ns = 0;
	if (now - st->period_start >= period_ns) {
		if (st->iterations && st->polls >= min_polls)
			emit_stats(t, st, now);
		else
			st->period_start = now;
	}
	return 0;
}

static __always_inline void emit_block(struct task_struct *t, struct loop_state *st, long id,
				       __u64 now)
{
	struct weft_loop_block_event *e;

	e = reserve(sizeof(*e), WEFT_EV_LOOP_BLOCK, t, now);
	if (!e)
		return;
	/* Kernel frames here would be the syscall return path: the user stack says who called. */
	e->stack.kstack_len = 0;
	fill_user_stack(&e->stack, t);
	e->iter_start = st->iter_start;
	e->off_ts = st->block_off_ts;
	e->off_ns = st->block_off_ns;
	e->syscall = id;
	e->pad = 0;
	submit(e);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t;
	struct loop_state *st;
	long id;
	__u64 now;

	id = BPF_CORE_READ(regs, orig_ax);
	t = bpf_get_current_task_btf();
	st = bpf_task_storage_get(&loop_states, t, NULL, 0);
	if (!st)
		return 0;
	if (st->in_poll && poll_kind(id, NULL)) {
		now = bpf_ktime_get_boot_ns();
		st->in_poll = 0;
		st->poll_ns += now - st->poll_enter;
		st->iter_start = now;
		st->polls++;
		return 0;
	}
	if (st->block_off_ns) {
		if (st->iter_start && st->polls >= min_polls)
			emit_block(t, st, id, bpf_ktime_get_boot_ns());
		st->block_off_ns = 0;
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_loop_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct loop_state *st;
	__u64 now;

	st = bpf_task_storage_get(&loop_states, prev, NULL, 0);
	if (st && !st->in_poll && st->iter_start && !preempt && prev_state != 0)
		st->off_ts = bpf_ktime_get_boot_ns();
	st = bpf_task_storage_get(&loop_states, next, NULL, 0);
	if (st && st->off_ts) {
		now = bpf_ktime_get_boot_ns();
		if (now - st->off_ts >= block_ns) {
			st->block_off_ts = st->off_ts;
			st->block_off_ns = now - st->off_ts;
		}
		st->off_ts = 0;
	}
	return 0;
}

/* cpu-clock sampling on every CPU: keeps only loop threads deep in an iteration. */
SEC("perf_event")
int on_loop_sample(struct bpf_perf_event_data *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct weft_loop_sample_event *e;
	struct loop_state *st;
	__u64 now;
	long n;

	st = bpf_task_storage_get(&loop_states, t, NULL, 0);
	if (!st || st->in_poll || !st->iter_start || st->polls < min_polls)
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (now - st->iter_start < sample_after_ns)
		return 0;
	e = reserve(sizeof(*e), WEFT_EV_LOOP_SAMPLE, t, now);
	if (!e)
		return 0;
	e->iter_start = st->iter_start;
	/* User mode interrupted (a user address: the top bit is clear)? Then the interrupted
	 * registers are the user ones. (Not cs: context reads must be 8 bytes wide.) */
	if ((__s64)ctx->regs.ip >= 0) {
		e->stack.kstack_len = 0;
		e->stack.uregs[WEFT_UREG_IP] = ctx->regs.ip;
		e->stack.uregs[WEFT_UREG_SP] = ctx->regs.sp;
		e->stack.uregs[WEFT_UREG_BP] = ctx->regs.bp;
		e->stack.uregs[WEFT_UREG_BX] = ctx->regs.bx;
		e->stack.uregs[WEFT_UREG_R12] = ctx->regs.r12;
		e->stack.uregs[WEFT_UREG_R13] = ctx->regs.r13;
		e->stack.uregs[WEFT_UREG_R14] = ctx->regs.r14;
		e->stack.uregs[WEFT_UREG_R15] = ctx->regs.r15;
		e->stack.ustack_len = copy_user_stack(e->stack.ustack,
						      e->stack.uregs[WEFT_UREG_SP]);
	} else {
		n = bpf_get_stack(ctx, e->stack.kstack, sizeof(e->stack.kstack), 0);
		e->stack.kstack_len = n > 0 ? n / sizeof(__u64) : 0;
		fill_user_stack(&e->stack, t);
	}
	submit(e);
	return 0;
}
