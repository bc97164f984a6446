/* SPDX-License-Identifier: MIT */
/* Records only the LD_PRELOAD shim can give: every lock acquisition and release, thread starts. */
#ifndef WEFT_EVENTS_PRELOAD_H
#define WEFT_EVENTS_PRELOAD_H

/* Included by weft/events.h; types start at WEFT_EV_PRELOAD_BASE (24..31, inside the locks
 * range). Same rules as there: fixed-width fields, explicit padding, header first. */

/* X(type, name, struct) for each record of this area. */
#define WEFT_PRELOAD_KINDS(X)

#endif
