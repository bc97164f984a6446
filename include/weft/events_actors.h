/* SPDX-License-Identifier: MIT */
/* Actor and annotation records (message send/receive, mailbox depth, tasks). */
#ifndef WEFT_EVENTS_ACTORS_H
#define WEFT_EVENTS_ACTORS_H

/* Included by weft/events.h; types start at WEFT_EV_ACTORS_BASE. Same rules as there: fixed-width fields,
 * explicit padding, a struct weft_event_header first. */

/* X(type, name, struct) for each record of this area. */
#define WEFT_ACTORS_KINDS(X)

#endif
