/* SPDX-License-Identifier: MIT */
/* Private state of a recording session, shared by the dispatcher, the trace and the summary. */
#ifndef WEFT_SESSION_IMPL_H
#define WEFT_SESSION_IMPL_H

#include <stdio.h>

#include "analyze/offcpu.h"
#include "analyze/pylines.h"
#include "analyze/reorder.h"
#include "analyze/session.h"
#include "analyze/stack_cache.h"
#include "analyze/tasks.h"
#include "perfetto/writer.h"

struct sym;
struct sym_loc;

#define CPU_MAX 1024
#define AREAS_MAX 16
#define PY_PENDING_SLOTS 64

/* A CPython thread's Python frames, waiting for the stack record of the same CPU, thread and
 * time that follows them. */
struct py_pending {
	uint64_t ts;
	int32_t tid;      /* 0: empty */
	uint32_t cpu;
	struct weft_py_frames py;
};

struct session {
	struct session_opts opts;
	struct task_table tt;
	struct offcpu_table offcpu;
	struct stack_cache stack_cache; /* off-CPU stacks symbolized, by address */
	struct reorder ro;
	struct pf_writer *pf;
	struct sym *sym;
	struct u64map maps_read;        /* pids whose current memory map has been read */
	int32_t cpu_current[CPU_MAX];  /* what the trace last put on each CPU, -1 unknown */
	struct py_pending py_pending[PY_PENDING_SLOTS]; /* by CPU */
	struct py_lines py_lines;       /* Python functions' line tables, read once each */
	uint64_t first_ts, last_ts;
	uint64_t records[WEFT_EV_TYPE_MAX];
	uint64_t malformed;
	uint64_t losses[WEFT_LOSS_REASON_MAX];
	uint64_t switches;              /* switches written to the trace */
	uint64_t stacks_unwound, stacks_user_frames, stacks_user_truncated;
	uint64_t trace_bytes;
	uint64_t collector_cpu_ns;
	uint64_t collector_max_rss_kb;
	int collector_nice;             /* the priority weft was started at */
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
void trace_py_frames(struct session *s, const struct weft_py_frames_event *e);
#define STACK_USER_FRAMES_MAX 128
#define STACK_FRAME_NAME_MAX 512
#define STACK_FRAMES_MAX (WEFT_KSTACK_MAX + STACK_USER_FRAMES_MAX)

/* A symbolized stack record: kernel frames first (innermost first), then user frames. */
struct stack_syms {
	struct pf_frame frames[STACK_FRAMES_MAX];  /* for pf_callstack() */
	const char *labels[STACK_FRAMES_MAX];      /* "function (module)" */
	char names[STACK_FRAMES_MAX][STACK_FRAME_NAME_MAX];
	size_t n;
	size_t nkernel;            /* frames[0..nkernel) are kernel frames */
	const char *blocked_in;    /* innermost named kernel frame below the scheduler */
};
/*
 * True if the frame is in weft's own code inside the traced process (the preload shim's
 * wrappers and its thread trampoline): instrumentation, not the program, so stacks shown to the
 * user leave it out. The shim calls the real function from its wrapper, so its frames sit
 * between libc's and the program's (and outside the thread function), not only at one end;
 * dropping them keeps the program's call site, which is a frame of its own.
 */
bool trace_frame_is_weft(const struct sym_loc *loc);
/* The symbol of a user pc (lookup: the address to look up, pc - 1 for a return address). An
 * address in no mapping known reads the process's map again, once; if still unknown, its
 * rel_pc is the address itself. 0 or -errno; *loc is filled either way. */
int trace_resolve_user(struct session *s, int32_t pid, uint64_t pc, uint64_t lookup,
		       struct sym_loc *loc);
/* "function (module)", or "0xoffset (module)" for a frame without a name. Returns buf. */
const char *trace_frame_label(char *buf, size_t len, const struct sym_loc *loc);
/* Symbolizes a stack record, weft's own frames dropped. The result is valid until the next
 * call. */
const struct stack_syms *trace_stack_syms(struct session *s, const struct weft_stack_event *e);
/* The same with the thread's Python frames given (NULL: none): in place of the interpreter's. */
const struct stack_syms *trace_stack_syms_py(struct session *s, const struct weft_stack_event *e,
					     const struct weft_py_frames *py);
/* Symbolizes an off-CPU stack, writes it as a sample and returns the aggregate it belongs to. */
struct offcpu_stack *trace_stack(struct session *s, const struct weft_stack_event *e,
				 bool io_wait);

/* summary.c: shared by the areas' summary sections. */
void summary_fmt_ns(char *buf, size_t len, uint64_t ns);  /* "1.2ms" */
void summary_json_str(FILE *f, const char *str);           /* a JSON string literal */

#endif
