/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Python functions, read from CPython's own frames (as py-spy does) for processes running a
 * CPython whose layout is known: user space puts the address of its _PyRuntime in py_runtimes
 * (collect/pyruntime.c). Taken with off-CPU and lock-wait stacks (sched.bpf.c, locks.bpf.c),
 * whose native frames show only the interpreter, and with event-loop stalls (loops.bpf.c).
 *
 * CPython 3.11, x86-64 (checked against the interpreter by the integration tests):
 *   _PyRuntime.interpreters.head @40 -> interp; interp->threads.head @16 -> tstate;
 *   tstate->next @8, ->native_thread_id @160, ->cframe @56; cframe->current_frame @8;
 *   frame->f_code @32, ->previous @48, ->prev_instr @56, ->is_entry @68 (the first frame of a
 *   _PyEval_EvalFrameDefault call); code->co_qualname @128, ->co_firstlineno @72,
 *   ->co_linetable @136, ->co_code_adaptive @184 (its instructions);
 *   str: compact ASCII (state @32 bit 6) text @48.
 */
#ifndef WEFT_PYTHON_BPF_H
#define WEFT_PYTHON_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* address of _PyRuntime */
} py_runtimes SEC(".maps");

/*
 * A thread's PyThreadState, once found. The interpreter lists its threads newest first, and a
 * walk of that list reads two words a thread: a service with a thousand threads would pay
 * hundreds of microseconds on every stack. Found once, it is checked with one read.
 */
struct py_thread {
	__u64 tstate;
	/* Not found, with this thread list: no new walk until the list has a new head (a thread
	 * state is added at the head), so a thread running no Python walks once per new thread. */
	__u64 missed_head;
	__u32 ns_tid;   /* task_ns_tid(), 0: not read yet */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct py_thread);
} py_threads SEC(".maps");

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
#define PY311_CODE_INSTRUCTIONS 184 /* co_code_adaptive */
#define PY_STR_STATE 32
#define PY_STR_ASCII (1 << 6)
#define PY_STR_ASCII_DATA 48
#define PY_THREADS_MAX 4096 /* threads of one interpreter walked to find one */

static __always_inline __u64 read_user_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline __u32 py_native_tid(__u64 tstate)
{
	__u32 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)(tstate + PY311_TS_NATIVE_TID));
	return v;
}

struct py_walk {
	__u64 tstate;
	__u32 tid;
	__u32 found;
};

static long py_walk_step(__u64 i, void *ctx)
{
	struct py_walk *w = ctx;

	if (!w->tstate)
		return 1;
	if (py_native_tid(w->tstate) == w->tid) {
		w->found = 1;
		return 1;
	}
	w->tstate = read_user_u64(w->tstate + PY311_TS_NEXT);
	return 0;
}

/* t's thread id as its own process sees it (in its pid namespace): CPython's
 * native_thread_id, which differs from the kernel's in a container. */
static __always_inline __u32 task_ns_tid(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(p, level);
	struct upid up = {};

	bpf_core_read(&up, sizeof(up), &p->numbers[level & 31]);
	return up.nr;
}

/* t's PyThreadState in the interpreter at runtime, 0 if not found. */
static __always_inline __u64 py_tstate(struct task_struct *t, __u64 runtime)
{
	struct py_thread *pt = bpf_task_storage_get(&py_threads, t, NULL,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);
	struct py_walk w = {};
	__u64 head;

	if (!pt)
		w.tid = task_ns_tid(t);
	else if (!(w.tid = pt->ns_tid))
		w.tid = pt->ns_tid = task_ns_tid(t);
	if (pt && pt->tstate && py_native_tid(pt->tstate) == w.tid)
		return pt->tstate;
	head = read_user_u64(read_user_u64(runtime + PY311_RT_INTERP_HEAD) +
			     PY311_INTERP_THREADS_HEAD);
	if (!head || (pt && !pt->tstate && pt->missed_head == head))
		return 0;
	w.tstate = head;
	bpf_loop(PY_THREADS_MAX, py_walk_step, &w, 0);
	if (!w.found)
		w.tstate = 0;
	if (pt) {
		pt->tstate = w.tstate;
		pt->missed_head = w.found ? 0 : head;
	}
	return w.tstate;
}

/* The innermost Python frames of t, which must be current (its memory is the one mapped), in
 * the interpreter at runtime. py->n = 0 if the thread runs no Python code. */
/*
 * The parts of a frame, its code object and its name that are read, each in one copy: a helper
 * call costs ~150 ns here, and reading the fields one by one took ~9 µs for eight frames.
 */
struct py_frame_part { /* frame + 32 */
	__u64 code;
	__u64 frame_obj;
	__u64 previous;
	__u64 prev_instr;
	__s32 stacktop;
	__u8 is_entry;
	__u8 pad[3];
};

struct py_code_part { /* code + 72 */
	__s32 firstlineno;
	__u8 skip[PY311_CODE_QUALNAME - PY311_CODE_FIRSTLINENO - 4];
	__u64 qualname;
};

struct py_str_part { /* str + 32 */
	__u32 state;
	__u8 skip[PY_STR_ASCII_DATA - PY_STR_STATE - 4];
	char text[WEFT_PY_NAME];
};

/* The name at str into dst, if it is a compact ASCII string. A string near the end of its page
 * may not have WEFT_PY_NAME bytes after it: then read up to its end. */
static __always_inline bool py_read_name(char *dst, __u64 str)
{
	struct py_str_part part;

	if (!bpf_probe_read_user(&part, sizeof(part), (void *)(str + PY_STR_STATE))) {
		if (!(part.state & PY_STR_ASCII))
			return false;
		__builtin_memcpy(dst, part.text, WEFT_PY_NAME);
		dst[WEFT_PY_NAME - 1] = '\0';
		return true;
	}
	if (bpf_probe_read_user(&part.state, sizeof(part.state), (void *)(str + PY_STR_STATE)) ||
	    !(part.state & PY_STR_ASCII))
		return false;
	return bpf_probe_read_user_str(dst, WEFT_PY_NAME, (void *)(str + PY_STR_ASCII_DATA)) > 0;
}

static __always_inline void py_fill(struct weft_py_frames *py, struct task_struct *t,
				    __u64 runtime)
{
	struct py_frame_part fr;
	struct py_code_part co;
	__u64 ts, frame;
	__u32 n = 0;

	py->n = 0;
	py->entries = 0;
	ts = py_tstate(t, runtime);
	if (!ts)
		return;
	frame = read_user_u64(read_user_u64(ts + PY311_TS_CFRAME) + PY311_CFRAME_CURRENT);
	for (int i = 0; i < WEFT_PY_FRAMES && frame; i++) {
		if (bpf_probe_read_user(&fr, sizeof(fr), (void *)(frame + PY311_FRAME_CODE)) ||
		    !fr.code ||
		    bpf_probe_read_user(&co, sizeof(co), (void *)(fr.code + PY311_CODE_FIRSTLINENO)) ||
		    !co.qualname || !py_read_name(py->func[i], co.qualname))
			break;
		py->line[i] = co.firstlineno;
		py->code[i] = fr.code;
		/* the instruction it last ran (a call, unless it is the innermost frame running) */
		py->instr[i] = fr.prev_instr >= fr.code + PY311_CODE_INSTRUCTIONS ?
				       fr.prev_instr - (fr.code + PY311_CODE_INSTRUCTIONS) : (__u32)-1;
		if (fr.is_entry)
			py->entries |= 1u << i;
		n++;
		frame = fr.previous;
	}
	py->n = n;
}

/* The same for any thread: py->n = 0 if its process runs no known CPython. */
static __always_inline void fill_py_frames(struct weft_py_frames *py, struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u64 *rt = bpf_map_lookup_elem(&py_runtimes, &tgid);

	py->n = 0;
	py->entries = 0;
	if (rt)
		py_fill(py, t, *rt);
}

/* A process forked (no exec): the child runs the same interpreter at the same address
 * (multiprocessing's workers, pre-forking servers). */
static __always_inline void py_process_forked(__u32 parent_tgid, __u32 child_tgid)
{
	__u64 *rt = bpf_map_lookup_elem(&py_runtimes, &parent_tgid);

	if (rt)
		bpf_map_update_elem(&py_runtimes, &child_tgid, rt, BPF_ANY);
}

/* A process exec'd (user space registers the new image if it is a Python) or ended. */
static __always_inline void py_process_gone(__u32 tgid)
{
	bpf_map_delete_elem(&py_runtimes, &tgid);
}

/*
 * A record of the current task's Python frames, written just before a stack record of it with
 * the same time: the analysis puts them in place of the interpreter's frames. Nothing if there
 * are none. A global function, verified once on its own: inlined, it cost each program that
 * takes stacks some 20 ms of verifier time at start-up.
 */
__noinline int py_emit_frames(__u64 ts, __u64 runtime)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct weft_py_frames_event *e;

	e = reserve(sizeof(*e), WEFT_EV_PY_FRAMES, t, ts);
	if (!e)
		return 0;
	py_fill(&e->py, t, runtime);
	if (e->py.n)
		submit(e);
	else
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
	return 0;
}

/* The same for t, which must be the current task, if its process runs a known CPython. */
static __always_inline void emit_py_frames(struct task_struct *t, __u64 ts)
{
	__u32 tgid = t->tgid;
	__u64 *rt = bpf_map_lookup_elem(&py_runtimes, &tgid);

	if (rt)
		py_emit_frames(ts, *rt);
}

#endif /* WEFT_PYTHON_BPF_H */
