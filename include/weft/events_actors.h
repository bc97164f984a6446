/* SPDX-License-Identifier: MIT */
/* Actor and annotation records (message send/receive, mailbox depth, tasks). */
#ifndef WEFT_EVENTS_ACTORS_H
#define WEFT_EVENTS_ACTORS_H

/* Included by weft/events.h; types start at WEFT_EV_ACTORS_BASE. Same rules as there: fixed-width fields,
 * explicit padding, a struct weft_event_header first. */

enum weft_actors_type {
	WEFT_EV_ACTOR = WEFT_EV_ACTORS_BASE, /* an actor/task/channel/loop operation */
	WEFT_EV_ACTOR_NAME = WEFT_EV_ACTORS_BASE + 1, /* an actor or task got a name */
};

/* What happened; header = the thread it happened on. */
enum weft_actor_op {
	WEFT_ACT_SEND = 1,      /* actor -> peer, msg; depth = peer's mailbox after the send */
	WEFT_ACT_RECV = 2,      /* actor took msg (its handler starts); depth = mailbox after */
	WEFT_ACT_DONE = 3,      /* actor's handler returned */
	WEFT_ACT_DEPTH = 4,     /* actor's mailbox holds depth messages */
	WEFT_ACT_EXIT = 5,      /* actor exited */
	WEFT_ACT_RUN = 6,       /* actor scheduled in on this thread (ends at DONE or the next RUN) */
	WEFT_ACT_TASK_SPAWN = 8,      /* task actor, parent peer */
	WEFT_ACT_TASK_POLL_BEGIN = 9,
	WEFT_ACT_TASK_POLL_END = 10,  /* depth: 1 the task completed */
	WEFT_ACT_TASK_WAKE = 11,      /* task actor woken by task peer (0: not a task) */
	WEFT_ACT_CHAN_SEND = 12,      /* channel actor now holds depth values */
	WEFT_ACT_CHAN_RECV = 13,
	WEFT_ACT_LOOP_BEGIN = 14,     /* loop actor */
	WEFT_ACT_LOOP_END = 15,
};

/* Where the record came from. */
enum weft_actor_source {
	WEFT_SRC_ANNOTATION = 0, /* include/weft/weft.h USDT probes */
	WEFT_SRC_BEAM = 1,       /* uprobes on beam.smp */
	WEFT_SRC_CAF = 2,        /* uprobes on libcaf_core */
};

/*
 *   24   26   27  28       32        40       48       56        64
 *   +----+----+---+--------+---------+--------+--------+---------+
 *   | op |src|pad| window |  actor  |  peer  |  msg   |  depth  |
 *   +----+----+---+--------+---------+--------+--------+---------+
 */
struct weft_actor_event {
	struct weft_event_header hdr;
	__u16 op;      /* enum weft_actor_op */
	__u8 source;   /* enum weft_actor_source */
	__u8 pad;
	__u32 window;  /* sampled mode (--actor-budget): which attach window, from 1; 0: always
			* attached. Operations of different windows are not paired. */
	__u64 actor;   /* the actor (task, channel, loop) the operation is about */
	__u64 peer;    /* send: the receiver; spawn: the parent; wake: the waker */
	__u64 msg;     /* message id (0: none) */
	__s64 depth;   /* mailbox/queue depth after the operation, -1 unknown */
};

#define WEFT_ACTOR_NAME_LEN 32

struct weft_actor_name_event {
	struct weft_event_header hdr;
	__u32 kind;    /* 0 actor, 1 task */
	__u32 source;  /* enum weft_actor_source */
	__u64 actor;
	char name[WEFT_ACTOR_NAME_LEN];
};

/* X(type, name, struct) for each record of this area. */
#define WEFT_ACTORS_KINDS(X)                                             \
	X(WEFT_EV_ACTOR, "actor", struct weft_actor_event)               \
	X(WEFT_EV_ACTOR_NAME, "actor-name", struct weft_actor_name_event)

#endif
