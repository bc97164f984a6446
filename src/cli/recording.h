/* SPDX-License-Identifier: MIT */
/* What `weft run` and `weft record` share: options, the capture loop, the end-of-run report. */
#ifndef WEFT_RECORDING_H
#define WEFT_RECORDING_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where records come from. AUTO: BPF when running as root, else the preload shim. */
enum record_mode { RECORD_MODE_AUTO = 0, RECORD_MODE_BPF, RECORD_MODE_PRELOAD, RECORD_MODE_BOTH };

struct record_opts {
	const char *output;
	enum record_mode mode;
	bool force;
	const char *summary_json;
	int verbose;
	size_t ringbuf_bytes;
	double stack_rate;      /* off-CPU stacks per second per thread; 0: none */
	double duration_s;      /* 0: until the target exits or Ctrl-C */
	int top_stacks;
	int top_threads; /* -1: all */
	uint64_t stall_threshold_ns; /* event loops; 0: default */
	bool no_locks;          /* no lock contention capture */
	double actor_budget;    /* percent of one CPU actor probes may cost; 0: unlimited */
	bool compress;          /* deflate the trace (TracePacket.compressed_packets) */
};

/* getopt_long entries both commands accept; codes >= 0x100 are long-only. */
#define RECORD_SHORTOPTS "o:fvhd:"
extern const struct option record_longopts[];
void record_opts_init(struct record_opts *o);
/* Handles one option of the common set. Returns 1 if it was one, 0 if not, -1 if its value
 * was bad (already reported). */
int record_parse_common(struct record_opts *o, int opt, const char *arg);
void record_options_help(void);

struct recording;

/* The mode AUTO stands for here. */
enum record_mode record_mode_resolve(enum record_mode m);
const char *record_mode_name(enum record_mode m);

/* Opens the output, loads the probes. Returns 0 or an exit code (already reported). */
int recording_start(struct recording **out, const struct record_opts *o);
/* Traces a process that exists now (names from /proc). 0 or -errno. With cmdline, it is
 * `weft run`'s child, which the kernel filter takes at recording_pre_exec(). */
int recording_attach(struct recording *r, pid_t pid, const char *cmdline);
/* `weft run`: the attached child is about to exec path; per-binary probes go in first, then
 * the child into the kernel filter. 0 or -errno. */
int recording_pre_exec(struct recording *r, pid_t pid, const char *path);
/* Runs until `should_stop(ctx)` is true, the duration ends or a signal arrives. Returns the
 * signal that stopped it, or 0. */
int recording_loop(struct recording *r, bool (*should_stop)(void *ctx, struct recording *r),
		   void *ctx);
/* Drain the rest, write trace and summary. Returns 0 or 1 (an error was reported). */
int recording_finish(struct recording *r);
void recording_free(struct recording *r);
/* Preload and both modes: the ring directory for $WEFT_PRELOAD_DIR and the ring size, or NULL. */
const char *recording_preload_dir(const struct recording *r);
size_t recording_preload_ring_size(const struct recording *r);

#endif
