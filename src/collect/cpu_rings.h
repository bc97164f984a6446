/* SPDX-License-Identifier: MIT */
/* The per-CPU BPF ring buffers, read in place: records stay where the kernel wrote them until
 * weft is done with them. */
#ifndef WEFT_COLLECT_CPU_RINGS_H
#define WEFT_COLLECT_CPU_RINGS_H

#include <stddef.h>
#include <stdint.h>

#include "collect/collector.h"

struct cpu_rings;

/* fds: n BPF_MAP_TYPE_RINGBUF maps of ring_bytes each. 0 or a negative errno. */
int cpu_rings_open(struct cpu_rings **out, const int *fds, int n, size_t ring_bytes);
/* Hands each committed record not handed out before to fn, ring after ring, each ring in the
 * order written. The records stay valid, and their space taken, until cpu_rings_release().
 * Returns the number of records. */
int cpu_rings_read(struct cpu_rings *cr, collector_event_fn fn, void *ctx);
/*
 * One ring record to fn as the records it holds: one, or several back to back (a batch of
 * switches and wakeups, bpf/sched_batch.bpf.h), each sized by its header. A size that does not
 * fit hands the rest over as one record, for the decoder to count as malformed. Returns how
 * many fn got.
 */
int cpu_rings_split(collector_event_fn fn, void *ctx, const void *rec, size_t len);
/* Gives the space of every record handed out back to the kernel. */
void cpu_rings_release(struct cpu_rings *cr);
/* Waits up to timeout_ms for a record submitted with a forced wakeup: 1 if one came, 0 if
 * the time ran out or a signal came, or a negative errno. Nothing is read. */
int cpu_rings_wait(struct cpu_rings *cr, int timeout_ms);
/* The most bytes waiting in one ring now, not yet handed out. */
uint64_t cpu_rings_waiting(struct cpu_rings *cr);
/* The most bytes (records and their headers) handed out from one ring since the last call. */
uint64_t cpu_rings_peak(struct cpu_rings *cr);
void cpu_rings_close(struct cpu_rings *cr);

#endif
