/* SPDX-License-Identifier: MIT */
/* weft's own CPU priority while it records: low while it keeps up, normal when it falls behind. */
#ifndef WEFT_CLI_PACE_H
#define WEFT_CLI_PACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct pace {
	bool on;             /* weft may lower and raise its priority (root) */
	bool behind;         /* at normal priority until it has caught up */
	int calm_drains;     /* drains in a row that took little, while behind */
	uint64_t last_read;  /* ring bytes read by the previous drain */
	uint64_t last_lost;  /* records lost to full rings by then */
	uint64_t busy_bytes; /* a drain taking more than this is falling behind */
};

/* Called by the draining thread once the traced command is started (it must not inherit). */
void pace_start(struct pace *p, size_t ring_bytes_per_cpu);
/* After each drain: ring bytes read and records lost to full rings, both since the start. */
void pace_after_drain(struct pace *p, uint64_t ring_bytes_read, uint64_t lost_full);

#endif /* WEFT_CLI_PACE_H */
