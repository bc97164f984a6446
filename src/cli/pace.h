/* SPDX-License-Identifier: MIT */
/* How weft paces itself while it records: how often it drains the rings, and at what CPU
 * priority. */
#ifndef WEFT_CLI_PACE_H
#define WEFT_CLI_PACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct pace {
	bool on;              /* weft may lower and raise its priority (root) */
	bool behind;          /* at normal priority until it has caught up */
	uint64_t calm_ns;     /* time of light drains in a row, while behind */
	uint64_t calm_needed_ns; /* ... before it goes back down */
	uint64_t last_lost;   /* records lost to full rings by the previous drain */
	size_t ring_bytes;    /* one CPU's ring */
	uint64_t period_ns;   /* until the next drain */
	uint64_t max_period_ns;
	/* The watchdog (see pace.c), at normal priority: */
	pthread_t watchdog;
	bool watching;
	pid_t drainer;              /* the draining thread */
	_Atomic uint64_t due_ns;    /* CLOCK_BOOTTIME by which the next drain should be over */
	_Atomic bool raised;        /* the watchdog found it late and raised its priority */
	_Atomic bool stop;
};

/* Called by the draining thread once the traced command is started (it must not inherit).
 * pace_stop() must follow.
 * max_period_ns: the longest the other buffers drained with the rings may wait. */
void pace_start(struct pace *p, size_t ring_bytes_per_cpu, uint64_t max_period_ns);
/* After each drain: the most bytes taken from one CPU's ring since the previous drain, the
 * time since then, and records lost to full rings since the start. Sets period_ns. */
void pace_after_drain(struct pace *p, uint64_t peak_ring_bytes, uint64_t elapsed_ns,
		      uint64_t lost_full);
/* Before a drain: the most bytes waiting in one ring (a ring that lost records is full). A
 * drain that finds weft behind runs at normal priority from its start. */
void pace_before_drain(struct pace *p, uint64_t waiting_bytes);
/* The recording is over: back to normal priority for what is left (the last drain, the end of
 * the trace, the summary), which the user is waiting for. */
void pace_stop(struct pace *p);
/* The same from a signal handler (Ctrl-C, the command's end), for the drain under way. */
void pace_hurry(void);

#endif /* WEFT_CLI_PACE_H */
