/* SPDX-License-Identifier: MIT */
/* Context switches of one process tree without privileges: perf_event_open's switch records. */
#ifndef WEFT_COLLECT_PERF_SWITCH_H
#define WEFT_COLLECT_PERF_SWITCH_H

#include <sys/types.h>

#include "collect/collector.h"
#include "weft/events.h"

struct perf_switch;

/*
 * Opens a dummy software event per CPU on `pid` (inherited by its threads and children, enabled
 * at its exec) that records each switch in and out of its threads; allowed for one's own
 * processes when /proc/sys/kernel/perf_event_paranoid <= 2. -errno with err->what and a hint.
 */
int perf_switch_open(struct perf_switch **out, pid_t pid, struct collector_error *err);
/* Turns the switch records read since last time into WEFT_EV_SWITCH records: a switch out has
 * next = 0 (whatever ran instead is not ours to see), a switch in has prev = 0. */
int perf_switch_drain(struct perf_switch *ps, collector_event_fn fn, void *ctx);
/* Lost switch records, added under WEFT_LOSS_PERF_SWITCH_LOST. */
void perf_switch_losses(struct perf_switch *ps, uint64_t out[WEFT_LOSS_REASON_MAX]);
void perf_switch_close(struct perf_switch *ps);

#endif
