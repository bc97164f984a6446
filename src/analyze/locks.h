/* SPDX-License-Identifier: MIT */
/* What the lock area takes from other areas: the preload shim's waits, in --mode=both. */
#ifndef WEFT_ANALYZE_LOCKS_H
#define WEFT_ANALYZE_LOCKS_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/events.h"

struct session;

/*
 * With both the kernel probes and the shim (--mode=both), one blocked pthread_mutex_lock is a
 * wait the shim saw and, inside it on the same thread, one or more futex waits the kernel saw.
 * The lock area then counts and draws every wait once: the shim's waits, each with what the
 * kernel saw of it (the releaser whose futex wake ended it, the holder's state and chain, the
 * waiter's stack), and the futex waits no shim wait holds (locks the shim does not intercept).
 * True if it does so in this session: the preload area then keeps no wait table of its own.
 */
bool locks_take_shim_waits(const struct session *s);

/* A wait the shim saw; `releaser` is the thread whose release the shim saw let the waiter in
 * (0: none seen), at `release_ts`: used when the kernel saw no releaser. */
void locks_shim_wait(struct session *s, const struct weft_lock_wait_event *e, int32_t releaser,
		     uint64_t release_ts);

#endif
