/* SPDX-License-Identifier: MIT */
/* One CPU's pending compact_sched bundle, kept already encoded. */
#ifndef WEFT_PERFETTO_COMPACT_SCHED_H
#define WEFT_PERFETTO_COMPACT_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "perfetto/intern.h"
#include "perfetto/wire.h"

/*
 * Wire form (FtraceEventBundle.compact_sched, all arrays packed, one entry per event):
 *
 *   switch_timestamp  [t0, t1-t0, t2-t1, ...]   first absolute, then deltas
 *   switch_prev_state / next_pid / next_prio / next_comm_index (into intern_table)
 *   waking_timestamp  [w0, w1-w0, ...]          its own delta stream
 *   waking_pid / target_cpu / prio / comm_index
 *   intern_table      ["comm0", "comm1", ...]    this bundle's comm strings
 *
 * Each array is kept as the varint bytes of its packed field, appended to as events come, so
 * flushing a bundle is a few copies: at a few hundred thousand events a second, building
 * protobuf-c arrays and packing them cost the collector a fifth of its time.
 * waking_common_flags is left out: the trace processor reads it only to tell wakeups from
 * interrupt context, which BPF cannot tell here (the preempt count is a per-CPU variable,
 * reachable only with KALLSYMS_ALL), and without it says "unknown" rather than a guess.
 * A timestamp going backwards is stored as the two's complement of the negative delta, which
 * the trace processor adds back as int64.
 */
enum pf_csched_field {
	PF_CS_SW_TS,
	PF_CS_SW_PREV_STATE,
	PF_CS_SW_NEXT_PID,
	PF_CS_SW_NEXT_PRIO,
	PF_CS_SW_NEXT_COMM,
	PF_CS_WK_TS,
	PF_CS_WK_PID,
	PF_CS_WK_TARGET_CPU,
	PF_CS_WK_PRIO,
	PF_CS_WK_COMM,
	PF_CS_FIELDS,
};

/*
 * A comm as the kernel keeps it: PF_COMM_LEN bytes, NUL-terminated unless all are used. The
 * writer reads all of them, so a name of a few bytes must come in a buffer of this size.
 */
#define PF_COMM_LEN 16

/*
 * The comm a pid last had in this bundle, and its intern_table index. The comm is kept as its
 * raw bytes (whatever follows the NUL included) so that a hit is two 8-byte compares: the
 * kernel pads a task's name with zeros, so a task sends the same bytes every time.
 */
struct pf_csched_comm {
	int32_t pid;
	uint32_t idx;
	uint64_t bundle; /* valid in the bundle numbered one less */
	uint64_t comm[PF_COMM_LEN / 8];
};

#define PF_CSCHED_COMM_CACHE 64

struct pf_csched {
	struct pf_intern comms;
	struct pf_csched_comm comm_cache[PF_CSCHED_COMM_CACHE];
	uint64_t bundle; /* bundles flushed so far */
	uint64_t sw_last, wk_last;
	size_t sw_len, wk_len;
	/* Switches (wakings) that still fit in every one of their fields without a capacity
	 * check: one compare per event instead of one per field. */
	size_t sw_room, wk_room;
	struct pf_bytes field[PF_CS_FIELDS];
};

/* Comms are PF_COMM_LEN-byte buffers (NULL for none). */
int pf_csched_switch(struct pf_csched *c, uint64_t ts, int64_t prev_state, int32_t next_pid,
		     int32_t next_prio, const char *next_comm);
int pf_csched_waking(struct pf_csched *c, uint64_t ts, int32_t pid, int32_t target_cpu,
		     int32_t prio, const char *comm);
static inline size_t pf_csched_count(const struct pf_csched *c)
{
	return c->sw_len + c->wk_len;
}
/* Appends the FtraceEventBundle (cpu, compact_sched) of c's events to out. */
int pf_csched_encode(const struct pf_csched *c, uint32_t cpu, struct pf_bytes *out);
void pf_csched_reset(struct pf_csched *c);
void pf_csched_free(struct pf_csched *c);

#endif /* WEFT_PERFETTO_COMPACT_SCHED_H */
