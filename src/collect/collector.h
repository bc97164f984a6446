/* SPDX-License-Identifier: MIT */
/* The BPF side of weft: feature probes, load, attach, process filter, ring-buffer drain. */
#ifndef WEFT_COLLECTOR_H
#define WEFT_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "weft/events.h"

/* Who sees a probe area's message: everyone, or only at -v. */
enum collector_msg_level {
	COLLECTOR_MSG_NOTICE,   /* the user must know: something is not traced, how much was seen */
	COLLECTOR_MSG_VERBOSE,  /* what was attached where, what was skipped and why */
};

/* A message for the user, "what" and a hint to act on (or NULL), printed by the CLI the way it
 * prints its own. Probe areas print nothing themselves. */
typedef void (*collector_msg_fn)(void *ctx, enum collector_msg_level level, const char *what,
				 const char *hint);

struct collector_opts {
	size_t ringbuf_bytes;        /* power of two, >= 64 KiB */
	uint64_t stack_interval_ns;  /* off-CPU stack budget per thread; 0: no stacks */
	uint64_t stack_burst;
	int verbose;                 /* libbpf messages at verbose >= 2 */
	uint64_t stall_threshold_ns; /* event loops: iterations this long are stalls; 0: default */
	unsigned loop_sample_hz;     /* event loops: culprit sampling rate; 0: default */
	bool no_locks;               /* leave lock contention (futex calls) out */
	double actor_budget;         /* actor/annotation uprobes: CPU share of the target they may
				      * cost (0.05 = 5% of one CPU), by attaching them only part of
				      * the time; 0: always attached */
	collector_msg_fn message;    /* NULL: messages are dropped */
	void *message_ctx;
};

/*
 * Each CPU sends at most one stack a millisecond (bpf/budget.bpf.h), or as many as one thread
 * may send if the user asked for more (--stack-rate above 1000): a thread runs on one CPU at a
 * time, so a lower cap would quietly overrule the option.
 */
static inline uint64_t collector_cpu_stack_interval_ns(const struct collector_opts *o)
{
	return o->stack_interval_ns && o->stack_interval_ns < 1000000 ? o->stack_interval_ns
								     : 1000000;
}

/* What went wrong, in words the CLI prints: "context: what failed" and an optional hint. */
struct collector_error {
	char what[256];
	char hint[256];
};

/* Called for each raw record drained from the ring; return non-zero to stop draining. */
typedef int (*collector_event_fn)(void *ctx, const void *data, size_t len);

struct collector;

int collector_open(struct collector **out, const struct collector_opts *opts,
		   struct collector_error *err);
void collector_close(struct collector *c);
/* A new traced process, or one that exec'd: lets areas attach per-binary probes. */
int collector_add_process(struct collector *c, pid_t pid);
/* Traced process pid is about to exec path (weft run): lets areas attach before it runs. */
int collector_pre_exec(struct collector *c, pid_t pid, const char *path);
/* The recording is over: detach every program. The kernel takes a while to release them
 * (collect/detach.c): a child process waits for that, or failing one, a thread that
 * collector_close() joins. Records already in the rings may still be drained. */
void collector_detach(struct collector *c);
/* Add / remove a process (thread group) to the in-kernel filter. */
int collector_trace_pid(struct collector *c, pid_t tgid);
int collector_untrace_pid(struct collector *c, pid_t tgid);
/*
 * Drain what the rings hold now. Records made in user space go to fn, valid during the call
 * only; the rings' records go to kept, and stay valid (their ring space taken) until
 * collector_release(). Returns the rings' records handed out or a negative errno.
 */
int collector_drain(struct collector *c, collector_event_fn fn, collector_event_fn kept,
		    void *ctx);
void collector_release(struct collector *c);
/* Wait up to timeout_ms for a record that asks to be seen at once (most records do not wake
 * weft; see bpf/sched.bpf.c). Returns 1 if one came, 0 if the time ran out or a signal came,
 * or a negative errno; nothing is read. */
int collector_wait(struct collector *c, int timeout_ms);
/* Sum of the per-CPU loss counters, by enum weft_loss_reason; or for one reason. */
int collector_losses(struct collector *c, uint64_t out[WEFT_LOSS_REASON_MAX]);
int collector_loss(struct collector *c, enum weft_loss_reason reason, uint64_t *out);
/* The most bytes (records and their ring headers) taken from any one CPU's ring since the last
 * call: how full the fullest ring had become. And each ring's size. */
uint64_t collector_ring_peak(struct collector *c);
/* The most bytes waiting now in any one CPU's ring. */
uint64_t collector_ring_waiting(struct collector *c);
size_t collector_ring_bytes_per_cpu(const struct collector *c);

#endif /* WEFT_COLLECTOR_H */
