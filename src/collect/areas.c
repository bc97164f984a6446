// SPDX-License-Identifier: MIT
/* The probe areas weft loads after the scheduler probes, in order. */
#include <stddef.h>

#include "collect/area.h"
#include "collect/loops.h"

extern const struct collector_area collector_area_go;

extern const struct collector_area collector_area_locks;

extern const struct collector_area collector_area_actors;

extern const struct collector_area collector_area_python;

const struct collector_area *const collector_areas[] = {
	&collector_area_python,
	&loops_collector_area,
	&collector_area_go,
	&collector_area_locks,
	&collector_area_actors,
	NULL,
};
