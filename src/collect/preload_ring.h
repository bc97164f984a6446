/* SPDX-License-Identifier: MIT */
/* The collector side of the preload shim: find every traced process's ring, drain them all. */
#ifndef WEFT_COLLECT_PRELOAD_RING_H
#define WEFT_COLLECT_PRELOAD_RING_H

#include <stddef.h>
#include <stdint.h>

#include "collect/collector.h"
#include "weft/events.h"

struct preload_rings;

/* Makes a private directory for the rings (under /dev/shm, else $TMPDIR or /tmp). */
int preload_rings_open(struct preload_rings **out, size_t ring_bytes,
		       struct collector_error *err);
/* The directory to pass to the shim in $WEFT_PRELOAD_DIR. */
const char *preload_rings_dir(const struct preload_rings *pr);
size_t preload_rings_size(const struct preload_rings *pr);
/* Picks up new rings, drains all, retires those of processes that are gone. Returns records
 * consumed or a negative errno. */
int preload_rings_drain(struct preload_rings *pr, collector_event_fn fn, void *ctx);
/* Adds the shims' loss counters (by enum weft_loss_reason) to out. */
void preload_rings_losses(struct preload_rings *pr, uint64_t out[WEFT_LOSS_REASON_MAX]);
/* Rings seen in all (processes that ran the shim). */
unsigned preload_rings_seen(const struct preload_rings *pr);
/* Unmaps and removes the rings and the directory. */
void preload_rings_close(struct preload_rings *pr);

#endif
