/* SPDX-License-Identifier: MIT */
/* Private state of a recording session, shared by the dispatcher, the trace and the summary. */
#ifndef WEFT_SESSION_IMPL_H
#define WEFT_SESSION_IMPL_H

#include <stdio.h>

#include "analyze/offcpu.h"
#include "analyze/reorder.h"
#include "analyze/session.h"
#include "analyze/tasks.h"
#include "perfetto/writer.h"

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
/* A symbolized stack snapshot: Perfetto frames and "function (module)" labels, innermost
 * first, kernel frames (scheduler frames dropped) before user frames. */
#define TRACE_USER_FRAMES_MAX 128
#define TRACE_FRAME_NAME_MAX 512
struct trace_frames {
	size_t n;
	const char *blocked_in;   /* first kernel function that is not the scheduler's */
	struct pf_frame frames[WEFT_KSTACK_MAX + TRACE_USER_FRAMES_MAX];
	const char *labels[WEFT_KSTACK_MAX + TRACE_USER_FRAMES_MAX];
	char names[WEFT_KSTACK_MAX + TRACE_USER_FRAMES_MAX][TRACE_FRAME_NAME_MAX];
};
/* Valid until the next call (one static buffer: the session is single-threaded). */
const struct trace_frames *trace_stack_frames(struct session *s,
					     const struct weft_stack_event *e);
/* Symbolizes an off-CPU stack, writes it as a sample and returns the aggregate it belongs to. */
struct offcpu_stack *trace_stack(struct session *s, const struct weft_stack_event *e,
				 bool io_wait);

/* summary.c: shared by the areas' summary sections. */
void summary_fmt_ns(char *buf, size_t len, uint64_t ns);  /* "1.2ms" */
void summary_json_str(FILE *f, const char *str);           /* a JSON string literal */

#endif
