/* SPDX-License-Identifier: MIT */
/* The event-loop probe area and its defaults (shared with the CLI's help). */
#ifndef WEFT_COLLECT_LOOPS_H
#define WEFT_COLLECT_LOOPS_H

#include "collect/area.h"

#define LOOPS_DEFAULT_SAMPLE_HZ 499
#define LOOPS_BLOCK_NS 1000000ULL

extern const struct collector_area loops_collector_area;

#endif
