/* SPDX-License-Identifier: MIT */
/* Actor analysis state: per actor (task, channel, loop) depth, waits and handler times. */
#ifndef WEFT_ANALYZE_ACTORS_H
#define WEFT_ANALYZE_ACTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/hist.h"
#include "analyze/u64map.h"

enum actor_kind {
	ACTOR_KIND_ACTOR = 0,
	ACTOR_KIND_TASK = 1,
	ACTOR_KIND_CHANNEL = 2,
	ACTOR_KIND_LOOP = 3,
};

#define ACTOR_SENDERS_MAX 16

struct actor_sender {
	uint64_t id;     /* sending actor, 0: code outside any actor */
	uint64_t count;
};

/* One actor; tasks, channels and loops reuse it (handler = poll / iteration). */
struct actor {
	uint32_t pid, kind, source;
	uint64_t id;
	char name[32];
	uint64_t track, depth_track;   /* Perfetto track uuids, 0 until first needed */
	int64_t depth, max_depth;
	uint64_t first_ts, depth_ts;   /* first depth change, last depth change */
	double depth_area;             /* integral of depth over time (depth x ns) */
	struct hist wait;              /* send -> receive (tasks: wake -> poll), ns */
	struct hist handler;           /* receive -> done (tasks: poll; loops: iteration), ns */
	bool in_handler, exited, completed;
	uint64_t handler_ts;
	uint64_t sent, enqueued, received, wakes;
	uint64_t wake_ts, wake_flow;   /* tasks: pending wakeup */
	uint64_t seq_sent, seq_recv;   /* runtimes without message ids: FIFO pairing */
	uint64_t run_track;            /* thread track a scheduled-in actor's slice is on */
	uint32_t run_tid;
	struct actor_sender senders[ACTOR_SENDERS_MAX];
	uint64_t senders_other;
};

struct msg_inflight {
	uint64_t ts;
	uint64_t flow;
};

struct actors_state {
	struct u64map actors;          /* mix(pid, kind, id) -> struct actor */
	struct u64map inflight;        /* mix(pid, receiver, msg) -> struct msg_inflight */
	struct u64map running;         /* tid -> struct actor scheduled in on that thread */
	uint64_t next_flow;
	uint64_t hits, messages, tasks_spawned, tasks_completed;
	uint32_t window;               /* sampled mode: current attach window (0: not sampled) */
	uint64_t windows;              /* windows seen */
	uint64_t first_ts, last_ts, end_ts;
	uint32_t beam_pid_checked;     /* last BEAM process whose perf map was looked for */
	char note[256];                /* said once in the summary (e.g. a missing perf map) */
};

struct actor *actors_get(struct actors_state *st, uint32_t pid, uint32_t kind, uint64_t id,
			 bool create);
void actors_label(const struct actor *a, char *buf, size_t len);
double actors_mean_depth(const struct actor *a);
/* Actors of one kind that did something, worst first; *out is to be freed. */
size_t actors_ranked(struct actors_state *st, uint32_t kind, struct actor ***out);

#endif
