// SPDX-License-Identifier: MIT
/* Dispatch of ordered records to the task tables, the state machines and the trace. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "analyze/area.h"
#include "analyze/decode.h"
#include "analyze/session_impl.h"
#include "perfetto/writer.h"
#include "symbolize/symbolize.h"

struct session *session_new(const struct session_opts *opts)
{
	struct session *s = calloc(1, sizeof(*s));
	struct utsname u;

	if (!s)
		return NULL;
	s->opts = *opts;
	reorder_init(&s->ro, opts->reorder_window_ns);
	for (int i = 0; i < CPU_MAX; i++)
		s->cpu_current[i] = -1;
	s->pf = pf_writer_new(opts->trace_fd);
	s->sym = sym_new();
	if (!s->pf || !s->sym || (opts->compress && pf_writer_set_compression(s->pf, true))) {
		session_free(s);
		return NULL;
	}
	for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++)
		s->area_ok[i] = !analyze_areas[i]->init ||
				analyze_areas[i]->init(s, &s->area_state[i]) == 0;
	/* Read kallsyms now, beside the caller's start-up, rather than at the first stack: records
	 * are drained by the same thread, and a stall then is when short-lived processes slip
	 * away unread. */
	sym_load_kernel_early(s->sym);
	/* The release tells Perfetto how to read prev_state (0x100 = preempted since 4.14). */
	if (!uname(&u))
		pf_system_info(s->pf, u.sysname, u.release, u.machine);
	return s;
}

int session_add_process(struct session *s, int32_t pid, int32_t ppid, const char *name,
			const char *cmdline)
{
	struct process *p = proc_upsert(&s->tt, pid);

	if (!p)
		return -ENOMEM;
	p->ppid = ppid;
	if (name)
		snprintf(p->name, sizeof(p->name), "%s", name);
	if (cmdline)
		snprintf(p->cmdline, sizeof(p->cmdline), "%s", cmdline);
	p->described = false;
	trace_describe_process(s, p);
	return 0;
}

int session_add_thread(struct session *s, int32_t pid, int32_t tid, const char *comm)
{
	struct task *t = task_upsert(&s->tt, tid, pid, comm);

	if (!t)
		return -ENOMEM;
	t->traced = true;
	t->described = false;
	trace_describe_thread(s, t);
	return 0;
}

/* What every record needs as it arrives, before it waits in the reorder buffer. */
static const struct weft_event_header *arrive(struct session *s, const void *data, size_t len)
{
	const struct weft_event_header *h;
	const char *why;

	h = weft_decode(data, len, &why);
	if (!h) {
		s->malformed++;
		return NULL;
	}
	s->records[h->type]++;
	/*
	 * Read a process's memory map as early as possible, not when its records leave the
	 * reorder buffer: a short-lived process may be gone by then. When its exec arrives
	 * (the new image, maybe before the loader mapped the libraries), and again when the
	 * image's first stack arrives (that record wakes the collector; by the first sleep the
	 * libraries are mapped). A failed read keeps what was known.
	 */
	if (h->type == WEFT_EV_EXEC) {
		u64map_del(&s->maps_read, h->pid);
		sym_proc_reset(s->sym, h->pid);
		sym_proc_load(s->sym, h->pid);
	}
	if (h->type == WEFT_EV_STACK && !u64map_get(&s->maps_read, h->pid) &&
	    sym_proc_load(s->sym, h->pid) == 0)
		u64map_put(&s->maps_read, h->pid, (void *)1);
	return h;
}

int session_push(struct session *s, const void *data, size_t len)
{
	const struct weft_event_header *h = arrive(s, data, len);

	return h ? reorder_push(&s->ro, h) : -EPROTO;
}

int session_keep(struct session *s, const void *data, size_t len)
{
	const struct weft_event_header *h = arrive(s, data, len);

	return h ? reorder_keep(&s->ro, h) : -EPROTO;
}

/*
 * The rare half of traced_task(): a task new, moved to another process, or not yet written to
 * the trace. Out of line (cold), so that the hot half is a few compares inlined into each
 * caller instead of a call that saves and restores registers for this.
 */
__attribute__((noinline, cold)) static struct task *
traced_task_update(struct session *s, int32_t pid, int32_t tid, const char *comm)
{
	struct task *t = task_upsert(&s->tt, tid, pid, comm);

	if (t && !t->traced) {
		t->traced = true;
		t->described = false;
	}
	if (t && !t->described)
		trace_describe_thread(s, t);
	return t;
}

static inline struct task *traced_task(struct session *s, int32_t pid, int32_t tid,
				       const char *comm)
{
	struct task *t = task_get(&s->tt, tid);

	/* Hot path (every switch): names change only through exec and rename records. */
	if (t && t->traced && t->described && t->pid == pid)
		return t;
	return traced_task_update(s, pid, tid, comm);
}

static void on_switch(struct session *s, const struct weft_switch_event *e)
{
	struct task *prev = NULL, *next = NULL;

	if (e->prev_traced)
		prev = traced_task(s, e->hdr.pid, e->hdr.tid, e->prev_comm);
	if (e->next_traced)
		next = traced_task(s, e->next_pid, e->next_tid, e->next_comm);
	trace_switch(s, e);
	if (prev)
		task_switch_out(prev, e->hdr.ts, e->preempt, e->prev_state, e->prev_exit_state);
	if (next)
		task_switch_in(next, e->hdr.ts);
}

static void on_waking(struct session *s, const struct weft_waking_event *e)
{
	struct task *t = traced_task(s, e->pid, e->tid, e->comm);
	struct offcpu_stack *stack;
	uint64_t waited;

	trace_waking(s, e);
	if (!t)
		return;
	stack = t->wait_stack;
	waited = task_wake(t, e->hdr.ts);
	if (!waited)
		return;
	if (stack && !offcpu_add(&s->offcpu, stack, t->tid, waited))
		t->st.sampled_offcpu_ns += waited;
	else
		t->st.unsampled_offcpu_ns += waited;
}

static void on_stack(struct session *s, const struct weft_stack_event *e)
{
	struct task *t = task_get(&s->tt, e->hdr.tid);

	if (!t)
		return;
	t->wait_stack = trace_stack(s, e, t->state == TS_BLOCKED);
}

static void on_fork(struct session *s, const struct weft_fork_event *e)
{
	struct process *p;
	struct task *t;

	if (e->child_pid != e->hdr.pid) {
		p = proc_upsert(&s->tt, e->child_pid);
		if (p) {
			struct process *parent = proc_get(&s->tt, e->hdr.pid);

			p->ppid = e->hdr.pid;
			snprintf(p->name, sizeof(p->name), "%s", e->child_comm);
			if (parent)
				memcpy(p->cmdline, parent->cmdline, sizeof(p->cmdline));
			p->described = false;
			trace_describe_process(s, p);
		}
	}
	/* Known already but nameless (its switches came first, e.g. from perf in preload mode):
	 * the fork record names it. */
	t = task_get(&s->tt, e->child_tid);
	if (t && !t->comm[0] && e->child_comm[0])
		t->described = false;
	t = traced_task(s, e->child_pid, e->child_tid, e->child_comm);
	if (t && !t->described)
		trace_describe_thread(s, t);
}

static void on_exec(struct session *s, const struct weft_exec_event *e)
{
	struct process *p = proc_upsert(&s->tt, e->hdr.pid);
	struct task *t;

	if (p) {
		snprintf(p->name, sizeof(p->name), "%s", e->comm);
		snprintf(p->cmdline, sizeof(p->cmdline), "%s", e->filename);
		p->described = false;
		trace_describe_process(s, p);
	}
	/* The new image's map again (it has grown since exec); if the process is gone, the one
	 * read when the record arrived (session_push) stays. */
	sym_proc_load(s->sym, e->hdr.pid);
	if (s->opts.hooks.process_exec)
		s->opts.hooks.process_exec(s->opts.hooks.ctx, e->hdr.pid);
	t = task_upsert(&s->tt, e->hdr.tid, e->hdr.pid, e->comm);
	if (t) {
		t->traced = true;
		t->described = false;
		trace_describe_thread(s, t);
	}
}

static void on_exit_event(struct session *s, const struct weft_exit_event *e)
{
	struct process *p;

	if (!e->group_dead)
		return;
	p = proc_upsert(&s->tt, e->hdr.pid);
	if (p) {
		p->exited = true;
		p->exit_code = e->exit_code;
		p->exit_ts = e->hdr.ts;
	}
	/* Its stacks have all been symbolized by now (they precede the exit in time). */
	sym_proc_forget(s->sym, e->hdr.pid);
	u64map_del(&s->maps_read, e->hdr.pid);
	if (s->opts.hooks.process_exited)
		s->opts.hooks.process_exited(s->opts.hooks.ctx, e->hdr.pid, e->exit_code);
}

static void on_comm(struct session *s, const struct weft_comm_event *e)
{
	struct task *t = task_upsert(&s->tt, e->hdr.tid, e->hdr.pid, e->comm);

	if (t) {
		t->traced = true;
		t->described = false;
		trace_describe_thread(s, t);
	}
}

static void dispatch(void *ctx, const struct weft_event_header *h)
{
	struct session *s = ctx;

	if (!s->first_ts || (h->ts && h->ts < s->first_ts))
		s->first_ts = h->ts;
	if (h->ts > s->last_ts)
		s->last_ts = h->ts;
	switch (h->type) {
	case WEFT_EV_SWITCH:
		on_switch(s, (const void *)h);
		break;
	case WEFT_EV_WAKING:
		on_waking(s, (const void *)h);
		break;
	case WEFT_EV_STACK:
		on_stack(s, (const void *)h);
		break;
	case WEFT_EV_FORK:
		on_fork(s, (const void *)h);
		break;
	case WEFT_EV_EXEC:
		on_exec(s, (const void *)h);
		break;
	case WEFT_EV_EXIT:
		on_exit_event(s, (const void *)h);
		break;
	case WEFT_EV_COMM:
		on_comm(s, (const void *)h);
		break;
	case WEFT_EV_PY_FRAMES:
		trace_py_frames(s, (const void *)h);
		break;
	default:
		for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++) {
			const struct analyze_area *a = analyze_areas[i];

			if (h->type >= a->type_min && h->type <= a->type_max) {
				if (s->area_ok[i])
					a->event(s, s->area_state[i], h);
				return;
			}
		}
		/* A known record no area of this build analyses (e.g. poll records from the
		 * preload shim before the event-loop area exists): counted, not an error. */
		s->unanalysed++;
		break;
	}
}

void session_clock(struct session *s, uint64_t now)
{
	reorder_advance(&s->ro, now);
}

int session_flush(struct session *s, bool all)
{
	reorder_release(&s->ro, all, dispatch, s);
	pf_sched_flush(s->pf);
	return 0;
}

void session_set_losses(struct session *s, const uint64_t losses[WEFT_LOSS_REASON_MAX])
{
	memcpy(s->losses, losses, sizeof(s->losses));
}

void session_set_capture(struct session *s, const char *mode, const char *not_seen)
{
	s->capture_mode = mode;
	s->capture_not_seen = not_seen;
}

void session_set_start(struct session *s, uint64_t ts)
{
	s->first_ts = ts;
}

void session_set_collector_usage(struct session *s, uint64_t cpu_ns, uint64_t max_rss_kb,
				 int nice)
{
	s->collector_cpu_ns = cpu_ns;
	s->collector_max_rss_kb = max_rss_kb;
	s->collector_nice = nice;
}

int session_finish(struct session *s, uint64_t end_ts)
{
	uint64_t k;
	void *v;
	int ret;

	if (s->finished)
		return s->trace_error;
	session_flush(s, true);
	if (end_ts < s->last_ts)
		end_ts = s->last_ts;
	if (!s->first_ts) /* no record, no start: nothing recorded */
		s->first_ts = end_ts;
	for (size_t i = 0; u64map_next(&s->tt.tasks, &i, &k, &v);) {
		struct task *t = v;

		if (t->traced)
			task_finish(t, end_ts);
	}
	for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++)
		if (s->area_ok[i] && analyze_areas[i]->finish)
			analyze_areas[i]->finish(s, s->area_state[i], end_ts);
	s->last_ts = end_ts;
	/* A compressed batch counts once it is written. */
	ret = pf_writer_flush(s->pf);
	s->trace_bytes = pf_writer_bytes(s->pf);
	ret = pf_writer_close(s->pf) ?: ret;
	s->pf = NULL;
	s->finished = true;
	s->trace_error = ret;
	return ret;
}

uint64_t session_trace_bytes(const struct session *s)
{
	return s->pf ? pf_writer_bytes(s->pf) : s->trace_bytes;
}

void session_free(struct session *s)
{
	if (!s)
		return;
	if (s->pf)
		pf_writer_close(s->pf);
	for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++)
		if (s->area_ok[i] && analyze_areas[i]->free)
			analyze_areas[i]->free(s->area_state[i]);
	sym_free(s->sym);
	u64map_free(&s->maps_read);
	py_lines_free(&s->py_lines);
	reorder_free(&s->ro);
	offcpu_free(&s->offcpu);
	stack_cache_free(&s->stack_cache);
	task_table_free(&s->tt);
	free(s);
}
