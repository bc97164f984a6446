/* SPDX-License-Identifier: MIT */
/* Analysis areas beyond the scheduler (locks, event loops, Go, actors): how they plug in. */
#ifndef WEFT_ANALYZE_AREA_H
#define WEFT_ANALYZE_AREA_H

#include <stdint.h>
#include <stdio.h>

#include "weft/events.h"

struct session;

/*
 * An area receives, in timestamp order, the records whose type lies in [type_min, type_max],
 * after the scheduler state of the same instant has been applied (so s->tt tells what each
 * thread is doing). It writes its own slices, flows and counters through s->pf, and adds a
 * section to the summary. Pure analysis: no libbpf, no printing except into the FILE given.
 */
struct analyze_area {
	const char *name;
	unsigned type_min, type_max;
	int (*init)(struct session *s, void **state);
	void (*event)(struct session *s, void *state, const struct weft_event_header *h);
	/* End of recording: close what is open at end_ts. */
	void (*finish)(struct session *s, void *state, uint64_t end_ts);
	/* Text section, ranked, worst first. Nothing to say: print nothing. */
	void (*summary_text)(struct session *s, void *state, FILE *f);
	/* Writes `"<name>": <value>` (one JSON member, no trailing comma). */
	void (*summary_json)(struct session *s, void *state, FILE *f);
	void (*free)(void *state);
};

/* NULL-terminated, in src/analyze/areas.c. */
extern const struct analyze_area *const analyze_areas[];

/* Area a's state in session s, or NULL if it did not start: for an area that hands records to
 * another (the preload shim's lock waits go to the lock area in --mode=both). */
void *analyze_area_state(struct session *s, const struct analyze_area *a);

#endif
