/* SPDX-License-Identifier: MIT */
/* Lock records from BPF: contended futex waits (with the holder) and the wakes that end them. */
#ifndef WEFT_EVENTS_LOCKS_H
#define WEFT_EVENTS_LOCKS_H

/* Included by weft/events.h; types are WEFT_EV_LOCKS_BASE..+7. Same rules as there: fixed-width fields,
 * explicit padding, a struct weft_event_header first. */

/* X(type, name, struct) for each record of this area. */
#define WEFT_LOCKS_KINDS(X)

#endif
