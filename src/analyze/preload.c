// SPDX-License-Identifier: MIT
/* Analysis of the preload shim's records: lock waits with holder and releaser, the lock table,
 * lock-order inversions with both stacks. Thread, exec and poll records go elsewhere, and so do
 * lock waits in --mode=both (to the lock area, which joins them to the futex waits inside). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/area.h"
#include "analyze/lockname.h"
#include "analyze/lockorder.h"
#include "analyze/locks.h"
#include "analyze/locktable.h"
#include "analyze/decode.h"
#include "analyze/session_impl.h"
#include "perfetto/writer.h"
#include "symbolize/symbolize.h"

#define EDGE_FRAMES 24
#define LABEL_MAX 256
#define FLOW_BASE (0x5eULL << 56) /* keeps our flow ids apart from other areas' */

/* A symbolized acquisition stack, innermost first, shim frames dropped. */
struct edge_stack {
	size_t n;
	char frames[EDGE_FRAMES][LABEL_MAX];
	char from_site[LABEL_MAX];  /* where the held lock was taken (one frame) */
};

struct preload_state {
	struct lock_table locks;
	struct lockorder lo;
	uint64_t next_flow;
	uint64_t edges;
	uint64_t cycles_reported;
};

static void label_pc(struct session *s, int32_t pid, uint64_t pc, bool ret_addr, char *buf,
		     size_t len)
{
	struct sym_loc loc;

	trace_resolve_user(s, pid, pc, ret_addr ? pc - 1 : pc, &loc);
	trace_frame_label(buf, len, &loc);
}

/* Named at first sight, as the lock area names it (lock_name()): by the global of a program or
 * library it lies in, else by its address. */
static struct lock_entry *lock_get(struct session *s, struct preload_state *st, int32_t pid,
				   uint64_t lock, uint32_t kind)
{
	struct lock_entry *l = lock_table_get(&st->locks, pid, lock, kind);
	struct sym_loc loc;

	if (!l || l->named)
		return l;
	l->named = true;
	if (sym_resolve_data(s->sym, pid, lock, &loc) == -ENOENT && sym_proc_load(s->sym, pid) == 0)
		sym_resolve_data(s->sym, pid, lock, &loc);
	lock_name(l->name, sizeof(l->name), loc.function, loc.func_off, lock);
	return l;
}

static int area_init(struct session *s, void **state)
{
	struct preload_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	lock_table_init(&st->locks);
	lockorder_init(&st->lo);
	*state = st;
	return 0;
}

/* The releaser's side of a hand-off: a short slice carrying the arrow's start (instants
 * cannot carry flows). */
static void release_slice(struct session *s, struct lock_entry *l, int32_t pid, uint64_t flow)
{
	uint64_t track = pf_track_thread(s->pf, pid, l->last_release_tid, NULL);
	char name[LABEL_MAX + 64];

	if (!track)
		return;
	snprintf(name, sizeof(name), "%s %s", l->kind == WEFT_LOCK_COND ? "signal" :
		 l->kind == WEFT_LOCK_SEM ? "post" : "unlock", l->name);
	pf_slice_begin(s->pf, track, l->last_release_ts, name, NULL, 0, &flow, 1, NULL, 0);
	pf_slice_end(s->pf, track, l->last_release_ts + 1);
}

static void on_wait(struct session *s, struct preload_state *st,
		    const struct weft_lock_wait_event *e)
{
	struct lock_entry *l = lock_get(s, st, e->hdr.pid, e->lock, e->kind);
	uint64_t track, term = 0, dur = e->hdr.ts > e->wait_start ? e->hdr.ts - e->wait_start : 0;
	struct pf_arg args[6];
	char name[LABEL_MAX + 64];
	int32_t releaser = 0;
	size_t na = 0;

	if (!l)
		return;
	if (!l->site[0])
		label_pc(s, e->hdr.pid, e->caller, true, l->site, sizeof(l->site));
	/* The release that let this waiter in: the last one of this lock since the wait began. */
	if (l->last_release_ts && l->last_release_ts >= e->wait_start &&
	    l->last_release_ts <= e->hdr.ts && l->last_release_tid != (int32_t)e->hdr.tid)
		releaser = l->last_release_tid;
	if (locks_take_shim_waits(s)) {
		/* --mode=both: counted and drawn there, once, with the futex waits inside it. */
		locks_shim_wait(s, e, releaser, releaser ? l->last_release_ts : 0);
		return;
	}
	/* Only now is the release's slice written (most releases with "waiters" in the lock
	 * word hand nothing to anyone we saw wait), with the arrow's start. */
	if (releaser && l->last_release_flow) {
		term = FLOW_BASE + ++st->next_flow;
		release_slice(s, l, e->hdr.pid, term);
		l->last_release_flow = 0; /* one arrow per release */
	}
	lock_entry_add_wait(l, e->hdr.tid, e->holder_tid, releaser, dur, e->ret != 0);
	track = pf_track_thread(s->pf, e->hdr.pid, e->hdr.tid, NULL);
	if (!track)
		return;
	if (e->holder_tid) {
		struct task *h = task_get(&s->tt, e->holder_tid);

		snprintf(name, sizeof(name), "%s %s held by %s%s%d%s", lock_kind_name(e->kind),
			 l->name, h && h->comm[0] ? h->comm : "", h && h->comm[0] ?
			 " (" : "", e->holder_tid, h && h->comm[0] ? ")" : "");
	} else {
		snprintf(name, sizeof(name), "%s %s", lock_kind_name(e->kind), l->name);
	}
	args[na++] = (struct pf_arg){ .name = "lock", .type = PF_ARG_POINTER, .u = e->lock };
	/* Beside the name, not in it: see lockname.h. */
	args[na++] = (struct pf_arg){ .name = "site", .type = PF_ARG_STRING, .s = l->site };
	if (e->holder_tid)
		args[na++] = (struct pf_arg){ .name = "holder_tid", .type = PF_ARG_INT,
					      .i = e->holder_tid };
	if (releaser)
		args[na++] = (struct pf_arg){ .name = "released_by_tid", .type = PF_ARG_INT,
					      .i = releaser };
	if (e->aux)
		args[na++] = (struct pf_arg){ .name = "mutex", .type = PF_ARG_POINTER, .u = e->aux };
	if (e->ret)
		args[na++] = (struct pf_arg){ .name = "error", .type = PF_ARG_INT, .i = e->ret };
	pf_slice_begin(s->pf, track, e->wait_start, name, args, na, NULL, 0, NULL, 0);
	/* The arrow from the release lands where the wait ends (a reader that sorts by time
	 * must see the flow begin before its end): a 1 ns slice closing the wait. */
	if (term && dur > 1) {
		pf_slice_begin(s->pf, track, e->hdr.ts - 1, e->ret ? "gave up" : "acquired", NULL, 0,
			       NULL, 0, &term, 1);
		pf_slice_end(s->pf, track, e->hdr.ts);
	}
	pf_slice_end(s->pf, track, e->hdr.ts);
}

static void on_release(struct session *s, struct preload_state *st,
		       const struct weft_lock_release_event *e)
{
	struct lock_entry *l = lock_get(s, st, e->hdr.pid, e->lock, e->kind);

	if (!l)
		return;
	l->last_release_ts = e->hdr.ts;
	l->last_release_tid = e->hdr.tid;
	l->last_release_flow = 1; /* pending: written if a wait turns out to end with it */
	l->releases++;
}

static const char *lock_label_of(struct preload_state *st, int32_t pid, uint64_t lock)
{
	struct lock_entry *l = lock_table_find(&st->locks, pid, lock);

	return l ? l->name : "?";
}

static struct edge_stack *unwind_edge(struct session *s, const struct weft_lock_edge_event *e)
{
	struct edge_stack *es = calloc(1, sizeof(*es));
	struct pf_frame frames[EDGE_FRAMES];
	uint64_t ips[64], iid;
	struct sym_loc loc;
	int n;

	if (!es)
		return NULL;
	label_pc(s, e->hdr.pid, e->from_caller, true, es->from_site, sizeof(es->from_site));
	n = sym_unwind_user(s->sym, e->hdr.pid, e->hdr.tid, (const uint64_t *)e->uregs, e->ustack,
			    weft_ustack_len(e->ustack_len), ips, 64);
	for (int i = 0; i < n && es->n < EDGE_FRAMES; i++) {
		trace_resolve_user(s, e->hdr.pid, ips[i], i ? ips[i] - 1 : ips[i], &loc);
		if (trace_frame_is_weft(&loc))
			continue;
		frames[es->n] = (struct pf_frame){ loc.function, loc.module, loc.rel_pc };
		trace_frame_label(es->frames[es->n], LABEL_MAX, &loc);
		es->n++;
	}
	if (!es->n) /* no unwinding: at least the caller of the locking function */
		label_pc(s, e->hdr.pid, e->to_caller, true, es->frames[es->n++], LABEL_MAX);
	else if ((iid = pf_callstack(s->pf, frames, es->n)))
		pf_perf_sample(s->pf, e->hdr.ts, e->hdr.cpu, e->hdr.pid, e->hdr.tid, iid,
			       PF_MODE_USER);
	return es;
}

static void on_edge(struct session *s, struct preload_state *st,
		    const struct weft_lock_edge_event *e)
{
	struct edge_stack *es = unwind_edge(s, e);
	const struct lo_cycle *c = NULL;
	uint64_t track;

	struct lock_entry *lf, *lt;

	st->edges++;
	lf = lock_get(s, st, e->hdr.pid, e->from, e->from_kind);
	lt = lock_get(s, st, e->hdr.pid, e->to, e->to_kind);
	/* Name the locks by where they are taken, if no wait named them yet. */
	if (lf && !lf->site[0] && es)
		snprintf(lf->site, sizeof(lf->site), "%s", es->from_site);
	if (lt && !lt->site[0])
		label_pc(s, e->hdr.pid, e->to_caller, true, lt->site, sizeof(lt->site));
	if (lockorder_add(&st->lo, e->hdr.pid, e->from, e->to, e->hdr.tid, e->hdr.ts, es, &c) != 1)
		free(es);
	if (!c)
		return;
	st->cycles_reported++;
	if (s->opts.hooks.notice) {
		char line[1024];
		size_t len;

		len = snprintf(line, sizeof(line), "lock-order inversion in process %d:", c->pid);
		for (size_t j = c->n; j-- > 0 && len < sizeof(line);)
			len += snprintf(line + len, sizeof(line) - len, " %s ->",
					lock_label_of(st, c->pid, c->edges[j]->from));
		if (len < sizeof(line))
			snprintf(line + len, sizeof(line) - len, " %s (stacks in the summary)",
				 lock_label_of(st, c->pid, c->edges[c->n - 1]->from));
		s->opts.hooks.notice(s->opts.hooks.ctx, line);
	}
	track = pf_track_thread(s->pf, e->hdr.pid, e->hdr.tid, NULL);
	if (track) {
		struct pf_arg args[2] = {
			{ .name = "from", .type = PF_ARG_POINTER, .u = e->from },
			{ .name = "to", .type = PF_ARG_POINTER, .u = e->to },
		};

		pf_instant(s->pf, track, e->hdr.ts, "lock-order inversion", args, 2);
	}
}

static void area_event(struct session *s, void *state, const struct weft_event_header *h)
{
	struct preload_state *st = state;

	switch (h->type) {
	case WEFT_EV_LOCK_WAIT:
		on_wait(s, st, (const void *)h);
		break;
	case WEFT_EV_LOCK_RELEASE:
		on_release(s, st, (const void *)h);
		break;
	case WEFT_EV_LOCK_EDGE:
		on_edge(s, st, (const void *)h);
		break;
	}
}


static void wait_table_text(struct preload_state *st, bool exclusive, FILE *f)
{
	struct lock_entry **ranked;
	char tot[16], mx[16];
	size_t n;

	ranked = lock_table_ranked(&st->locks, exclusive, &n);
	if (ranked && n && ranked[0]->waits) {
		if (exclusive)
			fprintf(f, "\nLock waits (preload shim), longest total first:\n");
		else
			fprintf(f, "\nCondition-variable and semaphore waits (preload shim), longest "
				   "total first:\n");
		fprintf(f, "  %-28s %-20s %-8s %8s %9s %9s %7s  %s\n", exclusive ? "LOCK" : "OBJECT",
			"FIRST TAKEN IN", "KIND", "WAITS", "TOTAL", "MAX", "WAITERS",
			exclusive ? "HOLDERS (tid:times)" : "WOKEN BY (tid:times)");
		for (size_t i = 0; i < n && i < 10 && ranked[i]->waits; i++) {
			struct lock_entry *l = ranked[i];
			const struct lock_tid_count *who = exclusive ? l->holders : l->releasers;
			size_t nwho = exclusive ? l->nholders : l->nreleasers;

			summary_fmt_ns(tot, sizeof(tot), l->total_wait_ns);
			summary_fmt_ns(mx, sizeof(mx), l->max_wait_ns);
			/* the function; its module is in the JSON */
			fprintf(f, "  %-28s %-20.*s %-8s %8" PRIu64 " %9s %9s %7zu  ", l->name,
				(int)strcspn(l->site, " "), l->site, lock_kind_name(l->kind), l->waits,
				tot, mx, l->nwaiters);
			for (size_t j = 0; j < nwho && j < 3; j++)
				fprintf(f, "%s%d:%" PRIu64, j ? " " : "", who[j].tid, who[j].count);
			fprintf(f, "\n");
		}
	}
	free(ranked);
}

static void area_summary_text(struct session *s, void *state, FILE *f)
{
	struct preload_state *st = state;

	wait_table_text(st, true, f);
	wait_table_text(st, false, f);
	if (st->lo.ncycles) {
		fprintf(f, "\nLock-order inversions (potential deadlocks; none needs to have "
			   "happened):\n");
		for (size_t i = 0; i < st->lo.ncycles; i++) {
			const struct lo_cycle *c = st->lo.cycles[i];

			fprintf(f, "  #%zu  process %d:", i + 1, c->pid);
			for (size_t j = c->n; j-- > 0;)
				fprintf(f, " %s ->", lock_label_of(st, c->pid, c->edges[j]->from));
			fprintf(f, " %s\n", lock_label_of(st, c->pid, c->edges[c->n - 1]->from));
			for (size_t j = c->n; j-- > 0;) {
				const struct lo_edge *e = c->edges[j];
				const struct edge_stack *es = e->user;

				fprintf(f, "      thread %d took %s while holding %s (taken in %s):\n",
					e->tid, lock_label_of(st, c->pid, e->to),
					lock_label_of(st, c->pid, e->from),
					es ? es->from_site : "?");
				for (size_t k = 0; es && k < es->n; k++)
					fprintf(f, "        %s\n", es->frames[k]);
			}
		}
	}
}

static void wait_table_json(struct preload_state *st, bool exclusive, FILE *f)
{
	struct lock_entry **ranked;
	size_t n;

	ranked = lock_table_ranked(&st->locks, exclusive, &n);
	for (size_t i = 0, first = 1; ranked && i < n; i++) {
		struct lock_entry *l = ranked[i];

		if (!l->waits && !l->releases)
			continue;
		fprintf(f, "%s\n    {\"pid\": %d, \"lock\": \"0x%" PRIx64 "\", \"kind\": \"%s\", "
			"\"label\": ", first ? "" : ",", l->pid, l->lock, lock_kind_name(l->kind));
		summary_json_str(f, l->name);
		fprintf(f, ", \"site\": ");
		summary_json_str(f, l->site);
		fprintf(f, ", \"waits\": %" PRIu64 ", \"timeouts\": %" PRIu64
			", \"total_wait_ns\": %" PRIu64 ", \"max_wait_ns\": %" PRIu64
			", \"releases_with_waiters\": %" PRIu64 ", \"waiters\": [",
			l->waits, l->timeouts, l->total_wait_ns, l->max_wait_ns, l->releases);
		for (size_t j = 0; j < l->nwaiters; j++)
			fprintf(f, "%s%d", j ? ", " : "", l->waiters[j]);
		fprintf(f, "], \"holders\": [");
		for (size_t j = 0; j < l->nholders; j++)
			fprintf(f, "%s{\"tid\": %d, \"times\": %" PRIu64 "}", j ? ", " : "",
				l->holders[j].tid, l->holders[j].count);
		fprintf(f, "], \"releasers\": [");
		for (size_t j = 0; j < l->nreleasers; j++)
			fprintf(f, "%s{\"tid\": %d, \"times\": %" PRIu64 "}", j ? ", " : "",
				l->releasers[j].tid, l->releasers[j].count);
		fprintf(f, "]}");
		first = 0;
	}
	free(ranked);
}

static void area_summary_json(struct session *s, void *state, FILE *f)
{
	struct preload_state *st = state;

	/* locks: mutexes and rwlocks (contention); waits: condition variables and semaphores.
	 * In --mode=both the waits are in the lock area's "locks", with their kernel part. */
	fprintf(f, "\"preload_locks\": {");
	if (!locks_take_shim_waits(s)) {
		fprintf(f, "\"locks\": [");
		wait_table_json(st, true, f);
		fprintf(f, "\n  ], \"waits\": [");
		wait_table_json(st, false, f);
		fprintf(f, "\n  ], ");
	}
	fprintf(f, "\"lock_order_edges\": %" PRIu64 ", \"inversions\": [", st->edges);
	for (size_t i = 0; i < st->lo.ncycles; i++) {
		const struct lo_cycle *c = st->lo.cycles[i];

		fprintf(f, "%s\n    {\"pid\": %d, \"edges\": [", i ? "," : "", c->pid);
		for (size_t j = c->n; j-- > 0;) {
			const struct lo_edge *e = c->edges[j];
			const struct edge_stack *es = e->user;

			fprintf(f, "%s{\"from\": \"0x%" PRIx64 "\", \"to\": \"0x%" PRIx64
				"\", \"tid\": %d, \"ts\": %" PRIu64 ", \"held_since\": ",
				j + 1 == c->n ? "" : ", ", e->from, e->to, e->tid, e->ts);
			summary_json_str(f, es ? es->from_site : "");
			fprintf(f, ", \"stack\": [");
			for (size_t k = 0; es && k < es->n; k++) {
				fprintf(f, "%s", k ? ", " : "");
				summary_json_str(f, es->frames[k]);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ]}");
}

static void area_free(void *state)
{
	struct preload_state *st = state;
	if (!st)
		return;
	/* Edge stacks hang off the graphs' edges. */
	lockorder_free_users(&st->lo, free);
	lockorder_free(&st->lo);
	lock_table_free(&st->locks);
	free(st);
}

const struct analyze_area preload_area = {
	.name = "preload",
	.type_min = WEFT_EV_PRELOAD_BASE,
	.type_max = WEFT_EV_PRELOAD_BASE + 7,
	.init = area_init,
	.event = area_event,
	.summary_text = area_summary_text,
	.summary_json = area_summary_json,
	.free = area_free,
};
