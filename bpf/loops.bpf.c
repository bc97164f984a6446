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
 *
 * Only syscall *entry* is hooked: every syscall of the system pays for each syscall hook
 * (~0.2-0.4 us here, retpolines), so the return from a poll call is not watched. An iteration
 * starts when the thread comes back from its poll call: at the switch-in that ends its wait
 * there, or, if the call returned without sleeping, at the call's entry (the iteration then
 * includes the non-blocking call itself, microseconds). Whether a thread is inside a poll call
 * right now is read from its saved registers (orig_ax: the syscall in progress).
 */
struct loop_state {
	__u64 iter_start;   /* start of the current iteration; 0 before the first poll call */
	__u64 poll_enter;
	__u64 period_start;
	__u64 iterations, busy_ns, poll_ns, max_ns;
	__u64 polls;        /* poll calls made */
	__u64 off_ts;       /* voluntary switch-out inside the current iteration, outside poll */
	__u32 poll_blocked; /* switched out inside a poll call: the switch-in starts the iteration */
	__u32 kind;
	__u32 off_nr;       /* the syscall it blocked in (orig_ax), -1: none (a page fault) */
	__u32 pad;
	struct weft_stack_event snap; /* where it blocked: copied out if the block was long */
	struct weft_py_frames snap_py;
	__u32 hist[WEFT_LOOP_HIST_BUCKETS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct loop_state);
} loop_states SEC(".maps");

/*
 * Python functions, read from CPython's own frames (as py-spy does) for processes running a
 * CPython whose layout is known: user space puts the address of its _PyRuntime here.
 * CPython 3.11, x86-64 (checked against the interpreter by tests/integration/test_loops.py):
 *   _PyRuntime.interpreters.head @40 -> interp; interp->threads.head @16 -> tstate;
 *   tstate->next @8, ->native_thread_id @160, ->cframe @56; cframe->current_frame @8;
 *   frame->f_code @32, ->previous @48; code->co_qualname @128, ->co_firstlineno @72;
 *   str: compact ASCII (state @32 bit 6) text @48.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* address of _PyRuntime */
} py_runtimes SEC(".maps");

#define PY311_RT_INTERP_HEAD 40
#define PY311_INTERP_THREADS_HEAD 16
#define PY311_TS_NEXT 8
#define PY311_TS_NATIVE_TID 160
#define PY311_TS_CFRAME 56
#define PY311_CFRAME_CURRENT 8
#define PY311_FRAME_CODE 32
#define PY311_FRAME_PREVIOUS 48
#define PY311_CODE_QUALNAME 128
#define PY311_CODE_FIRSTLINENO 72
#define PY_STR_STATE 32
#define PY_STR_ASCII (1 << 6)
#define PY_STR_ASCII_DATA 48
#define PY_THREADS_MAX 16

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline void fill_py_frames(struct weft_py_frames *py, struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid), tid = BPF_CORE_READ(t, pid), n = 0, v;
	__u64 *rt = bpf_map_lookup_elem(&py_runtimes, &tgid);
	__u64 ts, frame, code, name;

	py->n = 0;
	py->pad = 0;
	if (!rt)
		return;
	ts = read_u64(read_u64(*rt + PY311_RT_INTERP_HEAD) + PY311_INTERP_THREADS_HEAD);
	for (int i = 0; i < PY_THREADS_MAX && ts; i++) {
		v = 0;
		bpf_probe_read_user(&v, sizeof(v), (void *)(ts + PY311_TS_NATIVE_TID));
		if (v == tid)
			break;
		ts = read_u64(ts + PY311_TS_NEXT);
	}
	if (!ts)
		return;
	frame = read_u64(read_u64(ts + PY311_TS_CFRAME) + PY311_CFRAME_CURRENT);
	for (int i = 0; i < WEFT_PY_FRAMES && frame; i++) {
		code = read_u64(frame + PY311_FRAME_CODE);
		name = code ? read_u64(code + PY311_CODE_QUALNAME) : 0;
		v = 0;
		if (name)
			bpf_probe_read_user(&v, sizeof(v), (void *)(name + PY_STR_STATE));
		if (!(v & PY_STR_ASCII))
			break;
		if (bpf_probe_read_user_str(py->func[i], WEFT_PY_NAME,
					    (void *)(name + PY_STR_ASCII_DATA)) <= 0)
			break;
		bpf_probe_read_user(&py->line[i], sizeof(py->line[i]),
				    (void *)(code + PY311_CODE_FIRSTLINENO));
		n++;
		frame = read_u64(frame + PY311_FRAME_PREVIOUS);
	}
	py->n = n;
}

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
		if ((regs->r10 & IORING_ENTER_GETEVENTS) && regs->dx)
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

/* tp_btf rather than raw_tp: regs can be read directly, without a helper call per syscall. */
SEC("tp_btf/sys_enter")
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
	st->polls++;
	st->kind = kind;
	st->poll_enter = now;
	st->iter_start = now; /* moved to the switch-in if the call sleeps */
	st->off_ts = 0;
	if (now - st->period_start >= period_ns) {
		if (st->iterations && st->polls > min_polls)
			emit_stats(t, st, now);
		else
			st->period_start = now;
	}
	return 0;
}

/* A loop thread exits: send what its last period counted. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_loop_exit, struct task_struct *p)
{
	struct loop_state *st = bpf_task_storage_get(&loop_states, p, NULL, 0);

	if (st && st->iterations && st->polls > min_polls)
		emit_stats(p, st, bpf_ktime_get_boot_ns());
	return 0;
}

/* The syscall t is in (its saved orig_ax), -1 if none. */
static __always_inline long current_syscall(struct task_struct *t)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	return regs ? BPF_CORE_READ(regs, orig_ax) : -1;
}

static __always_inline void emit_block(struct task_struct *t, struct loop_state *st, __u64 now)
{
	struct weft_loop_block_event *e;

	e = reserve(sizeof(*e), WEFT_EV_LOOP_BLOCK, t, now);
	if (!e)
		return;
	/* The stack was kept at the switch-out; keep the header reserve() wrote. */
	bpf_probe_read_kernel(&e->stack.kstack_len,
			      sizeof(e->stack) - sizeof(e->stack.hdr), &st->snap.kstack_len);
	e->iter_start = st->iter_start;
	e->off_ts = st->off_ts;
	e->off_ns = now - st->off_ts;
	e->syscall = st->off_nr;
	e->pad = 0;
	bpf_probe_read_kernel(&e->py, sizeof(e->py), &st->snap_py);
	submit(e);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_loop_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct loop_state *st;
	__u64 now;
	long nr;
	long n;

	st = bpf_task_storage_get(&loop_states, prev, NULL, 0);
	if (st && st->iter_start && !preempt && prev_state != 0) {
		nr = current_syscall(prev);
		if (poll_kind(nr, NULL)) {
			st->poll_blocked = 1;
		} else if (st->polls >= min_polls) {
			/* Waiting inside an iteration: keep where, in case it lasts (prev is current,
			 * its user stack is readable now and not at the switch-in). */
			st->off_ts = bpf_ktime_get_boot_ns();
			st->off_nr = nr;
			n = bpf_get_stack(ctx, st->snap.kstack, sizeof(st->snap.kstack), 0);
			st->snap.kstack_len = n > 0 ? n / sizeof(__u64) : 0;
			fill_user_stack(&st->snap, prev);
			fill_py_frames(&st->snap_py, prev);
		}
	}
	st = bpf_task_storage_get(&loop_states, next, NULL, 0);
	if (!st)
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (st->poll_blocked) {
		st->poll_blocked = 0;
		st->poll_ns += now - st->poll_enter;
		st->iter_start = now;
	} else if (st->off_ts) {
		if (now - st->off_ts >= block_ns)
			emit_block(next, st, now);
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
	bool user;
	__u64 now;
	long n;

	st = bpf_task_storage_get(&loop_states, t, NULL, 0);
	if (!st || !st->iter_start || st->polls < min_polls)
		return 0;
	/* User mode interrupted (a user address: the top bit is clear)? Then it runs its own
	 * code; in the kernel, it is away from its poll call unless that is the syscall it is
	 * in. (Not cs: context reads must be 8 bytes wide.) */
	user = (__s64)ctx->regs.ip >= 0;
	if (!user && poll_kind(current_syscall(t), NULL))
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (now - st->iter_start < sample_after_ns)
		return 0;
	e = reserve(sizeof(*e), WEFT_EV_LOOP_SAMPLE, t, now);
	if (!e)
		return 0;
	e->iter_start = st->iter_start;
	fill_py_frames(&e->py, t);
	if (user) {
		/* The interrupted registers are the user ones. */
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
