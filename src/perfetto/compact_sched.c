// SPDX-License-Identifier: MIT
/* One CPU's pending compact_sched bundle: switches and wakings as delta-encoded arrays. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perfetto/compact_sched.h"

/* FtraceEventBundle fields, and CompactSched's (perfetto_trace.proto). */
#define BUNDLE_CPU 1
#define BUNDLE_COMPACT_SCHED 4
#define CS_INTERN_TABLE 5
static const uint8_t cs_field_number[PF_CS_FIELDS] = {
	[PF_CS_SW_TS] = 1,	   [PF_CS_SW_PREV_STATE] = 2, [PF_CS_SW_NEXT_PID] = 3,
	[PF_CS_SW_NEXT_PRIO] = 4,  [PF_CS_SW_NEXT_COMM] = 6,  [PF_CS_WK_TS] = 7,
	[PF_CS_WK_PID] = 8,	   [PF_CS_WK_TARGET_CPU] = 9, [PF_CS_WK_PRIO] = 10,
	[PF_CS_WK_COMM] = 11,
};

/* Events a growth of the fields makes room for, so that capacity is checked seldom. */
#define ROOM_EVENTS 32

/*
 * Room for at least one more event in the fields [from, to): each takes one varint per event.
 * Sets *room to the events that fit in all of them.
 */
static int make_room(struct pf_csched *c, int from, int to, size_t *room)
{
	size_t fit = SIZE_MAX;

	for (int f = from; f < to; f++) {
		struct pf_bytes *b = &c->field[f];

		if (b->cap - b->len < PF_VARINT_MAX &&
		    pf_bytes_grow(b, PF_VARINT_MAX * ROOM_EVENTS))
			return -ENOMEM;
		if ((b->cap - b->len) / PF_VARINT_MAX < fit)
			fit = (b->cap - b->len) / PF_VARINT_MAX;
	}
	*room = fit;
	return 0;
}

/*
 * comm_index() when the cache has not seen this pid with these bytes in this bundle: intern the
 * name and remember it. Out of line (cold), so that a hit is a few compares in the caller.
 */
__attribute__((noinline, cold)) static int
comm_intern(struct pf_csched *c, struct pf_csched_comm *k, int32_t pid, const char *comm,
	    uint32_t *idx)
{
	uint64_t id;
	int err;

	err = pf_intern_get(&c->comms, comm, strnlen(comm, PF_COMM_LEN), &id);
	if (err < 0)
		return err;
	*idx = (uint32_t)(id - 1);
	k->bundle = c->bundle + 1;
	k->pid = pid;
	k->idx = *idx;
	memcpy(k->comm, comm, sizeof(k->comm));
	return 0;
}

/*
 * Index of pid's comm in this bundle's intern_table (0-based, unlike interned ids). A switch or
 * wakeup names a handful of tasks over and over: a per-pid cache saves hashing the name.
 */
static inline int comm_index(struct pf_csched *c, int32_t pid, const char *comm, uint32_t *idx)
{
	static const char none[PF_COMM_LEN];
	struct pf_csched_comm *k = &c->comm_cache[(uint32_t)pid % PF_CSCHED_COMM_CACHE];

	if (!comm)
		comm = none;
	/* tags are bundle + 1: a zeroed entry matches nothing */
	if (k->bundle == c->bundle + 1 && k->pid == pid &&
	    !memcmp(k->comm, comm, sizeof(k->comm))) {
		*idx = k->idx;
		return 0;
	}
	return comm_intern(c, k, pid, comm, idx);
}

/* int32 and int64 fields encode negative values sign-extended to 64 bits. */
static inline void put_signed(struct pf_bytes *b, int64_t v)
{
	pf_bytes_varint(b, (uint64_t)v);
}

int pf_csched_switch(struct pf_csched *c, uint64_t ts, int64_t prev_state, int32_t next_pid,
		     int32_t next_prio, const char *next_comm)
{
	uint32_t idx;
	int err;

	if (!c->sw_room) {
		err = make_room(c, PF_CS_SW_TS, PF_CS_SW_NEXT_COMM + 1, &c->sw_room);
		if (err)
			return err;
	}
	err = comm_index(c, next_pid, next_comm, &idx);
	if (err)
		return err;
	c->sw_room--;
	pf_bytes_varint(&c->field[PF_CS_SW_TS], ts - (c->sw_len ? c->sw_last : 0));
	c->sw_last = ts;
	put_signed(&c->field[PF_CS_SW_PREV_STATE], prev_state);
	put_signed(&c->field[PF_CS_SW_NEXT_PID], next_pid);
	put_signed(&c->field[PF_CS_SW_NEXT_PRIO], next_prio);
	pf_bytes_varint(&c->field[PF_CS_SW_NEXT_COMM], idx);
	c->sw_len++;
	return 0;
}

int pf_csched_waking(struct pf_csched *c, uint64_t ts, int32_t pid, int32_t target_cpu,
		     int32_t prio, const char *comm)
{
	uint32_t idx;
	int err;

	if (!c->wk_room) {
		err = make_room(c, PF_CS_WK_TS, PF_CS_WK_COMM + 1, &c->wk_room);
		if (err)
			return err;
	}
	err = comm_index(c, pid, comm, &idx);
	if (err)
		return err;
	c->wk_room--;
	pf_bytes_varint(&c->field[PF_CS_WK_TS], ts - (c->wk_len ? c->wk_last : 0));
	c->wk_last = ts;
	put_signed(&c->field[PF_CS_WK_PID], pid);
	put_signed(&c->field[PF_CS_WK_TARGET_CPU], target_cpu);
	put_signed(&c->field[PF_CS_WK_PRIO], prio);
	pf_bytes_varint(&c->field[PF_CS_WK_COMM], idx);
	c->wk_len++;
	return 0;
}

/* Bytes of a length-delimited field with a one-byte key. */
static size_t delimited_len(size_t len)
{
	return 1 + pf_varint_len(len) + len;
}

static size_t compact_sched_len(const struct pf_csched *c)
{
	size_t n = 0;

	for (size_t i = 0; i < pf_intern_count(&c->comms); i++)
		n += delimited_len(c->comms.ents[i].len);
	for (int f = 0; f < PF_CS_FIELDS; f++)
		if (c->field[f].len)
			n += delimited_len(c->field[f].len);
	return n;
}

static void put_delimited(struct pf_bytes *out, uint8_t field, const void *data, size_t len)
{
	out->p[out->len++] = PF_TAG_BYTES(field);
	pf_bytes_varint(out, len);
	memcpy(out->p + out->len, data, len);
	out->len += len;
}

int pf_csched_encode(const struct pf_csched *c, uint32_t cpu, struct pf_bytes *out)
{
	size_t cs_len = compact_sched_len(c);

	if (pf_bytes_reserve(out, 1 + PF_VARINT_MAX + 1 + PF_VARINT_MAX + cs_len))
		return -ENOMEM;
	out->p[out->len++] = PF_TAG_VARINT(BUNDLE_CPU);
	pf_bytes_varint(out, cpu);
	out->p[out->len++] = PF_TAG_BYTES(BUNDLE_COMPACT_SCHED);
	pf_bytes_varint(out, cs_len);
	for (size_t i = 0; i < pf_intern_count(&c->comms); i++)
		put_delimited(out, CS_INTERN_TABLE, pf_intern_key(&c->comms, i + 1),
			      c->comms.ents[i].len);
	for (int f = 0; f < PF_CS_FIELDS; f++)
		if (c->field[f].len)
			put_delimited(out, cs_field_number[f], c->field[f].p, c->field[f].len);
	return 0;
}

void pf_csched_reset(struct pf_csched *c)
{
	pf_intern_clear(&c->comms);
	c->bundle++;
	/* sw_room and wk_room stay true: emptying the fields only adds room */
	for (int f = 0; f < PF_CS_FIELDS; f++)
		c->field[f].len = 0;
	c->sw_len = 0;
	c->wk_len = 0;
	c->sw_last = 0;
	c->wk_last = 0;
}

void pf_csched_free(struct pf_csched *c)
{
	pf_intern_free(&c->comms);
	for (int f = 0; f < PF_CS_FIELDS; f++)
		pf_bytes_free(&c->field[f]);
	memset(c, 0, sizeof(*c));
}
