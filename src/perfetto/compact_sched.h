/* SPDX-License-Identifier: MIT */
/* One CPU's pending compact_sched bundle: switches and wakings as delta-encoded arrays. */
#ifndef WEFT_PERFETTO_COMPACT_SCHED_H
#define WEFT_PERFETTO_COMPACT_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "perfetto/intern.h"
#include "perfetto_trace.pb-c.h"

/*
 * Wire form (FtraceEventBundle.compact_sched, all arrays packed, one entry per event):
 *
 *   switch_timestamp  [t0, t1-t0, t2-t1, ...]   first absolute, then deltas
 *   switch_prev_state / next_pid / next_prio / next_comm_index (into intern_table)
 *   waking_timestamp  [w0, w1-w0, ...]          its own delta stream
 *   waking_pid / target_cpu / prio / comm_index / common_flags
 *   intern_table      ["comm0", "comm1", ...]    this bundle's comm strings
 *
 * A timestamp going backwards is stored as the two's complement of the negative delta, which
 * the trace processor adds back as int64.
 */
struct pf_csched {
	struct pf_intern comms;
	char **table; /* intern_table pointers, rebuilt by pf_csched_fill() */
	size_t table_cap;

	uint64_t sw_last;
	size_t sw_len, sw_cap;
	uint64_t *sw_ts;
	int64_t *sw_prev_state;
	int32_t *sw_next_pid, *sw_next_prio;
	uint32_t *sw_comm;

	uint64_t wk_last;
	size_t wk_len, wk_cap;
	uint64_t *wk_ts;
	int32_t *wk_pid, *wk_target_cpu, *wk_prio;
	uint32_t *wk_comm, *wk_flags;
};

int pf_csched_switch(struct pf_csched *c, uint64_t ts, int64_t prev_state, int32_t next_pid,
		     int32_t next_prio, const char *next_comm);
int pf_csched_waking(struct pf_csched *c, uint64_t ts, int32_t pid, int32_t target_cpu,
		     int32_t prio, const char *comm);
static inline size_t pf_csched_count(const struct pf_csched *c)
{
	return c->sw_len + c->wk_len;
}
/* Points msg at c's arrays; valid until the next call on c. */
int pf_csched_fill(struct pf_csched *c, Perfetto__Protos__FtraceEventBundle__CompactSched *msg);
void pf_csched_reset(struct pf_csched *c);
void pf_csched_free(struct pf_csched *c);

#endif /* WEFT_PERFETTO_COMPACT_SCHED_H */
