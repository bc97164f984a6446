// SPDX-License-Identifier: MIT
/* The analysis areas a session runs besides scheduling, in summary order. */
#include <stddef.h>

#include "analyze/area.h"

extern const struct analyze_area preload_area;

const struct analyze_area *const analyze_areas[] = {
	&preload_area,
	NULL,
};
