/* SPDX-License-Identifier: MIT */
/* JIT symbols from /tmp/perf-PID.map, the format perf reads. */
#ifndef WEFT_PERF_MAP_H
#define WEFT_PERF_MAP_H

#include <stdint.h>
#include <sys/types.h>

struct perf_map;

/* NULL when the process wrote no map (or it cannot be read). */
struct perf_map *perf_map_open(pid_t pid);
/* The JIT function covering pc, or NULL; re-reads the file on a miss if it grew. */
const char *perf_map_lookup(struct perf_map *m, uint64_t pc);
void perf_map_free(struct perf_map *m);

#endif
