// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Go runtime capture: goroutines parking and being readied, created and ending (uprobes). */
#include "common.bpf.h"
#include "go.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * Go's register ABI (ABIInternal, Go 1.17+ on amd64): integer arguments in RAX, RBX, RCX, RDI,
 * RSI, R8..R11; the current goroutine's g in R14. Only function entries are probed: a
 * uretprobe rewrites the return address on the goroutine's stack, which Go's stack copying
 * and traceback then trip over ("unexpected return pc") and crash the target.
 */

/* tgid -> field offsets of that process's binary. Uprobes are attached per process, this also
 * tells the probe the process is ready. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct go_proc_info);
} go_procs SEC(".maps");

/* thread -> semaphore address from semacquire1, consumed by the gopark that follows. */
struct sema_wait {
	__u64 addr;
	__u64 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sema_wait);
} go_sema SEC(".maps");

#define SEMA_MUTEX_PROFILE 2 /* runtime.semaMutexProfile: sync.Mutex / RWMutex waits */

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	if (addr && bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		count_loss(WEFT_LOSS_GO_READ);
	return v;
}

/* The offsets for the current process if weft traces it. The uprobes sit on the binary file,
 * so untraced processes running it land here too, and a pid may have been reused. */
static __always_inline struct go_proc_info *proc_info(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!tgid_traced(tgid))
		return NULL;
	return bpf_map_lookup_elem(&go_procs, &tgid);
}

static __always_inline void *go_reserve(__u32 size, __u16 type)
{
	return reserve(size, type, (struct task_struct *)bpf_get_current_task_btf(),
		       bpf_ktime_get_boot_ns());
}

/* gopark(unlockf, lock unsafe.Pointer, reason waitReason, traceEv byte, traceskip int) */
SEC("uprobe")
int go_park(struct pt_regs *ctx)
{
	struct go_proc_info *pi = proc_info();
	struct weft_go_park_event *e;
	struct sema_wait *sw;
	__u64 g, sg, bp, sp;
	__u32 tid;

	if (!pi)
		return 0;
	e = go_reserve(sizeof(*e), WEFT_EV_GO_PARK);
	if (!e)
		return 0;
	g = ctx->r14;
	e->goid = read_u64(g + pi->g_goid);
	e->startpc = read_u64(g + pi->g_startpc);
	e->lock = ctx->bx;
	e->reason = ctx->cx & 0xff;
	e->obj = 0;
	e->flags = 0;
	e->pad = 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	sw = bpf_map_lookup_elem(&go_sema, &tid);
	if (sw) {
		e->obj = sw->addr;
		e->flags = WEFT_GO_PARK_SEMA |
			   ((sw->flags & SEMA_MUTEX_PROFILE) ? WEFT_GO_PARK_SEMA_MUTEX : 0);
		bpf_map_delete_elem(&go_sema, &tid);
	}

	/* Channel waits (send, receive, select) hang their sudogs on g.waiting, each naming its
	 * channel; other waits leave it nil. */
	e->nchans = 0;
	__builtin_memset(e->chans, 0, sizeof(e->chans));
	sg = read_u64(g + pi->g_waiting);
	for (int i = 0; i < WEFT_GO_CHANS && sg; i++) {
		e->chans[i] = read_u64(sg + pi->sudog_c);
		e->nchans = i + 1;
		sg = read_u64(sg + pi->sudog_waitlink);
	}

	/* Go keeps frame pointers on amd64: at gopark's first instruction [sp] is the return
	 * address into its caller and bp is the caller's frame. */
	sp = ctx->sp;
	bp = ctx->bp;
	e->frames[0] = read_u64(sp);
	e->nframes = 1;
	for (int i = 1; i < WEFT_GO_FRAMES; i++) {
		__u64 fr[2];

		if (!bp || bpf_probe_read_user(fr, sizeof(fr), (void *)bp) || !fr[1]) {
			e->frames[i] = 0;
			continue;
		}
		e->frames[i] = fr[1];
		e->nframes = i + 1;
		bp = fr[0];
	}
	submit(e);
	return 0;
}

/* goready(gp *g, traceskip int): the current g (R14) makes gp runnable. */
SEC("uprobe")
int go_ready(struct pt_regs *ctx)
{
	struct go_proc_info *pi = proc_info();
	struct weft_go_ready_event *e;
	__u64 g, gp, sg;

	if (!pi)
		return 0;
	e = go_reserve(sizeof(*e), WEFT_EV_GO_READY);
	if (!e)
		return 0;
	g = ctx->r14;
	gp = ctx->ax;
	e->goid = read_u64(g + pi->g_goid);
	e->startpc = read_u64(g + pi->g_startpc);
	e->wakee_goid = read_u64(gp + pi->g_goid);
	e->wakee_startpc = read_u64(gp + pi->g_startpc);
	/* A channel operation that completes a waiting goroutine's send or receive (select
	 * included) leaves the winning sudog in gp.param before readying it; other wakes leave
	 * something else or nil there, so user space trusts this only for channel waits on a
	 * channel the goroutine parked on. */
	sg = read_u64(gp + pi->g_param);
	e->chan = sg ? read_u64(sg + pi->sudog_c) : 0;
	e->flags = 0;
	e->pad = 0;
	submit(e);
	return 0;
}

/* newproc1(fn *funcval, callergp *g, callerpc uintptr) *g: runs on the system stack (R14 is
 * g0), so the creator comes from callergp. */
SEC("uprobe")
int go_new(struct pt_regs *ctx)
{
	struct go_proc_info *pi = proc_info();
	struct weft_go_new_event *e;
	__u64 callergp, fn;

	if (!pi)
		return 0;
	e = go_reserve(sizeof(*e), WEFT_EV_GO_NEW);
	if (!e)
		return 0;
	/* Registers read once, up front: clang otherwise derives several ctx field addresses
	 * from one pointer, which the verifier refuses ("modified ctx ptr"). */
	callergp = ctx->bx;
	fn = ctx->ax;
	e->callerpc = ctx->cx;
	e->creator_goid = callergp ? read_u64(callergp + pi->g_goid) : 0;
	e->creator_startpc = callergp ? read_u64(callergp + pi->g_startpc) : 0;
	e->startpc = read_u64(fn); /* funcval.fn is its first word */
	submit(e);
	return 0;
}

/* goexit1(): the ending goroutine is current. */
SEC("uprobe")
int go_exit(struct pt_regs *ctx)
{
	struct go_proc_info *pi = proc_info();
	struct weft_go_exit_event *e;

	if (!pi)
		return 0;
	e = go_reserve(sizeof(*e), WEFT_EV_GO_EXIT);
	if (!e)
		return 0;
	e->goid = read_u64(ctx->r14 + pi->g_goid);
	e->startpc = read_u64(ctx->r14 + pi->g_startpc);
	submit(e);
	return 0;
}

#define PD_WAIT 2 /* pollDesc.rg/wg values up to pdWait are states, larger ones a *g */

static __always_inline void netpoll_ready(__u64 gp, struct go_proc_info *pi)
{
	struct weft_go_ready_event *e;

	if (gp <= PD_WAIT)
		return;
	e = go_reserve(sizeof(*e), WEFT_EV_GO_READY);
	if (!e)
		return;
	e->goid = 0;
	e->startpc = 0;
	e->wakee_goid = read_u64(gp + pi->g_goid);
	e->wakee_startpc = read_u64(gp + pi->g_startpc);
	e->chan = 0;
	e->flags = WEFT_GO_READY_NETPOLL;
	e->pad = 0;
	submit(e);
}

/* netpollready(toRun *gList, pd *pollDesc, mode int32): a descriptor is ready; the goroutine
 * parked on it ('r' read, 'w' write, both) is about to be made runnable without goready. */
SEC("uprobe")
int go_netpollready(struct pt_regs *ctx)
{
	struct go_proc_info *pi = proc_info();
	__u32 mode = ctx->cx;
	__u64 pd = ctx->bx;

	if (!pi || !pd)
		return 0;
	if (mode == 'r' || mode == 'r' + 'w')
		netpoll_ready(read_u64(pd + pi->pd_rg), pi);
	if (mode == 'w' || mode == 'r' + 'w')
		netpoll_ready(read_u64(pd + pi->pd_wg), pi);
	return 0;
}

/* At a RET of makechan(t *chantype, size int) *hchan: the result is in RAX and [sp] is the
 * return address into the code that made the channel. A probe on a RET is emulated by the
 * kernel and leaves the stack alone, unlike a uretprobe. */
SEC("uprobe")
int go_makechan_ret(struct pt_regs *ctx)
{
	struct go_proc_info *pi = proc_info();
	struct weft_go_chan_event *e;

	if (!pi)
		return 0;
	e = go_reserve(sizeof(*e), WEFT_EV_GO_CHAN);
	if (!e)
		return 0;
	e->goid = read_u64(ctx->r14 + pi->g_goid);
	e->chan = ctx->ax;
	e->site = read_u64(ctx->sp);
	submit(e);
	return 0;
}

/* semacquire1(addr *uint32, lifo bool, profile semaProfileFlags, skipframes int): called on
 * the slow path of sync.Mutex and friends; the gopark that may follow says which semaphore.
 * If it acquires without parking, the entry lingers until the thread's next park, where user
 * space drops it unless that park is a semaphore wait. */
SEC("uprobe")
int go_semacquire(struct pt_regs *ctx)
{
	struct sema_wait sw;
	__u32 tid;

	if (!proc_info())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	sw.addr = ctx->ax;
	sw.flags = ctx->cx & 0xff;
	bpf_map_update_elem(&go_sema, &tid, &sw, BPF_ANY);
	return 0;
}
