// SPDX-License-Identifier: MIT
/* Actors, tasks, channels and loops: tracks, message flows, mailbox depth and the summary. */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/actors.h"
#include "analyze/area.h"
#include "analyze/hist.h"
#include "analyze/session_impl.h"
#include "analyze/u64map.h"
#include "perfetto/writer.h"

static uint64_t mix(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL;

	h ^= (b + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2)) * 0xbf58476d1ce4e5b9ULL;
	h ^= (c + 0x94d049bb133111ebULL + (h << 6) + (h >> 2)) * 0x94d049bb133111ebULL;
	return h ? h : 1;
}

struct actor *actors_get(struct actors_state *st, uint32_t pid, uint32_t kind, uint64_t id,
			 bool create)
{
	uint64_t key = mix(pid, kind, id);
	struct actor *a = u64map_get(&st->actors, key);

	if (a || !create)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->pid = pid;
	a->kind = kind;
	a->id = id;
	a->depth = 0;
	if (kind != ACTOR_KIND_ACTOR) {
		/* channels, loops and tasks may be named with WEFT_ACTOR_NAME on the same id */
		struct actor *named = u64map_get(&st->actors, mix(pid, ACTOR_KIND_ACTOR, id));

		if (named)
			memcpy(a->name, named->name, sizeof(a->name));
	}
	if (u64map_put(&st->actors, key, a)) {
		free(a);
		return NULL;
	}
	return a;
}

static const char *kind_word(uint32_t kind)
{
	static const char *const w[] = { "actor", "task", "channel", "loop" };

	return kind < 4 ? w[kind] : "actor";
}

void actors_label(const struct actor *a, char *buf, size_t len)
{
	if (a->name[0])
		snprintf(buf, len, "%s %s", kind_word(a->kind), a->name);
	else if (a->source == WEFT_SRC_BEAM)
		/* a local pid term: <0.N.S> with N in bits 4..31 (S is 0 until N wraps) */
		snprintf(buf, len, "<0.%" PRIu64 ".0>", (a->id >> 4) & 0xfffffff);
	else if (a->source == WEFT_SRC_CAF)
		snprintf(buf, len, "caf actor %" PRIu64, a->id);
	else
		snprintf(buf, len, "%s 0x%" PRIx64, kind_word(a->kind), a->id);
}

static uint64_t actor_track(struct session *s, struct actor *a)
{
	char label[96];
	uint64_t parent;

	if (a->track || !s->pf)
		return a->track;
	parent = pf_track_process(s->pf, a->pid, NULL);
	actors_label(a, label, sizeof(label));
	a->track = parent ? pf_track_child(s->pf, parent, label) : 0;
	return a->track;
}

static void set_depth(struct session *s, struct actor *a, int64_t depth, uint64_t ts)
{
	if (depth < 0)
		depth = 0;
	if (a->depth_ts && ts > a->depth_ts)
		a->depth_area += (double)a->depth * (double)(ts - a->depth_ts);
	if (!a->first_ts)
		a->first_ts = ts;
	a->depth_ts = ts;
	if (a->depth == depth && a->depth_track)
		return;
	a->depth = depth;
	if (depth > a->max_depth)
		a->max_depth = depth;
	if (!s->pf)
		return;
	if (!a->depth_track) {
		char label[96], name[128];
		uint64_t parent = pf_track_process(s->pf, a->pid, NULL);

		actors_label(a, label, sizeof(label));
		snprintf(name, sizeof(name), "%s %s", a->kind == ACTOR_KIND_CHANNEL ? "queue" : "mailbox",
			 label);
		a->depth_track = parent ? pf_track_counter(s->pf, parent, name) : 0;
	}
	if (a->depth_track)
		pf_counter(s->pf, a->depth_track, ts, (double)depth);
}

static void add_sender(struct actor *to, uint64_t sender, uint32_t pid)
{
	struct actor_sender *slot = NULL;

	for (int i = 0; i < ACTOR_SENDERS_MAX; i++) {
		if (to->senders[i].count && to->senders[i].id == sender) {
			to->senders[i].count++;
			return;
		}
		if (!to->senders[i].count && !slot)
			slot = &to->senders[i];
	}
	if (slot) {
		*slot = (struct actor_sender){ sender, 1 };
		return;
	}
	to->senders_other++;
}

/* A zero-length slice that starts a flow: where a message left or a wakeup came from. */
static void flow_out(struct session *s, const struct weft_event_header *h, struct actor *from,
		     const char *name, uint64_t flow, const struct pf_arg *args, size_t nargs)
{
	uint64_t track = 0;

	if (!s->pf)
		return;
	if (from)
		track = actor_track(s, from);
	if (!track)
		track = pf_track_thread(s->pf, h->pid, h->tid, NULL);
	if (!track)
		return;
	pf_slice_begin(s->pf, track, h->ts, name, args, nargs, &flow, 1, NULL, 0);
	pf_slice_end(s->pf, track, h->ts);
}

static void end_handler(struct session *s, struct actor *a, uint64_t ts)
{
	uint64_t d;

	if (!a->in_handler)
		return;
	d = ts > a->handler_ts ? ts - a->handler_ts : 0;
	hist_add(&a->handler, d);
	a->in_handler = false;
	if (s->pf && a->track)
		pf_slice_end(s->pf, a->track, ts);
	if (s->pf && a->run_track) {
		pf_slice_end(s->pf, a->run_track, ts);
		a->run_track = 0;
	}
}

/* A runtime scheduled actor a in on thread h->tid (BEAM): a "run" slice on the actor's track
 * and one named after the actor on the scheduler thread's track. */
static void on_run(struct session *s, struct actors_state *st, const struct weft_actor_event *e)
{
	struct actor *a = actors_get(st, e->hdr.pid, ACTOR_KIND_ACTOR, e->actor, true);
	struct actor *prev = u64map_get(&st->running, e->hdr.tid);
	uint64_t track;
	char label[96];

	if (prev)
		end_handler(s, prev, e->hdr.ts);
	if (!a)
		return;
	a->source = e->source;
	end_handler(s, a, e->hdr.ts);
	track = actor_track(s, a);
	if (track)
		pf_slice_begin(s->pf, track, e->hdr.ts, "run", NULL, 0, NULL, 0, NULL, 0);
	if (s->pf) {
		a->run_track = pf_track_thread(s->pf, e->hdr.pid, e->hdr.tid, NULL);
		actors_label(a, label, sizeof(label));
		if (a->run_track)
			pf_slice_begin(s->pf, a->run_track, e->hdr.ts, label, NULL, 0, NULL, 0, NULL,
				       0);
	}
	a->in_handler = true;
	a->handler_ts = e->hdr.ts;
	a->run_tid = e->hdr.tid;
	u64map_put(&st->running, e->hdr.tid, a);
}

static void on_send(struct session *s, struct actors_state *st, const struct weft_actor_event *e)
{
	uint32_t kind = ACTOR_KIND_ACTOR;
	/* no sender given: the actor whose handler runs on this thread, if any (CAF) */
	struct actor *from = e->actor ? actors_get(st, e->hdr.pid, kind, e->actor, true) :
				       u64map_get(&st->running, e->hdr.tid);
	struct actor *to = actors_get(st, e->hdr.pid, kind, e->peer, true);
	struct msg_inflight *m;
	uint64_t flow = 0, msg = e->msg;

	if (!to)
		return;
	if (!msg)
		msg = ++to->seq_sent;
	if (from) {
		from->source = e->source;
		from->sent++;
	}
	to->source = e->source;
	to->enqueued++;
	add_sender(to, from ? from->id : 0, e->hdr.pid);
	st->messages++;
	m = calloc(1, sizeof(*m));
	if (m) {
		m->ts = e->hdr.ts;
		m->flow = flow = ++st->next_flow;
		/* a message id seen again before its receive: the older one's wait is lost */
		free(u64map_del(&st->inflight, mix(e->hdr.pid, e->peer, msg)));
		if (u64map_put(&st->inflight, mix(e->hdr.pid, e->peer, msg), m))
			free(m);
	}
	if (flow) {
		char label[96];
		struct pf_arg args[2] = {
			{ .name = "to", .type = PF_ARG_STRING, .s = label },
			{ .name = "msg", .type = PF_ARG_UINT, .u = msg },
		};

		actors_label(to, label, sizeof(label));
		flow_out(s, &e->hdr, from, "send", flow, args, 2);
	}
	set_depth(s, to, e->depth >= 0 ? e->depth : to->depth + 1, e->hdr.ts);
}

static void on_recv(struct session *s, struct actors_state *st, const struct weft_actor_event *e)
{
	struct actor *a = actors_get(st, e->hdr.pid, ACTOR_KIND_ACTOR, e->actor, true);
	struct msg_inflight *m = NULL;
	uint64_t track, waited = 0, flow = 0, msg = e->msg;
	/* a runtime that schedules actors itself (BEAM): handlers are its run slices */
	bool scheduled = e->source == WEFT_SRC_BEAM;

	if (!a)
		return;
	a->source = e->source;
	if (!scheduled)
		end_handler(s, a, e->hdr.ts);
	/* No message ids: pair FIFO with the sends seen. With none pending the message came
	 * before we attached (or before this sampled window): it pairs with no send. */
	if (!msg && a->seq_sent > a->seq_recv)
		msg = ++a->seq_recv;
	if (msg)
		m = u64map_del(&st->inflight, mix(e->hdr.pid, e->actor, msg));
	if (m) {
		waited = e->hdr.ts > m->ts ? e->hdr.ts - m->ts : 0;
		hist_add(&a->wait, waited);
		flow = m->flow;
		free(m);
	}
	a->received++;
	track = actor_track(s, a);
	if (track) {
		struct pf_arg args[2] = {
			{ .name = "msg", .type = PF_ARG_UINT, .u = msg },
			{ .name = "waited_ns", .type = PF_ARG_UINT, .u = waited },
		};

		pf_slice_begin(s->pf, track, e->hdr.ts, scheduled ? "receive" : "handle", args,
			       flow ? 2 : 1, NULL, 0, flow ? &flow : NULL, flow ? 1 : 0);
		if (scheduled)
			pf_slice_end(s->pf, track, e->hdr.ts);
	}
	if (!scheduled) {
		a->in_handler = true;
		a->handler_ts = e->hdr.ts;
		a->run_tid = e->hdr.tid;
		u64map_put(&st->running, e->hdr.tid, a);
	}
	set_depth(s, a, e->depth >= 0 ? e->depth : a->depth - 1, e->hdr.ts);
}

static void on_task(struct session *s, struct actors_state *st, const struct weft_actor_event *e)
{
	struct actor *t = actors_get(st, e->hdr.pid, ACTOR_KIND_TASK, e->actor, true);
	uint64_t track;

	if (!t)
		return;
	t->source = e->source;
	switch (e->op) {
	case WEFT_ACT_TASK_SPAWN:
		st->tasks_spawned++;
		t->first_ts = e->hdr.ts;
		break;
	case WEFT_ACT_TASK_WAKE: {
		struct actor *w = e->peer ? actors_get(st, e->hdr.pid, ACTOR_KIND_TASK, e->peer,
						       false) : NULL;

		t->wakes++;
		if (!t->wake_flow) {
			t->wake_flow = ++st->next_flow;
			flow_out(s, &e->hdr, w && w->in_handler ? w : NULL, "wake", t->wake_flow,
				 NULL, 0);
		}
		if (!t->wake_ts)
			t->wake_ts = e->hdr.ts;
		break;
	}
	case WEFT_ACT_TASK_POLL_BEGIN:
		end_handler(s, t, e->hdr.ts);
		track = actor_track(s, t);
		if (t->wake_ts) {
			hist_add(&t->wait, e->hdr.ts > t->wake_ts ? e->hdr.ts - t->wake_ts : 0);
			t->wake_ts = 0;
		}
		if (track)
			pf_slice_begin(s->pf, track, e->hdr.ts, "poll", NULL, 0, NULL, 0,
				       t->wake_flow ? &t->wake_flow : NULL, t->wake_flow ? 1 : 0);
		t->wake_flow = 0;
		t->received++;
		t->in_handler = true;
		t->handler_ts = e->hdr.ts;
		break;
	case WEFT_ACT_TASK_POLL_END:
		end_handler(s, t, e->hdr.ts);
		if (e->depth > 0) {
			t->completed = true;
			st->tasks_completed++;
		}
		break;
	}
}

/*
 * A new sampled-mode window: what was in flight when the probes were detached will never be
 * seen to arrive, and FIFO counters no longer line up. Forget both; depths counted from here on
 * are lower bounds (the summary says the run was sampled).
 */
static void new_window(struct actors_state *st, uint32_t window)
{
	uint64_t k;
	void *v;

	st->window = window;
	st->windows++;
	for (size_t i = 0; u64map_next(&st->inflight, &i, &k, &v);)
		free(v);
	u64map_free(&st->inflight);
	memset(&st->inflight, 0, sizeof(st->inflight));
	for (size_t i = 0; u64map_next(&st->actors, &i, &k, &v);) {
		struct actor *a = v;

		a->seq_sent = a->seq_recv = 0;
		a->wake_flow = a->wake_ts = 0;
	}
}

static void on_event(struct session *s, void *state, const struct weft_event_header *h)
{
	struct actors_state *st = state;
	struct actor *a;

	st->hits++;
	if (!st->first_ts)
		st->first_ts = h->ts;
	st->last_ts = h->ts;
	if (h->type == WEFT_EV_ACTOR_NAME) {
		const struct weft_actor_name_event *n = (const void *)h;

		for (uint32_t kind = 0; kind <= ACTOR_KIND_LOOP; kind++) {
			a = actors_get(st, h->pid, kind, n->actor,
				       kind == (n->kind ? ACTOR_KIND_TASK : ACTOR_KIND_ACTOR));
			if (!a || a->track || a->depth_track)
				continue; /* a drawn track keeps its name */
			memcpy(a->name, n->name, sizeof(a->name));
			a->name[sizeof(a->name) - 1] = 0;
			a->source = n->source;
		}
		return;
	}
	const struct weft_actor_event *e = (const void *)h;

	if (e->window != st->window)
		new_window(st, e->window);
	if (e->source == WEFT_SRC_BEAM && h->pid != st->beam_pid_checked) {
		char path[64];

		/* JIT frames are named only through the map the VM writes with +JPperf true */
		st->beam_pid_checked = h->pid;
		snprintf(path, sizeof(path), "/tmp/perf-%u.map", h->pid);
		if (access(path, R_OK))
			snprintf(st->note, sizeof(st->note),
				 "BEAM pid %u wrote no %s: its JIT-compiled Erlang frames stay "
				 "unnamed in stacks; run erl with +JPperf true", h->pid, path);
	}
	switch (e->op) {
	case WEFT_ACT_SEND:
		on_send(s, st, e);
		break;
	case WEFT_ACT_RECV:
		on_recv(s, st, e);
		break;
	case WEFT_ACT_DONE:
		/* no actor given: the one whose handler runs on this thread (CAF) */
		a = e->actor ? actors_get(st, h->pid, ACTOR_KIND_ACTOR, e->actor, false) :
			       u64map_get(&st->running, h->tid);
		if (a) {
			end_handler(s, a, h->ts);
			if (a->run_tid && u64map_get(&st->running, a->run_tid) == a)
				u64map_del(&st->running, a->run_tid);
		}
		break;
	case WEFT_ACT_RUN:
		on_run(s, st, e);
		break;
	case WEFT_ACT_DEPTH:
		a = actors_get(st, h->pid, ACTOR_KIND_ACTOR, e->actor, true);
		if (a)
			set_depth(s, a, e->depth, h->ts);
		break;
	case WEFT_ACT_EXIT:
		a = actors_get(st, h->pid, ACTOR_KIND_ACTOR, e->actor, false);
		if (a) {
			end_handler(s, a, h->ts);
			if (a->run_tid && u64map_get(&st->running, a->run_tid) == a)
				u64map_del(&st->running, a->run_tid);
			a->exited = true;
		}
		break;
	case WEFT_ACT_CHAN_SEND:
	case WEFT_ACT_CHAN_RECV:
		a = actors_get(st, h->pid, ACTOR_KIND_CHANNEL, e->actor, true);
		if (a) {
			if (e->op == WEFT_ACT_CHAN_SEND)
				a->enqueued++;
			else
				a->received++;
			set_depth(s, a, e->depth >= 0 ? e->depth :
				  a->depth + (e->op == WEFT_ACT_CHAN_SEND ? 1 : -1), h->ts);
		}
		break;
	case WEFT_ACT_LOOP_BEGIN:
	case WEFT_ACT_LOOP_END:
		a = actors_get(st, h->pid, ACTOR_KIND_LOOP, e->actor, true);
		if (!a)
			break;
		end_handler(s, a, h->ts);
		if (e->op == WEFT_ACT_LOOP_BEGIN) {
			uint64_t track = actor_track(s, a);

			if (track)
				pf_slice_begin(s->pf, track, h->ts, "iteration", NULL, 0, NULL, 0,
					       NULL, 0);
			a->received++;
			a->in_handler = true;
			a->handler_ts = h->ts;
		}
		break;
	default:
		if (e->op >= WEFT_ACT_TASK_SPAWN && e->op <= WEFT_ACT_TASK_WAKE)
			on_task(s, st, e);
		break;
	}
}

static int actors_init(struct session *s, void **state)
{
	struct actors_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	*state = st;
	return 0;
}

static void actors_finish(struct session *s, void *state, uint64_t end_ts)
{
	struct actors_state *st = state;
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&st->actors, &i, &k, &v);) {
		struct actor *a = v;

		end_handler(s, a, end_ts);
		if (a->depth_ts && end_ts > a->depth_ts)
			a->depth_area += (double)a->depth * (double)(end_ts - a->depth_ts);
		a->depth_ts = end_ts;
	}
	if (end_ts > st->last_ts)
		st->end_ts = end_ts;
	else
		st->end_ts = st->last_ts;
}

double actors_mean_depth(const struct actor *a)
{
	uint64_t span = a->depth_ts > a->first_ts ? a->depth_ts - a->first_ts : 0;

	return span ? a->depth_area / (double)span : (double)a->depth;
}

/* Worst first: deepest mailbox, then time-weighted depth, then longest wait. */
static int cmp_actor(const void *x, const void *y)
{
	const struct actor *a = *(struct actor *const *)x, *b = *(struct actor *const *)y;
	double ma = actors_mean_depth(a), mb = actors_mean_depth(b);

	if (a->max_depth != b->max_depth)
		return a->max_depth > b->max_depth ? -1 : 1;
	if (ma != mb)
		return ma > mb ? -1 : 1;
	if (a->wait.max != b->wait.max)
		return a->wait.max > b->wait.max ? -1 : 1;
	return a->handler.sum > b->handler.sum ? -1 : a->handler.sum < b->handler.sum;
}

size_t actors_ranked(struct actors_state *st, uint32_t kind, struct actor ***out)
{
	struct actor **v = calloc(st->actors.len + 1, sizeof(*v));
	size_t n = 0;
	uint64_t k;
	void *val;

	*out = v;
	if (!v)
		return 0;
	for (size_t i = 0; u64map_next(&st->actors, &i, &k, &val);) {
		struct actor *a = val;

		if (a->kind == kind && (a->received || a->enqueued || a->max_depth))
			v[n++] = a;
	}
	qsort(v, n, sizeof(*v), cmp_actor);
	return n;
}

/* The senders that fed a mailbox, most first. */
static int cmp_sender(const void *x, const void *y)
{
	const struct actor_sender *a = x, *b = y;

	return a->count > b->count ? -1 : a->count < b->count;
}

static double seconds(struct actors_state *st)
{
	uint64_t end = st->end_ts ? st->end_ts : st->last_ts;

	return end > st->first_ts ? (double)(end - st->first_ts) / 1e9 : 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void actors_summary_text(struct session *s, void *state, FILE *f)
{
	struct actors_state *st = state;
	struct actor **v;
	size_t n = actors_ranked(st, ACTOR_KIND_ACTOR, &v);
	double secs = seconds(st);
	char label[96];

	if (!st->hits) {
		free(v);
		return;
	}
	fprintf(f, "\nActors, tasks and queues:\n");
	if (n)
		fprintf(f, "  %zu actors, %" PRIu64 " messages; ranked by mailbox depth:\n", n,
			st->messages);
	if (n)
		fprintf(f, "  %-28s %9s %9s %9s %9s %9s %9s %9s %10s\n", "actor", "depth max",
			"mean", "wait p50", "p99", "max ms", "handler", "max ms", "msgs/s");
	for (size_t i = 0; i < n && i < 10; i++) {
		struct actor *a = v[i];

		char waits[40] = "        -         -         -";

		/* no send seen for any receive (all queued before we attached): no wait to show */
		if (a->wait.count)
			snprintf(waits, sizeof(waits), "%9.3f %9.3f %9.3f",
				 ms(hist_quantile(&a->wait, 0.5)), ms(hist_quantile(&a->wait, 0.99)),
				 ms(a->wait.max));
		actors_label(a, label, sizeof(label));
		fprintf(f, "  %-28.28s %9" PRId64 " %9.1f %s %9.1f %9.3f %10.0f\n", label,
			a->max_depth, actors_mean_depth(a), waits, ms(a->handler.sum),
			ms(a->handler.max), secs > 0 ? (double)a->received / secs : 0);
	}
	if (n && v[0]->max_depth > 1) {
		struct actor *w = v[0];
		struct actor_sender top[ACTOR_SENDERS_MAX];

		memcpy(top, w->senders, sizeof(top));
		qsort(top, ACTOR_SENDERS_MAX, sizeof(top[0]), cmp_sender);
		actors_label(w, label, sizeof(label));
		fprintf(f, "  fed %s:", label);
		for (int i = 0; i < ACTOR_SENDERS_MAX && i < 5 && top[i].count; i++) {
			struct actor *snd = actors_get(st, w->pid, ACTOR_KIND_ACTOR, top[i].id,
						       false);
			char sl[96];

			if (snd)
				actors_label(snd, sl, sizeof(sl));
			else
				snprintf(sl, sizeof(sl), "%s", top[i].id ? "?" : "non-actor code");
			fprintf(f, " %s (%" PRIu64 ")", sl, top[i].count);
		}
		fprintf(f, "\n");
	}
	free(v);
	n = actors_ranked(st, ACTOR_KIND_TASK, &v);
	if (n)
		fprintf(f, "  tasks: %" PRIu64 " spawned, %" PRIu64 " completed; slowest polls:\n",
			st->tasks_spawned, st->tasks_completed);
	for (size_t i = 0; i < n; i++) {
		/* tasks rank by the longest poll */
		for (size_t j = i + 1; j < n; j++)
			if (v[j]->handler.max > v[i]->handler.max) {
				struct actor *t = v[i];

				v[i] = v[j];
				v[j] = t;
			}
		if (i >= 5)
			continue;
		actors_label(v[i], label, sizeof(label));
		fprintf(f, "    %-28.28s polls %6" PRIu64 "  max %.3f ms  total %.1f ms  wake->poll p99 %.3f ms\n",
			label, v[i]->received, ms(v[i]->handler.max), ms(v[i]->handler.sum),
			ms(hist_quantile(&v[i]->wait, 0.99)));
	}
	free(v);
	n = actors_ranked(st, ACTOR_KIND_CHANNEL, &v);
	for (size_t i = 0; i < n && i < 5; i++) {
		actors_label(v[i], label, sizeof(label));
		fprintf(f, "  %-30.30s depth max %" PRId64 " mean %.1f, %" PRIu64 " in, %" PRIu64
			" out\n", label, v[i]->max_depth, actors_mean_depth(v[i]), v[i]->enqueued,
			v[i]->received);
	}
	free(v);
	n = actors_ranked(st, ACTOR_KIND_LOOP, &v);
	for (size_t i = 0; i < n && i < 5; i++) {
		actors_label(v[i], label, sizeof(label));
		fprintf(f, "  %-30.30s %" PRIu64 " iterations, max %.3f ms, p99 %.3f ms\n", label,
			v[i]->received, ms(v[i]->handler.max), ms(hist_quantile(&v[i]->handler, 0.99)));
	}
	free(v);
	fprintf(f, "  probe hits: %" PRIu64 " (%.0f/s); estimated cost %.0f-%.0f ms of target CPU"
		" (%.1f-%.1f%% of one CPU) at 6-24 us per hit%s\n", st->hits,
		secs > 0 ? (double)st->hits / secs : 0, st->hits * 0.006, st->hits * 0.024,
		secs > 0 ? st->hits * 6e-4 / secs : 0, secs > 0 ? st->hits * 2.4e-3 / secs : 0,
		st->hits * 2.4e-3 / (secs > 0 ? secs : 1) > 10 ? "; consider --actor-budget" : "");
	if (st->window)
		fprintf(f, "  sampled (--actor-budget): %" PRIu64 " windows; waits, flows and rates are "
			"for the windows, counted mailbox depths are lower bounds\n", st->windows);
	if (st->note[0])
		fprintf(f, "  note: %s\n", st->note);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void actors_summary_json(struct session *s, void *state, FILE *f)
{
	static const char *const kinds[] = { "actors", "tasks", "channels", "loops" };
	struct actors_state *st = state;
	double secs = seconds(st);
	char label[96];

	fprintf(f, "\"actors\": {\"probe_hits\": %" PRIu64 ", \"hits_per_sec\": %.1f, "
		"\"est_overhead_ms_min\": %.1f, \"est_overhead_ms_max\": %.1f, "
		"\"messages\": %" PRIu64 ", \"duration_s\": %.3f",
		st->hits, secs > 0 ? st->hits / secs : 0, st->hits * 0.006, st->hits * 0.024,
		st->messages, secs);
	fprintf(f, ", \"sampled_windows\": %" PRIu64, st->window ? st->windows : 0);
	if (st->note[0]) {
		fprintf(f, ", \"note\": ");
		json_string(f, st->note);
	}
	for (uint32_t kind = 0; kind < 4; kind++) {
		struct actor **v;
		size_t n = actors_ranked(st, kind, &v);

		fprintf(f, ", \"%s\": [", kinds[kind]);
		for (size_t i = 0; i < n; i++) {
			struct actor *a = v[i];
			struct actor_sender top[ACTOR_SENDERS_MAX];

			actors_label(a, label, sizeof(label));
			fprintf(f, "%s{\"pid\": %u, \"id\": %" PRIu64 ", \"name\": ", i ? ", " : "",
				a->pid, a->id);
			json_string(f, label);
			fprintf(f, ", \"depth_max\": %" PRId64 ", \"depth_mean\": %.3f, "
				"\"received\": %" PRIu64 ", \"enqueued\": %" PRIu64 ", \"sent\": %" PRIu64
				", \"rate_per_sec\": %.1f, \"wait_ms\": {\"p50\": %.4f, \"p99\": %.4f, "
				"\"max\": %.4f, \"count\": %" PRIu64 "}, \"handler_ms\": {\"total\": %.4f, "
				"\"p50\": %.4f, \"p99\": %.4f, \"max\": %.4f, \"count\": %" PRIu64 "}",
				a->max_depth, actors_mean_depth(a), a->received, a->enqueued, a->sent,
				secs > 0 ? a->received / secs : 0, ms(hist_quantile(&a->wait, 0.5)),
				ms(hist_quantile(&a->wait, 0.99)), ms(a->wait.max), a->wait.count,
				ms(a->handler.sum), ms(hist_quantile(&a->handler, 0.5)),
				ms(hist_quantile(&a->handler, 0.99)), ms(a->handler.max),
				a->handler.count);
			memcpy(top, a->senders, sizeof(top));
			qsort(top, ACTOR_SENDERS_MAX, sizeof(top[0]), cmp_sender);
			fprintf(f, ", \"senders\": [");
			for (int j = 0; j < ACTOR_SENDERS_MAX && top[j].count; j++) {
				struct actor *snd = actors_get(st, a->pid, ACTOR_KIND_ACTOR,
							       top[j].id, false);

				if (snd)
					actors_label(snd, label, sizeof(label));
				else
					snprintf(label, sizeof(label), "%s",
						 top[j].id ? "?" : "non-actor code");
				fprintf(f, "%s{\"id\": %" PRIu64 ", \"name\": ", j ? ", " : "",
					top[j].id);
				json_string(f, label);
				fprintf(f, ", \"count\": %" PRIu64 "}", top[j].count);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "]");
		free(v);
	}
	fprintf(f, "}");
}

static void actors_free(void *state)
{
	struct actors_state *st = state;
	uint64_t k;
	void *v;

	if (!st)
		return;
	for (size_t i = 0; u64map_next(&st->actors, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->inflight, &i, &k, &v);)
		free(v);
	u64map_free(&st->actors);
	u64map_free(&st->inflight);
	u64map_free(&st->running);
	free(st);
}

const struct analyze_area analyze_area_actors = {
	.name = "actors",
	.type_min = WEFT_EV_ACTORS_BASE,
	.type_max = WEFT_EV_ACTORS_BASE + 15,
	.init = actors_init,
	.event = on_event,
	.finish = actors_finish,
	.summary_text = actors_summary_text,
	.summary_json = actors_summary_json,
	.free = actors_free,
};
