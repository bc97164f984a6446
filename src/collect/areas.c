// SPDX-License-Identifier: MIT
/* The probe areas weft loads after the scheduler probes, in order. */
#include <stddef.h>

#include "collect/area.h"
#include "collect/loops.h"

extern const struct collector_area collector_area_go;

extern const struct collector_area collector_area_locks;

const struct collector_area *const collector_areas[] = {
	&loops_collector_area,
	&collector_area_go,
	&collector_area_locks,
	NULL,
};
