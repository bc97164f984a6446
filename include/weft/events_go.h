/* SPDX-License-Identifier: MIT */
/* Go runtime records (goroutine park/ready, channel operations). */
#ifndef WEFT_EVENTS_GO_H
#define WEFT_EVENTS_GO_H

/* Included by weft/events.h; types start at WEFT_EV_GO_BASE. Same rules as there: fixed-width fields,
 * explicit padding, a struct weft_event_header first. */

/* X(type, name, struct) for each record of this area. */
#define WEFT_GO_KINDS(X)

#endif
