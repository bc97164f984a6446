// SPDX-License-Identifier: MIT
/* What a recording looks like in Perfetto: names, CPU tracks, thread states, off-CPU stacks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analyze/decode.h"
#include "analyze/session_impl.h"
#include "perfetto/writer.h"
#include "symbolize/symbolize.h"

void trace_describe_process(struct session *s, struct process *p)
{
	if (p->described)
		return;
	pf_process(s->pf, p->pid, p->ppid, p->name, p->cmdline[0] ? p->cmdline : p->name);
	p->described = true;
}

void trace_describe_thread(struct session *s, struct task *t)
{
	struct process *p;

	if (t->described)
		return;
	p = proc_upsert(&s->tt, t->pid);
	if (p && !p->described) {
		if (!p->name[0] && t->tid == t->pid)
			snprintf(p->name, sizeof(p->name), "%s", t->comm);
		trace_describe_process(s, p);
	}
	pf_thread(s->pf, t->tid, t->pid, t->comm);
	t->described = true;
}

static int32_t *cpu_slot(struct session *s, uint32_t cpu)
{
	return cpu < CPU_MAX ? &s->cpu_current[cpu] : NULL;
}

void trace_switch(struct session *s, const struct weft_switch_event *e)
{
	int64_t state = task_report_state(e->preempt, e->prev_state, e->prev_exit_state);
	int32_t *cur = cpu_slot(s, e->hdr.cpu);

	/* Perfetto takes the first compact switch on a CPU only as "who runs now" (no slice):
	 * prime each CPU with the task being switched out so the real first switch counts. */
	if (cur && *cur < 0)
		pf_sched_switch(s->pf, e->hdr.cpu, e->hdr.ts, 0, e->hdr.tid, e->prev_prio,
				e->prev_comm);
	pf_sched_switch(s->pf, e->hdr.cpu, e->hdr.ts, state, e->next_tid, e->next_prio,
			e->next_comm);
	if (cur)
		*cur = e->next_tid;
	s->switches++;
}

void trace_waking(struct session *s, const struct weft_waking_event *e)
{
	int32_t *cur = cpu_slot(s, e->hdr.cpu);

	/* The UI names the waker as whatever ran on the CPU; make that true for wakeups from
	 * interrupts or untraced tasks whose switch-in was not recorded, and for a traced task
	 * running since before the recording on a CPU with no switch yet (Perfetto drops a
	 * wakeup on such a CPU). */
	if (cur && *cur != (int32_t)e->hdr.tid) {
		struct task *w = task_get(&s->tt, e->hdr.tid);

		if (!w || !w->traced || *cur < 0) {
			static const char unnamed[PF_COMM_LEN], idle[PF_COMM_LEN] = "swapper";
			const char *comm = w && w->traced ? w->comm : e->hdr.tid ? unnamed : idle;

			pf_sched_switch(s->pf, e->hdr.cpu, e->hdr.ts, 0, e->hdr.tid, 120, comm);
			*cur = e->hdr.tid;
		}
	}
	pf_sched_waking(s->pf, e->hdr.cpu, e->hdr.ts, e->tid, e->target_cpu, e->prio, e->comm);
}

/* A copy of py that can be trusted: names terminated, no more frames than there is room for. */
static void py_frames_copy(struct weft_py_frames *dst, const struct weft_py_frames *src)
{
	*dst = *src;
	if (dst->n > WEFT_PY_FRAMES)
		dst->n = WEFT_PY_FRAMES;
	for (uint32_t i = 0; i < WEFT_PY_FRAMES; i++)
		dst->func[i][WEFT_PY_NAME - 1] = '\0';
}

void trace_py_frames(struct session *s, const struct weft_py_frames_event *e)
{
	struct py_pending *p = &s->py_pending[e->hdr.cpu % PY_PENDING_SLOTS];

	p->ts = e->hdr.ts;
	p->tid = (int32_t)e->hdr.tid;
	p->cpu = e->hdr.cpu;
	py_frames_copy(&p->py, &e->py);
}

/* The Python frames recorded just before stack record e, taken (NULL: none). */
static const struct weft_py_frames *py_frames_of(struct session *s,
						 const struct weft_stack_event *e)
{
	struct py_pending *p = &s->py_pending[e->hdr.cpu % PY_PENDING_SLOTS];

	if (!p->tid || p->tid != (int32_t)e->hdr.tid || p->ts != e->hdr.ts ||
	    p->cpu != e->hdr.cpu)
		return NULL;
	p->tid = 0;
	return p->py.n ? &p->py : NULL;
}

/* What tells two Python stacks with the same native frames apart, for the stack cache. */
static uint64_t py_frames_key(const struct weft_py_frames *py)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ py->n ^ ((uint64_t)py->entries << 32);

	for (uint32_t i = 0; i < py->n; i++) {
		h = (h ^ (uint32_t)py->line[i]) * 0x100000001b3ULL;
		h = (h ^ py->code[i] ^ ((uint64_t)py->instr[i] << 48)) * 0x100000001b3ULL;
		for (const char *c = py->func[i]; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
	}
	return h;
}

/* Frames that say "the thread is switching out", not why it waits. */
static bool is_scheduler_frame(const char *fn)
{
	static const char *const prefixes[] = {
		"__bpf", "bpf_", "__traceiter_", "trace_", "__schedule", "schedule",
		"preempt_schedule", "io_schedule", "__cond_resched", "__switch_to",
	};

	if (!fn)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(fn, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* The file name of a frame's module, without its directory. */
static const char *module_base(const struct sym_loc *loc)
{
	const char *slash = loc->module ? strrchr(loc->module, '/') : NULL;

	return slash ? slash + 1 : (loc->module ? loc->module : "[unknown]");
}

bool trace_frame_is_weft(const struct sym_loc *loc)
{
	/* By file name: the build tree's shim and an installed one (lib/weft/) differ only in
	 * their directory, and the analysis is not told which path was preloaded. */
	static const char shim[] = "libweft-preload";

	return !strncmp(module_base(loc), shim, sizeof(shim) - 1);
}

const char *trace_frame_label(char *buf, size_t len, const struct sym_loc *loc)
{
	const char *mod = module_base(loc);

	if (loc->function)
		snprintf(buf, len, "%s (%s)", loc->function, mod);
	else
		snprintf(buf, len, "0x%llx (%s)", (unsigned long long)loc->rel_pc, mod);
	return buf;
}

int trace_resolve_user(struct session *s, int32_t pid, uint64_t pc, uint64_t lookup,
		       struct sym_loc *loc)
{
	int ret;

	memset(loc, 0, sizeof(*loc));
	ret = sym_resolve_user(s->sym, pid, pc, lookup, loc);
	/* Unknown address: the process may have mapped something new since its map was read. */
	if (ret == -ENOENT && sym_proc_load(s->sym, pid) == 0)
		ret = sym_resolve_user(s->sym, pid, pc, lookup, loc);
	if (ret && !loc->module)
		loc->rel_pc = pc; /* in no known mapping: its address, not 0x0 */
	return ret;
}

/*
 * The addresses of a stack record: its kernel frames as recorded (ips[0..*nkernel)), then its
 * user frames, unwound from the copy of the stack. Returns how many in all.
 */
static size_t stack_ips(struct session *s, const struct weft_stack_event *e, uint64_t *ips,
			size_t *nkernel)
{
	size_t n = 0;
	int nu = 0;

	for (uint32_t i = 0; i < e->kstack_len && i < WEFT_KSTACK_MAX; i++)
		ips[n++] = e->kstack[i];
	*nkernel = n;
	if (e->uregs[WEFT_UREG_IP]) {
		nu = sym_unwind_user(s->sym, e->hdr.pid, e->hdr.tid, (const uint64_t *)e->uregs,
				     e->ustack, weft_ustack_len(e->ustack_len), ips + n,
				     STACK_USER_FRAMES_MAX);
		/* no code at 0: an unwind that ends there read past the last real frame */
		while (nu > 0 && !ips[n + nu - 1])
			nu--;
		if (nu <= 0) {
			ips[n] = e->uregs[WEFT_UREG_IP];
			nu = 1;
		}
		s->stacks_unwound++;
		s->stacks_user_frames += nu;
	}
	return n + nu;
}

/* The interpreter's frame, one per Python-to-Python call chain it runs (CPython 3.11). */
static bool is_python_eval(const struct sym_loc *loc)
{
	return loc->function && !strcmp(loc->function, "_PyEval_EvalFrameDefault");
}

/*
 * Python frames py[*next..] of process pid up to the first of their evaluation call (all that
 * are left if none is marked), as frames of out, each with the line it is at.
 */
static void add_py_call(struct session *s, int32_t pid, struct stack_syms *out,
			const struct weft_py_frames *py, uint32_t *next)
{
	while (*next < py->n && out->n < STACK_FRAMES_MAX) {
		uint32_t i = (*next)++;
		int32_t line = py_lines_line(&s->py_lines, pid, py->code[i], py->instr[i],
					     py->line[i]);

		out->frames[out->n] = (struct pf_frame){ py->func[i], "python",
							 (uint64_t)(uint32_t)line };
		snprintf(out->names[out->n], STACK_FRAME_NAME_MAX, "%s (python, line %d)",
			 py->func[i], line);
		out->labels[out->n] = out->names[out->n];
		out->n++;
		if (py->entries & (1u << i))
			return;
	}
}

/*
 * Names for pid's stack ips. *complete: every user frame has a function name (a JIT may name
 * the others later). py: the thread's Python frames, or NULL: each call of the interpreter's
 * evaluation function is replaced by the Python functions it ran; those the native stack does
 * not reach go at its outer end. The result is valid until the next call.
 */
static const struct stack_syms *stack_symbolize(struct session *s, int32_t pid,
						 const uint64_t *ips, size_t nkernel, size_t n,
						 const struct weft_py_frames *py, bool *complete)
{
	static struct stack_syms out;
	static struct weft_py_frames py_names; /* what out's Python frames point into */
	struct sym_loc loc;
	uint32_t py_next = 0;

	if (py) {
		py_frames_copy(&py_names, py);
		py = &py_names;
	}

	out.n = 0;
	out.nkernel = 0;
	out.blocked_in = NULL;
	*complete = true;
	for (size_t i = 0; i < nkernel; i++) {
		memset(&loc, 0, sizeof(loc));
		sym_resolve_kernel(s->sym, ips[i], &loc);
		if (is_scheduler_frame(loc.function))
			continue;
		if (!out.blocked_in && loc.function)
			out.blocked_in = loc.function;
		out.frames[out.n] = (struct pf_frame){ loc.function, "[kernel.kallsyms]", loc.rel_pc };
		out.labels[out.n] = trace_frame_label(out.names[out.n], STACK_FRAME_NAME_MAX, &loc);
		out.n++;
	}
	out.nkernel = out.n;
	for (size_t i = nkernel; i < n; i++) {
		/* Return addresses point after the call: look up the call itself. */
		uint64_t lookup = i > nkernel ? ips[i] - 1 : ips[i];

		trace_resolve_user(s, pid, ips[i], lookup, &loc);
		if (trace_frame_is_weft(&loc))
			continue;
		if (py && py_next < py->n && is_python_eval(&loc)) {
			add_py_call(s, pid, &out, py, &py_next);
			continue;
		}
		if (out.n == STACK_FRAMES_MAX)
			break;
		if (!loc.function)
			*complete = false;
		out.frames[out.n] = (struct pf_frame){ loc.function, loc.module, loc.rel_pc };
		out.labels[out.n] = trace_frame_label(out.names[out.n], STACK_FRAME_NAME_MAX, &loc);
		out.n++;
	}
	while (py && py_next < py->n && out.n < STACK_FRAMES_MAX)
		add_py_call(s, pid, &out, py, &py_next);
	return &out;
}

const struct stack_syms *trace_stack_syms_py(struct session *s, const struct weft_stack_event *e,
					     const struct weft_py_frames *py)
{
	uint64_t ips[WEFT_KSTACK_MAX + STACK_USER_FRAMES_MAX];
	size_t nkernel, n = stack_ips(s, e, ips, &nkernel);
	bool complete;

	return stack_symbolize(s, e->hdr.pid, ips, nkernel, n, py && py->n ? py : NULL,
			       &complete);
}

const struct stack_syms *trace_stack_syms(struct session *s, const struct weft_stack_event *e)
{
	return trace_stack_syms_py(s, e, py_frames_of(s, e));
}

struct offcpu_stack *trace_stack(struct session *s, const struct weft_stack_event *e,
				 bool io_wait)
{
	/* the addresses, then a key of the Python frames (if any): the cache's key */
	uint64_t ips[WEFT_KSTACK_MAX + STACK_USER_FRAMES_MAX + 1];
	size_t nkernel, n = stack_ips(s, e, ips, &nkernel), nkey = n;
	const struct weft_py_frames *py = py_frames_of(s, e);
	uint64_t gen = sym_generation(s->sym);
	const struct stack_cache_val *hit;
	struct stack_cache_val v;

	if (py)
		ips[nkey++] = py_frames_key(py);
	hit = stack_cache_get(&s->stack_cache, e->hdr.pid, gen, ips, nkey);
	if (hit) {
		v = *hit;
	} else {
		bool complete;
		const struct stack_syms *st = stack_symbolize(s, e->hdr.pid, ips, nkernel, n, py,
							      &complete);

		v.blocked_in = st->blocked_in;
		v.callstack_iid = st->n ? pf_callstack(s->pf, st->frames, st->n) : 0;
		v.agg = st->n ? offcpu_intern(&s->offcpu, st->labels, st->n) : NULL;
		/* Resolving may have read the map again: file it under the generation it saw. */
		if (complete && v.callstack_iid && v.agg)
			stack_cache_put(&s->stack_cache, e->hdr.pid, sym_generation(s->sym), ips,
					nkey, &v);
	}
	if (v.blocked_in)
		pf_sched_blocked_reason(s->pf, e->hdr.cpu, e->hdr.ts, e->hdr.tid, v.blocked_in,
					io_wait);
	if (v.callstack_iid)
		pf_perf_sample(s->pf, e->hdr.ts, e->hdr.cpu, e->hdr.pid, e->hdr.tid,
			       v.callstack_iid, PF_MODE_KERNEL);
	return v.agg;
}
