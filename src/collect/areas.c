// SPDX-License-Identifier: MIT
/* The probe areas weft loads after the scheduler probes, in order. */
#include <stddef.h>

#include "collect/area.h"

extern const struct collector_area collector_area_actors;

const struct collector_area *const collector_areas[] = {
	&collector_area_actors,
	NULL,
};
