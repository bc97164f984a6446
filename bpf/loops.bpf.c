// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Event loops: iterations between poll calls, stalls, culprit samples, blocking calls. */
#include "common.bpf.h"
#include "idset.bpf.h"
#include "python.bpf.h"
#include "loops.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define IORING_ENTER_GETEVENTS 1

/* Tunables, set between open and load (64-bit: see sched.bpf.c). */
const volatile __u64 stall_ns = 50000000;      /* iterations at least this long are stalls */
const volatile __u64 block_ns = 1000000;       /* off-CPU this long inside an iteration */
const volatile __u64 sample_after_ns = 1000000;/* sample only iterations already this long */
const volatile __u64 period_ns = 100000000;    /* one stats record per loop thread per period */
const volatile __u64 min_polls = 2;            /* poll calls before a thread counts as a loop */

/* What a histogram is reset from (an inlined memset of 2 KiB is refused by clang). */
const volatile __u32 hist_zeros[WEFT_LOOP_HIST_BUCKETS];

/* The threads with loop state: the switch hook and the sampler run for every thread of the
 * machine, and ask this before they look for the state. */
ID_SET(loop_tids);

/* Set when the first loop thread appears: user space attaches the switch hook only then, so a
 * program without event loops does not pay for it on every switch of the machine. */
__u64 loop_threads_seen;

static __always_inline bool is_loop_thread(struct task_struct *t)
{
	return idset_has(&loop_tids, t->pid);
}

/*
 * Per-thread loop state, created at a traced thread's first poll call. Task storage: found
 * from any program by the task pointer and freed by the kernel when the thread exits.
 *
 * An iteration runs from a poll call's return to the next poll call's entry, both watched
 * (the poll calls' own syscall tracepoints, or the generic ones where tracefs is missing). No
 * iteration bound depends on seeing a context switch: the switch hook only times blocking
 * calls, and a wait whose switch-in it did not see is closed at the thread's next switch-out
 * or poll call (on our VMs about one switch-in in 1 500 never reaches sched_switch programs,
 * though the kernel's own counts show it happened).
 */
struct loop_state {
	__u64 iter_start;   /* start of the current iteration (a poll call's return); 0: none */
	__u64 poll_enter;
	__u64 period_start;
	__u64 iterations, busy_ns, poll_ns, max_ns;
	__u64 polls;        /* poll calls made */
	__u64 switches;     /* the thread's context switches (the kernel's count) at poll entry */
	__u64 off_ts;       /* voluntary switch-out inside the current iteration, outside poll */
	__u32 in_poll;      /* between a poll call's entry and its return */
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

/* The kind of poll call syscall id is, 0 if none. */
static __always_inline int poll_kind(long id)
{
	switch (id) {
#define POLL_CASE(nr, name, kind) case nr: return kind;
	LOOPS_POLL_SYSCALLS(POLL_CASE)
#undef POLL_CASE
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

/*
 * The wait that began at st->off_ts is over by now: reported if it was long enough. Called at
 * the switch-in that ends it, or, if that switch-in was not seen, at the thread's next
 * switch-out, poll call or exit: the wait then ends there at the latest.
 */
static __always_inline void end_wait(struct task_struct *t, struct loop_state *st, __u64 now)
{
	if (now - st->off_ts >= block_ns)
		emit_block(t, st, now);
	st->off_ts = 0;
}

/* io_uring_enter(fd, to_submit, min_complete, flags, ...) of t, current, waits for completions
 * only with GETEVENTS and min_complete > 0. (From the registers: the syscall tracepoints'
 * records hold as many arguments as the syscall has, fewer for poll than for this.) */
static __always_inline bool io_uring_waits(struct task_struct *t)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	return regs && (regs->r10 & IORING_ENTER_GETEVENTS) && regs->dx;
}

/*
 * The collector drains seldom (up to 100 ms apart) and attaches the switch hook only once a loop
 * thread exists: a record discarded with a forced wakeup has it look now, at the cost of one
 * wakeup for the whole recording.
 */
static __always_inline void wake_collector(struct task_struct *t)
{
	void *e = reserve(sizeof(struct weft_event_header), WEFT_EV_LOOP_STATS, t, 0);

	if (e)
		bpf_ringbuf_discard(e, BPF_RB_FORCE_WAKEUP);
}

/* The loop state of t, current, at its first poll call if it is traced; NULL if not. */
static __always_inline struct loop_state *new_loop_state(struct task_struct *t)
{
	struct loop_state *st;

	if (!is_traced(t))
		return NULL;
	st = bpf_task_storage_get(&loop_states, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count_loss(WEFT_LOSS_TASK_STORAGE);
		return NULL;
	}
	idset_add(&loop_tids, t->pid);
	if (!loop_threads_seen) {
		loop_threads_seen = 1;
		wake_collector(t);
	}
	st->period_start = bpf_ktime_get_boot_ns();
	return st;
}

/* A poll call of kind begins: the iteration since the last one returned is over. */
static __always_inline void poll_enter(int kind)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct loop_state *st;
	__u64 now, it;

	if (kind == WEFT_POLL_IO_URING && !io_uring_waits(t))
		return;
	st = is_loop_thread(t) ? bpf_task_storage_get(&loop_states, t, NULL, 0) : NULL;
	if (!st)
		st = new_loop_state(t);
	if (!st)
		return;
	now = bpf_ktime_get_boot_ns();
	if (st->off_ts)
		end_wait(t, st, now);
	/* in_poll still set: the last call's return was not seen, nor when this iteration began. */
	if (st->iter_start && !st->in_poll) {
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
	st->switches = t->nvcsw + t->nivcsw;
	st->in_poll = 1;
	if (now - st->period_start >= period_ns) {
		if (st->iterations && st->polls > min_polls)
			emit_stats(t, st, now);
		else
			st->period_start = now;
	}
}

/* A poll call returns: an iteration begins. */
static __always_inline void poll_exit(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct loop_state *st;

	if (!is_loop_thread(t))
		return;
	st = bpf_task_storage_get(&loop_states, t, NULL, 0);
	if (!st || !st->in_poll)
		return;
	/* A call that never left the CPU (the kernel's own count of the thread's switches says
	 * so) returns a few microseconds after its entry: the iteration starts there, without
	 * the clock read (~70 ns here) that a call that waited needs. */
	if (t->nvcsw + t->nivcsw == st->switches)
		st->iter_start = st->poll_enter;
	else
		st->iter_start = bpf_ktime_get_boot_ns();
	st->poll_ns += st->iter_start - st->poll_enter;
	st->in_poll = 0;
}

/*
 * Two ways in; the loader keeps one. The poll calls' own syscall tracepoints cost the other
 * syscalls almost nothing (the kernel tests a bitmap); the loader attaches these two programs
 * to the sys_enter_* and sys_exit_* event of each poll call in bpf/loops.h. Without tracefs,
 * the generic sys_enter/sys_exit, which run for every syscall.
 */
SEC("tracepoint")
int on_poll_enter(struct trace_event_raw_sys_enter *ctx)
{
	/* The syscall events' records have an int nr where this struct has a long id. */
	poll_enter(poll_kind((int)ctx->id));
	return 0;
}

SEC("tracepoint")
int on_poll_exit(struct trace_event_raw_sys_exit *ctx)
{
	poll_exit();
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	/* Every syscall of the system comes here: the id first, it is the cheapest test. */
	int kind = poll_kind(id);

	if (kind)
		poll_enter(kind);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	if (poll_kind(regs->orig_ax))
		poll_exit();
	return 0;
}

/* A loop thread exits: send what its last period counted. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_loop_exit, struct task_struct *p)
{
	struct loop_state *st;
	__u64 now;

	if (!is_loop_thread(p))
		return 0;
	/* The tid may come back for another thread. */
	idset_del(&loop_tids, p->pid);
	st = bpf_task_storage_get(&loop_states, p, NULL, 0);
	if (!st)
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (st->off_ts)
		end_wait(p, st, now);
	if (st->iterations && st->polls > min_polls)
		emit_stats(p, st, now);
	return 0;
}

/* The syscall t is in (its saved orig_ax), -1 if none. */
static __always_inline long current_syscall(struct task_struct *t)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	return regs ? BPF_CORE_READ(regs, orig_ax) : -1;
}

/* Blocking calls: a loop thread that waits inside an iteration, outside its poll call. */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_loop_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct loop_state *st;
	__u64 now;
	long n;

	/* A loop thread going to wait (not preempted), with user memory to copy the stack from
	 * (an exiting thread has none left). */
	if (!preempt && prev_state != 0 && prev->mm && is_loop_thread(prev)) {
		st = bpf_task_storage_get(&loop_states, prev, NULL, 0);
		if (st && st->iter_start && !st->in_poll && st->polls >= min_polls) {
			now = bpf_ktime_get_boot_ns();
			if (st->off_ts)
				end_wait(prev, st, now);
			/* Keep where, in case it lasts: prev is current, its user stack is
			 * readable now and not at the switch-in. */
			st->off_ts = now;
			st->off_nr = current_syscall(prev);
			n = bpf_get_stack(ctx, st->snap.kstack, sizeof(st->snap.kstack), 0);
			st->snap.kstack_len = n > 0 ? n / sizeof(__u64) : 0;
			fill_user_stack(&st->snap, prev);
			fill_py_frames(&st->snap_py, prev);
		}
	}
	if (!is_loop_thread(next))
		return 0;
	st = bpf_task_storage_get(&loop_states, next, NULL, 0);
	if (st && st->off_ts)
		end_wait(next, st, bpf_ktime_get_boot_ns());
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

	if (!is_loop_thread(t))
		return 0;
	st = bpf_task_storage_get(&loop_states, t, NULL, 0);
	if (!st || !st->iter_start || st->in_poll || st->polls < min_polls)
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (now - st->iter_start < sample_after_ns)
		return 0;
	e = reserve(sizeof(*e), WEFT_EV_LOOP_SAMPLE, t, now);
	if (!e)
		return 0;
	e->iter_start = st->iter_start;
	fill_py_frames(&e->py, t);
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
