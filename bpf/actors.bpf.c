// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Actors: weft.h annotation probes (USDT) and runtime uprobes, turned into actor records. */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

static __always_inline void emit(__u32 op, __u32 source, __u64 actor, __u64 peer, __u64 msg,
				 __s64 depth)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct weft_actor_event *e;

	if (!is_traced(t))
		return;
	e = reserve(sizeof(*e), WEFT_EV_ACTOR, t, bpf_ktime_get_boot_ns());
	if (!e)
		return;
	e->op = op;
	e->source = source;
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
