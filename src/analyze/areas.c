// SPDX-License-Identifier: MIT
/* The analysis areas a session runs besides scheduling, in summary order, and their states. */
#include <stddef.h>

#include "analyze/area.h"
#include "analyze/loops.h"
#include "analyze/session_impl.h"

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

void *analyze_area_state(struct session *s, const struct analyze_area *a)
{
	for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++)
		if (analyze_areas[i] == a)
			return s->area_ok[i] ? s->area_state[i] : NULL;
	return NULL;
}
