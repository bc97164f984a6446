// SPDX-License-Identifier: MIT
/* The analysis areas a session runs besides scheduling, in summary order. */
#include <stddef.h>

#include "analyze/area.h"
#include "analyze/loops.h"

extern const struct analyze_area analyze_area_go;

extern const struct analyze_area analyze_area_locks;

extern const struct analyze_area analyze_area_actors;

extern const struct analyze_area preload_area;

const struct analyze_area *const analyze_areas[] = {
	&loops_area,
	&analyze_area_go,
	&analyze_area_locks,
	&analyze_area_actors,
	&preload_area,
	NULL,
};
