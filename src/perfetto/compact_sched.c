// SPDX-License-Identifier: MIT
/* One CPU's pending compact_sched bundle: switches and wakings as delta-encoded arrays. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "perfetto/compact_sched.h"

/* The UI reads common_flags only to tell a waking from task context (1) from an interrupt. */
#define PF_WAKING_FLAGS 1

static int grow(void **p, size_t ncap, size_t elem)
{
	void *np = realloc(*p, ncap * elem);

	if (!np)
		return -ENOMEM;
	*p = np;
	return 0;
}

static int switch_grow(struct pf_csched *c)
{
	size_t ncap = c->sw_cap ? c->sw_cap * 2 : 256;
	int err = 0;

	err = err ?: grow((void **)&c->sw_ts, ncap, sizeof(*c->sw_ts));
	err = err ?: grow((void **)&c->sw_prev_state, ncap, sizeof(*c->sw_prev_state));
	err = err ?: grow((void **)&c->sw_next_pid, ncap, sizeof(*c->sw_next_pid));
	err = err ?: grow((void **)&c->sw_next_prio, ncap, sizeof(*c->sw_next_prio));
	err = err ?: grow((void **)&c->sw_comm, ncap, sizeof(*c->sw_comm));
	/* arrays that grew keep their contents; the capacity only counts once all did */
	if (!err)
		c->sw_cap = ncap;
	return err;
}

static int waking_grow(struct pf_csched *c)
{
	size_t ncap = c->wk_cap ? c->wk_cap * 2 : 256;
	int err = 0;

	err = err ?: grow((void **)&c->wk_ts, ncap, sizeof(*c->wk_ts));
	err = err ?: grow((void **)&c->wk_pid, ncap, sizeof(*c->wk_pid));
	err = err ?: grow((void **)&c->wk_target_cpu, ncap, sizeof(*c->wk_target_cpu));
	err = err ?: grow((void **)&c->wk_prio, ncap, sizeof(*c->wk_prio));
	err = err ?: grow((void **)&c->wk_comm, ncap, sizeof(*c->wk_comm));
	err = err ?: grow((void **)&c->wk_flags, ncap, sizeof(*c->wk_flags));
	if (!err)
		c->wk_cap = ncap;
	return err;
}

/* Index of comm in this bundle's intern_table (0-based, unlike interned ids). */
static int comm_index(struct pf_csched *c, const char *comm, uint32_t *idx)
{
	uint64_t id;
	int err;

	if (!comm)
		comm = "";
	err = pf_intern_get(&c->comms, comm, strlen(comm), &id);
	if (err < 0)
		return err;
	*idx = (uint32_t)(id - 1);
	return 0;
}

int pf_csched_switch(struct pf_csched *c, uint64_t ts, int64_t prev_state, int32_t next_pid,
		     int32_t next_prio, const char *next_comm)
{
	uint32_t idx;
	size_t i;
	int err;

	if (c->sw_len == c->sw_cap) {
		err = switch_grow(c);
		if (err)
			return err;
	}
	err = comm_index(c, next_comm, &idx);
	if (err)
		return err;
	i = c->sw_len++;
	c->sw_ts[i] = ts - (i ? c->sw_last : 0);
	c->sw_last = ts;
	c->sw_prev_state[i] = prev_state;
	c->sw_next_pid[i] = next_pid;
	c->sw_next_prio[i] = next_prio;
	c->sw_comm[i] = idx;
	return 0;
}

int pf_csched_waking(struct pf_csched *c, uint64_t ts, int32_t pid, int32_t target_cpu,
		     int32_t prio, const char *comm)
{
	uint32_t idx;
	size_t i;
	int err;

	if (c->wk_len == c->wk_cap) {
		err = waking_grow(c);
		if (err)
			return err;
	}
	err = comm_index(c, comm, &idx);
	if (err)
		return err;
	i = c->wk_len++;
	c->wk_ts[i] = ts - (i ? c->wk_last : 0);
	c->wk_last = ts;
	c->wk_pid[i] = pid;
	c->wk_target_cpu[i] = target_cpu;
	c->wk_prio[i] = prio;
	c->wk_comm[i] = idx;
	c->wk_flags[i] = PF_WAKING_FLAGS;
	return 0;
}

int pf_csched_fill(struct pf_csched *c, Perfetto__Protos__FtraceEventBundle__CompactSched *msg)
{
	size_t n = pf_intern_count(&c->comms), i;
	char **table;

	if (n > c->table_cap) {
		table = realloc(c->table, n * sizeof(*table));
		if (!table)
			return -ENOMEM;
		c->table = table;
		c->table_cap = n;
	}
	/* the arena no longer moves: every comm of the bundle is in */
	for (i = 0; i < n; i++)
		c->table[i] = (char *)pf_intern_key(&c->comms, i + 1);
	msg->n_intern_table = n;
	msg->intern_table = c->table;

	msg->n_switch_timestamp = c->sw_len;
	msg->switch_timestamp = c->sw_ts;
	msg->n_switch_prev_state = c->sw_len;
	msg->switch_prev_state = c->sw_prev_state;
	msg->n_switch_next_pid = c->sw_len;
	msg->switch_next_pid = c->sw_next_pid;
	msg->n_switch_next_prio = c->sw_len;
	msg->switch_next_prio = c->sw_next_prio;
	msg->n_switch_next_comm_index = c->sw_len;
	msg->switch_next_comm_index = c->sw_comm;

	msg->n_waking_timestamp = c->wk_len;
	msg->waking_timestamp = c->wk_ts;
	msg->n_waking_pid = c->wk_len;
	msg->waking_pid = c->wk_pid;
	msg->n_waking_target_cpu = c->wk_len;
	msg->waking_target_cpu = c->wk_target_cpu;
	msg->n_waking_prio = c->wk_len;
	msg->waking_prio = c->wk_prio;
	msg->n_waking_comm_index = c->wk_len;
	msg->waking_comm_index = c->wk_comm;
	msg->n_waking_common_flags = c->wk_len;
	msg->waking_common_flags = c->wk_flags;
	return 0;
}

void pf_csched_reset(struct pf_csched *c)
{
	pf_intern_clear(&c->comms);
	c->sw_len = 0;
	c->wk_len = 0;
	c->sw_last = 0;
	c->wk_last = 0;
}

void pf_csched_free(struct pf_csched *c)
{
	pf_intern_free(&c->comms);
	free(c->table);
	free(c->sw_ts);
	free(c->sw_prev_state);
	free(c->sw_next_pid);
	free(c->sw_next_prio);
	free(c->sw_comm);
	free(c->wk_ts);
	free(c->wk_pid);
	free(c->wk_target_cpu);
	free(c->wk_prio);
	free(c->wk_comm);
	free(c->wk_flags);
	memset(c, 0, sizeof(*c));
}
