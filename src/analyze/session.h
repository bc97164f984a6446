/* SPDX-License-Identifier: MIT */
/* One recording: records in, Perfetto trace and summary out. Knows nothing of BPF or the CLI. */
#ifndef WEFT_SESSION_H
#define WEFT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/events.h"

struct session;

struct session_hooks {
	/* The last thread of a traced process exited (its final switches have been seen). */
	void (*process_exited)(void *ctx, int32_t pid, int32_t exit_code);
	/* A traced process exec'd (per-binary probes may need attaching). */
	void (*process_exec)(void *ctx, int32_t pid);
	/* Something the user should hear about while recording (a deadlock): one message,
	 * possibly several lines, no trailing newline. */
	void (*notice)(void *ctx, const char *text);
	void *ctx;
};

struct session_opts {
	int trace_fd;              /* where the Perfetto trace goes */
	uint64_t reorder_window_ns;
	bool compress;             /* deflate the trace's packets */
	uint64_t stall_threshold_ns;   /* event loops: iterations this long are stalls; 0: 50 ms */
	struct session_hooks hooks;
};

struct session *session_new(const struct session_opts *opts);
/* A process (and its threads) that existed before the recording started. */
int session_add_process(struct session *s, int32_t pid, int32_t ppid, const char *name,
			const char *cmdline);
int session_add_thread(struct session *s, int32_t pid, int32_t tid, const char *comm);
/* One raw record from a ring, copied. Returns 0, or -EPROTO for a malformed record (counted). */
int session_push(struct session *s, const void *data, size_t len);
/* The same, for a record the caller keeps valid until the next session_flush() returns. */
int session_keep(struct session *s, const void *data, size_t len);
/* The clock reached `now` (BOOTTIME) and every record stamped before it has been pushed:
 * lets a quiet recording (a stuck process sends nothing) release what it holds. */
void session_clock(struct session *s, uint64_t now);
/* Analyse and write out what is old enough to be in order (everything if `all`). */
int session_flush(struct session *s, bool all);
void session_set_losses(struct session *s, const uint64_t losses[WEFT_LOSS_REASON_MAX]);
/* CPU time the collector spent while recording (reported per event in the summary) and its
 * peak memory, so both can be watched in benchmarks. */
/* How the records were captured ("bpf" when never called) and, if some kinds of data cannot be
 * captured that way, what is missing: both go into the summary. Strings must outlive s. */
void session_set_capture(struct session *s, const char *mode, const char *not_seen);
/* nice: the priority weft was started at, for the hint when it fell behind. */
void session_set_collector_usage(struct session *s, uint64_t cpu_ns, uint64_t max_rss_kb,
				 int nice);
/* The recording starts now (CLOCK_BOOTTIME): its duration counts from here, not from its first
 * record, which a quiet process may send late or never. */
void session_set_start(struct session *s, uint64_t ts);
/* Close open intervals at end_ts, finish and close the trace. Returns the first write error. */
int session_finish(struct session *s, uint64_t end_ts);
void session_free(struct session *s);

/* After session_finish(). */
void session_summary_text(struct session *s, FILE *f, int max_stacks, int max_threads);
void session_summary_json(struct session *s, FILE *f);
uint64_t session_trace_bytes(const struct session *s);

#endif
