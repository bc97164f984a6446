/* SPDX-License-Identifier: MIT */
/* Streaming Perfetto trace writer: packets go out as they are ready, memory stays bounded. */
#ifndef WEFT_PERFETTO_WRITER_H
#define WEFT_PERFETTO_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfetto/compact_sched.h" /* PF_COMM_LEN */

/*
 * All timestamps are CLOCK_BOOTTIME nanoseconds. All packets use one trusted sequence id; the
 * first packet clears incremental state, interned ids start at 1. Every call returns 0 or a
 * negative errno (the first write error sticks and is returned by every later call and by
 * pf_writer_close()). A file cut after any packet is still a valid trace.
 */
struct pf_writer;

struct pf_writer *pf_writer_new(int fd);          /* does not take ownership of fd */
int pf_writer_close(struct pf_writer *w);          /* flushes, frees; returns first error */
uint64_t pf_writer_bytes(const struct pf_writer *w); /* bytes of trace emitted so far */
/* Writes out pending scheduling bundles and the userspace buffer, so the file is whole. */
int pf_writer_flush(struct pf_writer *w);
/*
 * Interned entries (names, frames, callstacks, ...) kept before the writer clears incremental
 * state and interns afresh (default PF_INTERN_LIMIT in writer.c). Mainly for tests.
 */
int pf_writer_set_intern_limit(struct pf_writer *w, size_t max_entries);

/*
 * Packets from now on are deflated in batches of ~64 KiB into TracePacket.compressed_packets
 * (Perfetto v20.1's trace processor reads them): scheduling data shrinks to about a third. A
 * batch is written whole, so a trace cut short is still valid; pf_writer_bytes() counts a
 * batch once it is written (pf_writer_flush()). Off by default: on a context-switch-heavy
 * recording it costs ~30 ns of collector CPU per record, more than the smaller writes save.
 */
int pf_writer_set_compression(struct pf_writer *w, bool on);

/* --- metadata ---------------------------------------------------------------------------- */
int pf_system_info(struct pf_writer *w, const char *sysname, const char *release,
		   const char *machine);
int pf_process(struct pf_writer *w, int32_t pid, int32_t ppid, const char *name,
	       const char *cmdline);
int pf_thread(struct pf_writer *w, int32_t tid, int32_t pid, const char *name);

/* --- scheduling: compact_sched bundles, buffered per CPU --------------------------------- */
/* prev_state in the kernel's trace encoding: 0 R, 1 S, 2 D, 4 T, ..., 0x100 R+ (preempted).
 * Comms are PF_COMM_LEN-byte buffers, as in the kernel and the records (all bytes are read). */
int pf_sched_switch(struct pf_writer *w, uint32_t cpu, uint64_t ts, int64_t prev_state,
		    int32_t next_pid, int32_t next_prio, const char *next_comm);
/* The waker is whatever pf_sched_switch last put on `cpu`. */
int pf_sched_waking(struct pf_writer *w, uint32_t cpu, uint64_t ts, int32_t pid,
		    int32_t target_cpu, int32_t prio, const char *comm);
/* "Blocked function" in the UI; emitted after the blocking switch. */
int pf_sched_blocked_reason(struct pf_writer *w, uint32_t cpu, uint64_t ts, int32_t pid,
			    const char *caller, bool io_wait);
/* Write out buffered scheduling bundles (also done automatically when a bundle is full). */
int pf_sched_flush(struct pf_writer *w);

/* --- stacks ------------------------------------------------------------------------------ */
struct pf_frame {
	const char *function;   /* NULL: unknown (the UI shows the mapping + rel_pc) */
	const char *mapping;    /* file path or "[kernel.kallsyms]"; NULL: "[unknown]" */
	uint64_t rel_pc;        /* pc relative to the mapping's file */
};
/*
 * Interns a callstack (frames[0] = innermost) and returns its iid (> 0), or 0 on error.
 * The iid stays usable until the writer next clears incremental state (see
 * pf_writer_set_intern_limit()); after that pf_perf_sample() returns -ESTALE for it and the
 * stack has to be interned again. Calling pf_callstack() right before each sample is always safe
 * (a known stack costs a hash lookup and writes nothing).
 */
uint64_t pf_callstack(struct pf_writer *w, const struct pf_frame *frames, size_t n);
enum pf_cpu_mode { PF_MODE_UNKNOWN = 0, PF_MODE_KERNEL = 1, PF_MODE_USER = 2 };
/* callstack_iid 0: a sample without a stack. */
int pf_perf_sample(struct pf_writer *w, uint64_t ts, uint32_t cpu, int32_t pid, int32_t tid,
		   uint64_t callstack_iid, enum pf_cpu_mode mode);

/* --- tracks, slices, flows, counters ----------------------------------------------------- */
/* Returns a track uuid (> 0), or 0 on error. A thread track merges with scheduling data. */
uint64_t pf_track_thread(struct pf_writer *w, int32_t pid, int32_t tid, const char *name);
uint64_t pf_track_process(struct pf_writer *w, int32_t pid, const char *name);
uint64_t pf_track_child(struct pf_writer *w, uint64_t parent_uuid, const char *name);
uint64_t pf_track_counter(struct pf_writer *w, uint64_t parent_uuid, const char *name);

enum pf_arg_type { PF_ARG_INT, PF_ARG_UINT, PF_ARG_DOUBLE, PF_ARG_STRING, PF_ARG_POINTER };
struct pf_arg {
	const char *name;
	enum pf_arg_type type;
	union {
		int64_t i;
		uint64_t u;
		double d;
		const char *s;
	};
};
/* Slices on one track must nest. flow ids connect slices across tracks (arrows). */
int pf_slice_begin(struct pf_writer *w, uint64_t track, uint64_t ts, const char *name,
		   const struct pf_arg *args, size_t nargs, const uint64_t *flows, size_t nflows,
		   const uint64_t *terminating_flows, size_t nterm);
int pf_slice_end(struct pf_writer *w, uint64_t track, uint64_t ts);
int pf_instant(struct pf_writer *w, uint64_t track, uint64_t ts, const char *name,
	       const struct pf_arg *args, size_t nargs);
int pf_counter(struct pf_writer *w, uint64_t track, uint64_t ts, double value);

#endif /* WEFT_PERFETTO_WRITER_H */
