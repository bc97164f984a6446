/* SPDX-License-Identifier: MIT */
/* Private state of a recording session, shared by the dispatcher, the trace and the summary. */
#ifndef WEFT_SESSION_IMPL_H
#define WEFT_SESSION_IMPL_H

#include "analyze/offcpu.h"
#include "analyze/reorder.h"
#include "analyze/session.h"
#include "analyze/tasks.h"

struct pf_writer;
struct sym;

#define CPU_MAX 1024
#define AREAS_MAX 16

struct session {
	struct session_opts opts;
	struct task_table tt;
	struct offcpu_table offcpu;
	struct reorder ro;
	struct pf_writer *pf;
	struct sym *sym;
	int32_t cpu_current[CPU_MAX];  /* what the trace last put on each CPU, -1 unknown */
	uint64_t first_ts, last_ts;
	uint64_t records[WEFT_EV_TYPE_MAX];
	uint64_t malformed;
	uint64_t losses[WEFT_LOSS_REASON_MAX];
	uint64_t switches;              /* switches written to the trace */
	uint64_t stacks_unwound, stacks_user_frames, stacks_user_truncated;
	uint64_t trace_bytes;
	uint64_t collector_cpu_ns;
	const char *capture_mode;       /* NULL: "bpf" */
	const char *capture_not_seen;   /* NULL: nothing missing */
	uint64_t unanalysed;            /* known records no area of this build analyses */
	int trace_error;
	bool finished;
	void *area_state[AREAS_MAX];
	bool area_ok[AREAS_MAX];
};

/* trace_sched.c: what goes into the Perfetto trace. */
void trace_describe_process(struct session *s, struct process *p);
void trace_describe_thread(struct session *s, struct task *t);
void trace_switch(struct session *s, const struct weft_switch_event *e);
void trace_waking(struct session *s, const struct weft_waking_event *e);
/* Symbolizes an off-CPU stack, writes it as a sample and returns the aggregate it belongs to. */
struct offcpu_stack *trace_stack(struct session *s, const struct weft_stack_event *e,
				 bool io_wait);

#endif
