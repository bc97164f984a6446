/* SPDX-License-Identifier: MIT */
/* Event-loop analysis: loop threads, iterations, stalls with their culprits, blocking calls. */
#ifndef WEFT_ANALYZE_LOOPS_H
#define WEFT_ANALYZE_LOOPS_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/area.h"
#include "perfetto/writer.h"

/* A thread is a loop thread once it has returned from this many poll calls. */
#define LOOPS_MIN_POLLS 2

extern const struct analyze_area loops_area;

/* The value a bucket of the BPF iteration histogram stands for (its middle). */
uint64_t loops_hist_value(unsigned bucket);

/*
 * Which frame of a stack (innermost first, kernel frames first) names the code to blame:
 * a JIT frame from a perf map that is the program's own code (not a V8 builtin or stub), else
 * the innermost user frame outside shared libraries and the vDSO, else the innermost named
 * user frame, else the innermost frame. Returns its index, or -1 for an empty stack.
 */
int loops_culprit_frame(const struct pf_frame *frames, size_t n, size_t nkernel);

/* libuv's loop phase a stack is in ("timers", "poll", "check", ...), or NULL. */
const char *loops_uv_phase(const struct pf_frame *frames, size_t n);

/* "nanosleep", "read", ... for an x86-64 syscall number; NULL if not known. */
const char *loops_syscall_name(unsigned nr);

#endif
