// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Actors: weft.h annotation probes (USDT) and runtime uprobes, turned into actor records. */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Sampled mode: user space bumps this before attaching the probes for a window. 64-bit so
 * clang keeps it a full word in .bss (see DESIGN.md). */
__u64 window = 0;

/* Probe hits of traced processes, for sampled mode (--actor-budget). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} actor_hits SEC(".maps");

static __always_inline void count_hit(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&actor_hits, &zero);

	if (n)
		*n += 1;
}

static __always_inline void emit(__u32 op, __u32 source, __u64 actor, __u64 peer, __u64 msg,
				 __s64 depth)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct weft_actor_event *e;

	if (!is_traced(t))
		return;
	count_hit();
	e = reserve(sizeof(*e), WEFT_EV_ACTOR, t, bpf_ktime_get_boot_ns());
	if (!e)
		return;
	e->op = op;
	e->source = source;
	e->pad = 0;
	e->window = (__u32)window;
	e->actor = actor;
	e->peer = peer;
	e->msg = msg;
	e->depth = depth;
	submit(e);
}

static __always_inline void emit_name(__u32 kind, __u32 source, __u64 actor, const void *name,
				      bool user)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct weft_actor_name_event *e;

	if (!is_traced(t))
		return;
	e = reserve(sizeof(*e), WEFT_EV_ACTOR_NAME, t, bpf_ktime_get_boot_ns());
	if (!e)
		return;
	e->kind = kind;
	e->source = source;
	e->actor = actor;
	if (user) {
		if (bpf_probe_read_user_str(e->name, sizeof(e->name), name) < 0)
			e->name[0] = 0;
	} else {
		__builtin_memcpy(e->name, name, sizeof(e->name));
	}
	submit(e);
}

/* --- weft.h annotations (provider "weft") ------------------------------------------------- */
SEC("usdt")
int BPF_USDT(weft_actor_name, __u64 actor, const char *name)
{
	emit_name(0, WEFT_SRC_ANNOTATION, actor, name, true);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_actor_send, __u64 from, __u64 to, __u64 msg, __s64 depth)
{
	emit(WEFT_ACT_SEND, WEFT_SRC_ANNOTATION, from, to, msg, depth);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_actor_recv, __u64 actor, __u64 msg, __s64 depth)
{
	emit(WEFT_ACT_RECV, WEFT_SRC_ANNOTATION, actor, 0, msg, depth);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_actor_done, __u64 actor)
{
	emit(WEFT_ACT_DONE, WEFT_SRC_ANNOTATION, actor, 0, 0, -1);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_actor_depth, __u64 actor, __s64 depth)
{
	emit(WEFT_ACT_DEPTH, WEFT_SRC_ANNOTATION, actor, 0, 0, depth);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_task_spawn, __u64 task, __u64 parent, const char *name)
{
	emit(WEFT_ACT_TASK_SPAWN, WEFT_SRC_ANNOTATION, task, parent, 0, -1);
	if (name)
		emit_name(1, WEFT_SRC_ANNOTATION, task, name, true);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_task_poll_begin, __u64 task)
{
	emit(WEFT_ACT_TASK_POLL_BEGIN, WEFT_SRC_ANNOTATION, task, 0, 0, -1);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_task_poll_end, __u64 task, __s64 done)
{
	emit(WEFT_ACT_TASK_POLL_END, WEFT_SRC_ANNOTATION, task, 0, 0, done);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_task_wake, __u64 task, __u64 waker)
{
	emit(WEFT_ACT_TASK_WAKE, WEFT_SRC_ANNOTATION, task, waker, 0, -1);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_chan_send, __u64 chan, __s64 depth)
{
	emit(WEFT_ACT_CHAN_SEND, WEFT_SRC_ANNOTATION, chan, 0, 0, depth);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_chan_recv, __u64 chan, __s64 depth)
{
	emit(WEFT_ACT_CHAN_RECV, WEFT_SRC_ANNOTATION, chan, 0, 0, depth);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_loop_begin, __u64 loop)
{
	emit(WEFT_ACT_LOOP_BEGIN, WEFT_SRC_ANNOTATION, loop, 0, 0, -1);
	return 0;
}

SEC("usdt")
int BPF_USDT(weft_loop_end, __u64 loop)
{
	emit(WEFT_ACT_LOOP_END, WEFT_SRC_ANNOTATION, loop, 0, 0, -1);
	return 0;
}

/* --- BEAM (beam.smp exports, erts 13 / OTP 25) -------------------------------------------- */
/*
 * A Process starts with ErtsPTabElementCommon, whose first word is the process id term
 * (<0.N.S> as an immediate: N in bits 4..31, S above). That is the only field read: the rest of
 * the layout changes between releases and Debian ships no debug info for it.
 * Messages carry no id: the analysis pairs sends and removals first-in first-out per receiver.
 */
static __always_inline __u64 beam_pid(const void *proc)
{
	__u64 id = 0;

	if (proc)
		bpf_probe_read_user(&id, sizeof(id), proc);
	return id;
}

/* BPF_KPROBE/BPF_KRETPROBE read pt_regs the same way for uprobes (libbpf 1.1 has no BPF_UPROBE). */

/* void erts_send_message(Process *sender, Process *receiver, ErtsProcLocks *, Eterm msg) */
SEC("uprobe")
int BPF_KPROBE(beam_send, const void *sender, const void *receiver)
{
	emit(WEFT_ACT_SEND, WEFT_SRC_BEAM, beam_pid(sender), beam_pid(receiver), 0, -1);
	return 0;
}

/* beam_jit_remove_message(Process *c_p, ...): a receive took the first matching message. */
SEC("uprobe")
int BPF_KPROBE(beam_remove_message, const void *c_p)
{
	emit(WEFT_ACT_RECV, WEFT_SRC_BEAM, beam_pid(c_p), 0, 0, -1);
	return 0;
}

/* Process *erts_schedule(ErtsSchedulerData *, Process *p, int calls): p stops running here ... */
SEC("uprobe")
int BPF_KPROBE(beam_schedule, const void *esdp, const void *p)
{
	if (p)
		emit(WEFT_ACT_DONE, WEFT_SRC_BEAM, beam_pid(p), 0, 0, -1);
	return 0;
}

/* ... and the process it returns runs next on this scheduler thread. */
SEC("uretprobe")
int BPF_KRETPROBE(beam_schedule_ret, const void *next)
{
	if (next)
		emit(WEFT_ACT_RUN, WEFT_SRC_BEAM, beam_pid(next), 0, 0, -1);
	return 0;
}

/* void erts_do_exit_process(Process *p, Eterm reason) */
SEC("uprobe")
int BPF_KPROBE(beam_exit, const void *p)
{
	emit(WEFT_ACT_EXIT, WEFT_SRC_BEAM, beam_pid(p), 0, 0, -1);
	return 0;
}

/* --- CAF 0.17 (libcaf_core exports) ------------------------------------------------------- */
/*
 * An actor lives in an actor_storage: its actor_control_block, padded to a cache line (64),
 * then the actor object. The block holds two reference counts, then the actor id:
 * id = *(this - 64 + 16). A message is its mailbox_element, whose address pairs the enqueue with
 * the consume. The sender is whatever actor runs on the sending thread (the analysis knows).
 */
#define CAF_ID_OFFSET (64 - 16)

static __always_inline __u64 caf_id(const void *self)
{
	__u64 id = 0;

	if (self)
		bpf_probe_read_user(&id, sizeof(id), (const char *)self - CAF_ID_OFFSET);
	return id;
}

/* void scheduled_actor::enqueue(mailbox_element_ptr ptr, execution_unit *): ptr (a unique_ptr)
 * is passed by reference to a temporary. */
SEC("uprobe")
int BPF_KPROBE(caf_enqueue, const void *self, const void *ptr)
{
	__u64 elem = 0;

	bpf_probe_read_user(&elem, sizeof(elem), ptr);
	emit(WEFT_ACT_SEND, WEFT_SRC_CAF, 0, caf_id(self), elem, -1);
	return 0;
}

/* invoke_message_result scheduled_actor::reactivate(mailbox_element &x): the mailbox visitor
 * hands each message of the normal queue to it; the handler runs inside. */
SEC("uprobe")
int BPF_KPROBE(caf_consume, const void *self, const void *elem)
{
	emit(WEFT_ACT_RECV, WEFT_SRC_CAF, caf_id(self), 0, (__u64)elem, -1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(caf_consume_ret)
{
	emit(WEFT_ACT_DONE, WEFT_SRC_CAF, 0, 0, 0, -1);
	return 0;
}
