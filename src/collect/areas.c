// SPDX-License-Identifier: MIT
/* The probe areas weft loads after the scheduler probes, in order. */
#include <stddef.h>

#include "collect/area.h"

const struct collector_area *const collector_areas[] = {
	NULL,
};
