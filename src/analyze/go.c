// SPDX-License-Identifier: MIT
/* Go analysis: goroutine tracks, blocked intervals with their waker, channels, leaks. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/area.h"
#include "analyze/session_impl.h"
#include "analyze/text.h"
#include "analyze/u64map.h"
#include "perfetto/writer.h"
#include "symbolize/go_info.h"
#include "symbolize/symbolize.h"

/*
 * A goroutine is "blocked" from its runtime.gopark to the runtime.goready that makes it
 * runnable again; the goroutine running goready is the waker. Both ends are known only when
 * the wake is seen, so each blocked slice is written whole at that moment (begin in the past,
 * which Perfetto sorts). Wakes the probes do not see (the netpoller readies goroutines in
 * batches without goready) close at the goroutine's next park or exit, marked as such.
 */

#define GO_VERSION_NAMES 119   /* waitReason numbering shared by Go 1.17 to 1.19 */
#define REASONS 32             /* blocked-time slots: waitReason values, then ... */
#define SLOT_OTHER (REASONS - 2) /* ... larger waitReasons share this one */
#define SLOT_MUTEX (REASONS - 1) /* semacquire for a sync.Mutex, apart from other semaphores */
#define CHAN_GOROUTINES 8      /* goroutines remembered per channel for the summary */
#define EST_HIT_NS 10000       /* a uprobe hit on this class of machine: 6-24 us */
#define REPARK_NS 50000        /* a second park at the same site within this is the same one */
/* Memory stays bounded however many goroutines and channels a program churns through: */
#define MAX_ENDED_KEPT 8192    /* ended goroutines kept for the ranking */
#define MAX_CHANS 65536        /* channels tracked */
#define TOP_CHANS 10
#define TOP_GOROUTINES 10
#define TOP_LEAKS 10
#define JSON_TOP 200           /* entries per list in the JSON summary */
/* Flow ids of this area live in their own range so they never meet another area's. */
#define FLOW_BASE (0x47ULL << 56)

/* waitReason values used for attribution (Go 1.17-1.19 numbering). */
enum {
	WR_IOWAIT = 2,
	WR_SELECT = 9,
	WR_CHAN_RECV = 14,
	WR_CHAN_SEND = 15,
	WR_SEMACQUIRE = 18,
	WR_SLEEP = 19,
};

struct goroutine {
	int32_t pid;
	uint64_t goid;
	uint64_t startpc;
	uint64_t track;
	char name[96];          /* "goroutine 7 main.produce" */
	bool named;
	bool exited;
	/* the open wait */
	bool parked;
	bool before;            /* parked before the probes were in place: reason unknown */
	uint64_t park_ts;
	uint8_t reason, flags, nchans, nframes;
	int32_t park_tid;
	uint64_t lock, obj;
	uint64_t chans[WEFT_GO_CHANS];
	uint64_t frames[WEFT_GO_FRAMES];
	/* totals */
	uint64_t blocked_ns[REASONS];
	uint64_t blocked_total;
	uint64_t waits;
	uint64_t unseen_wakes;
};

struct go_chan {
	int32_t pid;
	uint64_t addr;
	uint64_t send_ns, recv_ns, select_ns;
	uint64_t waits, max_ns;
	uint64_t goids[CHAN_GOROUTINES];
	int ngoids;
	uint64_t site_pc;       /* where the longest wait on it blocked */
	uint64_t made_pc;       /* where it was made (return address from makechan), or 0 */
};

struct go_proc {
	int32_t pid;
	uint64_t track, counter;
	int64_t alive;          /* goroutines seen and not ended */
	int64_t pending_new;    /* created, not yet seen */
	int64_t max_count;
	uint64_t created, exited;
};

struct go_state {
	struct u64map gs;       /* (pid, goid) -> goroutine */
	struct u64map chans;    /* (pid, hchan) -> go_chan */
	struct u64map procs;    /* pid -> go_proc */
	uint64_t next_flow;
	uint64_t hits[5];       /* park, ready, new, exit, makechan */
	uint64_t sema_parks;
	uint64_t flows;
	uint64_t first_ts, last_ts;
	uint64_t end_ts;
	uint64_t ended_kept, ended_dropped, chans_dropped;
	/* (pid, pc) -> function name ("" if unknown), resolved while the process lived: the
	 * summary is printed after traced processes are gone from the symbolizer. */
	struct u64map names;
};

static uint64_t g_key(int32_t pid, uint64_t goid)
{
	return ((uint64_t)(uint32_t)pid << 40) ^ goid;
}

static uint64_t chan_key(int32_t pid, uint64_t addr)
{
	return ((uint64_t)(uint32_t)pid << 48) ^ addr;
}

static int go_init(struct session *s, void **state)
{
	struct go_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -1;
	st->next_flow = FLOW_BASE;
	*state = st;
	return 0;
}

/* Function name at pc in process pid, or NULL. */
static const char *func_at(struct session *s, struct go_state *st, int32_t pid, uint64_t pc,
			   bool ret_addr)
{
	uint64_t key = chan_key(pid, pc) ^ ret_addr;
	struct sym_loc loc = { 0 };
	char *name;

	if (!pc || !s->sym)
		return NULL;
	name = u64map_get(&st->names, key);
	if (name)
		return name[0] ? name : NULL;
	if (sym_resolve_user(s->sym, pid, pc, ret_addr ? pc - 1 : pc, &loc) == 0 &&
	    loc.function)
		name = strdup(loc.function);
	else if (proc_get(&s->tt, pid) && proc_get(&s->tt, pid)->exited)
		return NULL; /* gone: do not remember a miss that was only too late */
	else
		name = strdup("");
	if (!name || u64map_put(&st->names, key, name)) {
		free(name);
		return NULL;
	}
	return name[0] ? name : NULL;
}

/* The innermost frame outside the runtime: where user code blocked. */
static uint64_t user_site(struct session *s, struct go_state *st, const struct goroutine *g,
			  const char **name)
{
	*name = NULL;
	for (int i = 0; i < g->nframes && i < WEFT_GO_FRAMES; i++) {
		const char *fn = func_at(s, st, g->pid, g->frames[i], true);

		if (fn && strncmp(fn, "runtime.", 8) && strncmp(fn, "sync.", 5) &&
		    strncmp(fn, "time.", 5) && strncmp(fn, "internal/", 9)) {
			*name = fn;
			return g->frames[i];
		}
	}
	return 0;
}

static const char *reason_name(unsigned reason, uint8_t flags)
{
	const char *n;

	if (reason == SLOT_MUTEX)
		return "sync.Mutex";

	if (reason == WR_SEMACQUIRE && (flags & WEFT_GO_PARK_SEMA_MUTEX))
		return "sync.Mutex";
	if (reason == WR_SEMACQUIRE)
		return "semaphore";
	if (reason == WR_IOWAIT)
		return "network I/O";
	n = go_wait_reason_name(GO_VERSION_NAMES, reason);
	return n && n[0] ? n : "parked";
}

static struct go_proc *proc_of(struct session *s, struct go_state *st, int32_t pid)
{
	struct go_proc *p = u64map_get(&st->procs, (uint32_t)pid);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p || u64map_put(&st->procs, (uint32_t)pid, p)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	if (s->pf) {
		struct process *pr = proc_get(&s->tt, pid);
		char name[64];

		snprintf(name, sizeof(name), "%s %d", pr && pr->name[0] ? pr->name : "process",
			 pid);
		p->track = pf_track_process(s->pf, pid, name);
		p->counter = pf_track_counter(s->pf, p->track, "goroutines");
	}
	return p;
}

static void count_changed(struct session *s, struct go_proc *p, uint64_t ts)
{
	int64_t n = p->alive + p->pending_new;

	if (n > p->max_count)
		p->max_count = n;
	if (s->pf && p->counter)
		pf_counter(s->pf, p->counter, ts, (double)n);
}

static struct goroutine *goroutine_of(struct session *s, struct go_state *st, int32_t pid,
				      uint64_t goid, uint64_t startpc, uint64_t ts)
{
	struct goroutine *g = u64map_get(&st->gs, g_key(pid, goid));
	struct go_proc *p;

	if (g) {
		if (!g->startpc && startpc) {
			g->startpc = startpc;
			func_at(s, st, pid, startpc, false);
		}
		return g;
	}
	g = calloc(1, sizeof(*g));
	if (!g || u64map_put(&st->gs, g_key(pid, goid), g)) {
		free(g);
		return NULL;
	}
	g->pid = pid;
	g->goid = goid;
	g->startpc = startpc;
	func_at(s, st, pid, startpc, false);
	p = proc_of(s, st, pid);
	if (p) {
		/* First sighting: one of the goroutines created during the recording, if any are
		 * still unaccounted for (creation records carry no goid). */
		if (p->pending_new > 0)
			p->pending_new--;
		p->alive++;
		count_changed(s, p, ts);
	}
	return g;
}

/*
 * The function a goroutine runs. `go f(x)` starts a compiler-made closure ("main.main.func1")
 * that calls f: when the park stack shows what such a closure called, name that instead.
 */
static const char *start_func(struct session *s, struct go_state *st, const struct goroutine *g)
{
	const char *fn = func_at(s, st, g->pid, g->startpc, false), *p;

	if (!fn)
		return NULL;
	p = strrchr(fn, '.');
	if (!p || strncmp(p, ".func", 5) || !p[5] || strspn(p + 5, "0123456789") != strlen(p + 5))
		return fn;
	for (int i = 1; i < g->nframes && i < WEFT_GO_FRAMES; i++) {
		const char *callee, *f = func_at(s, st, g->pid, g->frames[i], true);

		if (!f || strcmp(f, fn))
			continue;
		callee = func_at(s, st, g->pid, g->frames[i - 1], true);
		if (callee && strncmp(callee, "runtime.", 8))
			return callee;
		break;
	}
	return fn;
}

static const char *g_func(struct session *s, struct go_state *st, const struct goroutine *g)
{
	const char *fn = start_func(s, st, g);

	return fn ? fn : "?";
}

static void name_goroutine(struct session *s, struct go_state *st, struct goroutine *g)
{
	const char *fn = start_func(s, st, g);

	snprintf(g->name, sizeof(g->name), "goroutine %" PRIu64 "%s%s", g->goid, fn ? " " : "",
		 fn ? fn : "");
	g->named = fn != NULL || !g->startpc;
}

static uint64_t track_of(struct session *s, struct go_state *st, struct goroutine *g)
{
	struct go_proc *p;

	if (g->track || !s->pf)
		return g->track;
	p = proc_of(s, st, g->pid);
	if (!p || !p->track)
		return 0;
	if (!g->named)
		name_goroutine(s, st, g);
	g->track = pf_track_child(s->pf, p->track, g->name);
	return g->track;
}

static struct go_chan *chan_of(struct go_state *st, int32_t pid, uint64_t addr)
{
	struct go_chan *c = u64map_get(&st->chans, chan_key(pid, addr));

	if (c)
		return c;
	if (st->chans.len >= MAX_CHANS) {
		st->chans_dropped++;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || u64map_put(&st->chans, chan_key(pid, addr), c)) {
		free(c);
		return NULL;
	}
	c->pid = pid;
	c->addr = addr;
	return c;
}

static void chan_add_goroutine(struct go_chan *c, uint64_t goid)
{
	for (int i = 0; i < c->ngoids; i++)
		if (c->goids[i] == goid)
			return;
	if (c->ngoids < CHAN_GOROUTINES)
		c->goids[c->ngoids++] = goid;
}

/* Charge a wait of dur to g and to the channels it waited on (the waker joins them). */
static void charge_wait(struct session *s, struct go_state *st, struct goroutine *g, uint64_t dur,
			struct goroutine *waker)
{
	unsigned slot = g->reason < SLOT_OTHER ? g->reason : SLOT_OTHER;

	if (g->reason == WR_SEMACQUIRE && (g->flags & WEFT_GO_PARK_SEMA_MUTEX))
		slot = SLOT_MUTEX;
	g->blocked_ns[slot] += dur;
	g->blocked_total += dur;
	g->waits++;
	for (int i = 0; i < g->nchans && i < WEFT_GO_CHANS; i++) {
		struct go_chan *c = g->chans[i] ? chan_of(st, g->pid, g->chans[i]) : NULL;
		const char *fn;

		if (!c)
			continue;
		if (g->reason == WR_CHAN_SEND)
			c->send_ns += dur;
		else if (g->reason == WR_CHAN_RECV)
			c->recv_ns += dur;
		else
			c->select_ns += dur;
		c->waits++;
		if (dur >= c->max_ns) {
			c->max_ns = dur;
			c->site_pc = user_site(s, st, g, &fn);
		}
		chan_add_goroutine(c, g->goid);
		if (waker)
			chan_add_goroutine(c, waker->goid);
	}
}

/* Close g's open wait at ts: account it and write its slice, with the waker's flow if known. */
/* How a wait ended when no goroutine woke it (woken_by). */
static const char WAKE_RUNTIME[] = "runtime (timer or scheduler)";
static const char WAKE_NETPOLL[] = "netpoller (I/O ready)";
static const char WAKE_UNSEEN[] = "not seen (ran again without a wake weft saw)";

static void close_wait(struct session *s, struct go_state *st, struct goroutine *g, uint64_t ts,
		       struct goroutine *waker, const char *how, uint64_t wake_chan)
{
	uint64_t track, flow = 0;

	g->parked = false;
	if (how == WAKE_UNSEEN)
		g->unseen_wakes++;
	if (g->before)
		g->waits++; /* counted, not charged: see on_ready() */
	/* The channel that completed the wait, if it is one the goroutine waited on: a select
	 * is then charged to the case that fired, not to every case. */
	for (int i = 0; wake_chan && i < g->nchans && i < WEFT_GO_CHANS; i++) {
		if (g->chans[i] == wake_chan) {
			g->chans[0] = wake_chan;
			g->nchans = 1;
			break;
		}
	}
	if (!g->before)
		charge_wait(s, st, g, ts > g->park_ts ? ts - g->park_ts : 0, waker);

	track = track_of(s, st, g);
	if (!track)
		return;
	{
		struct pf_arg args[6];
		size_t n = 0;
		const char *site;
		char chans[WEFT_GO_CHANS * 20] = "";

		if (g->park_tid)
			args[n++] = (struct pf_arg){ .name = "thread", .type = PF_ARG_INT,
						     .i = g->park_tid };
		if (g->nchans == 1) {
			args[n++] = (struct pf_arg){ .name = "channel", .type = PF_ARG_POINTER,
						     .u = g->chans[0] };
		} else if (g->nchans > 1) {
			for (int i = 0; i < g->nchans && i < WEFT_GO_CHANS; i++)
				snprintf(chans + strlen(chans), sizeof(chans) - strlen(chans),
					 "%s0x%" PRIx64, i ? " " : "", g->chans[i]);
			args[n++] = (struct pf_arg){ .name = "channels", .type = PF_ARG_STRING,
						     .s = chans };
		}
		if (g->flags & WEFT_GO_PARK_SEMA)
			args[n++] = (struct pf_arg){ .name = (g->flags & WEFT_GO_PARK_SEMA_MUTEX)
								     ? "mutex_sema"
								     : "semaphore",
						     .type = PF_ARG_POINTER, .u = g->obj };
		if (waker)
			args[n++] = (struct pf_arg){ .name = "woken_by", .type = PF_ARG_UINT,
						     .u = waker->goid };
		else
			args[n++] = (struct pf_arg){
				.name = "woken_by", .type = PF_ARG_STRING,
				.s = how
			};
		if (user_site(s, st, g, &site) && site)
			args[n++] = (struct pf_arg){ .name = "at", .type = PF_ARG_STRING,
						     .s = site };
		pf_slice_begin(s->pf, track, g->park_ts,
			       g->before ? "blocked since before the recording"
					 : reason_name(g->reason, g->flags),
			       args, n, NULL, 0, NULL, 0);
		g->before = false;
		pf_slice_end(s->pf, track, ts);
		/*
		 * The arrow: from a zero-length "wake" slice on the waker's track to a zero-length
		 * "woken" slice at the end of the blocked one. Flows must point forward in time
		 * (the trace processor binds them in timestamp order), so the blocked slice itself,
		 * which began earlier, cannot be the target; the waker's slice is written first
		 * so it comes first at equal timestamps.
		 */
		if (waker && track_of(s, st, waker)) {
			char wname[64], gname[64];
			struct pf_arg wa = { .name = "wakes", .type = PF_ARG_UINT, .u = g->goid };
			struct pf_arg ga = { .name = "woken_by", .type = PF_ARG_UINT, .u = waker->goid };
			struct text tw = text_on(wname, sizeof(wname));
			struct text tg = text_on(gname, sizeof(gname));

			flow = ++st->next_flow;
			text_str(&tw, "wake goroutine ");
			text_uint(&tw, g->goid);
			text_str(&tg, "woken by goroutine ");
			text_uint(&tg, waker->goid);
			pf_slice_begin(s->pf, waker->track, ts, wname, &wa, 1, &flow, 1, NULL, 0);
			pf_slice_end(s->pf, waker->track, ts);
			pf_slice_begin(s->pf, track, ts, gname, &ga, 1, NULL, 0, &flow, 1);
			pf_slice_end(s->pf, track, ts);
			st->flows++;
		}
	}
}

static void on_park(struct session *s, struct go_state *st, const struct weft_go_park_event *e)
{
	struct goroutine *g = goroutine_of(s, st, e->hdr.pid, e->goid, e->startpc, e->hdr.ts);

	if (!g)
		return;
	/* gopark's prologue may grow the stack and start over: the entry probe then fires twice
	 * for one park. */
	if (g->parked && g->reason == e->reason && g->frames[0] == e->frames[0] &&
	    e->hdr.ts - g->park_ts < REPARK_NS)
		return;
	if (g->parked) /* it ran again without a wake we saw */
		close_wait(s, st, g, e->hdr.ts, NULL, WAKE_UNSEEN, 0);
	g->parked = true;
	g->park_ts = e->hdr.ts;
	g->park_tid = e->hdr.tid;
	g->reason = e->reason;
	/* The semaphore remembered at semacquire1 belongs to this park only if it is a semaphore
	 * wait: the fast path acquires without parking and leaves it behind. */
	g->flags = e->reason == WR_SEMACQUIRE ? e->flags : 0;
	g->lock = e->lock;
	g->obj = g->flags ? e->obj : 0;
	g->nchans = e->nchans <= WEFT_GO_CHANS ? e->nchans : WEFT_GO_CHANS;
	memcpy(g->chans, e->chans, sizeof(g->chans));
	g->nframes = e->nframes <= WEFT_GO_FRAMES ? e->nframes : WEFT_GO_FRAMES;
	memcpy(g->frames, e->frames, sizeof(g->frames));
	if (g->flags & WEFT_GO_PARK_SEMA)
		st->sema_parks++;
	/* Names now, while the process is alive: a leak's stack is printed after it is gone. */
	for (int i = 0; i < g->nframes; i++)
		func_at(s, st, g->pid, g->frames[i], true);
	func_at(s, st, g->pid, g->startpc, false);
}

static void on_ready(struct session *s, struct go_state *st, const struct weft_go_ready_event *e)
{
	struct goroutine *wakee, *waker = NULL;

	wakee = goroutine_of(s, st, e->hdr.pid, e->wakee_goid, e->wakee_startpc, e->hdr.ts);
	if (e->goid)
		waker = goroutine_of(s, st, e->hdr.pid, e->goid, e->startpc, e->hdr.ts);
	/* goready only readies a waiting goroutine: one never seen parking parked before the
	 * probes were attached (record -p). Show the wait from the first Go record on, with its
	 * waker, but leave it out of the blocked-time ranking (its start is unknown). */
	if (wakee && !wakee->parked && !wakee->waits) {
		memset(wakee->chans, 0, sizeof(wakee->chans));
		wakee->parked = wakee->before = true;
		wakee->park_ts = st->first_ts;
		wakee->park_tid = 0;
		wakee->reason = wakee->flags = wakee->nchans = wakee->nframes = 0;
	}
	if (wakee && wakee->parked)
		close_wait(s, st, wakee, e->hdr.ts, waker,
			   (e->flags & WEFT_GO_READY_NETPOLL) ? WAKE_NETPOLL : WAKE_RUNTIME, e->chan);
}

static void on_new(struct session *s, struct go_state *st, const struct weft_go_new_event *e)
{
	struct go_proc *p = proc_of(s, st, e->hdr.pid);
	struct goroutine *creator;

	if (!p)
		return;
	p->created++;
	p->pending_new++;
	count_changed(s, p, e->hdr.ts);
	if (!e->creator_goid || !s->pf)
		return;
	creator = goroutine_of(s, st, e->hdr.pid, e->creator_goid, e->creator_startpc, e->hdr.ts);
	if (creator && track_of(s, st, creator)) {
		const char *fn = func_at(s, st, e->hdr.pid, e->startpc, false);
		char name[128];

		snprintf(name, sizeof(name), "go %s", fn ? fn : "(unknown function)");
		pf_instant(s->pf, creator->track, e->hdr.ts, name, NULL, 0);
	}
}

static void on_exit_go(struct session *s, struct go_state *st, const struct weft_go_exit_event *e)
{
	struct goroutine *g = goroutine_of(s, st, e->hdr.pid, e->goid, e->startpc, e->hdr.ts);
	struct go_proc *p = proc_of(s, st, e->hdr.pid);

	if (!g || g->exited)
		return;
	if (g->parked)
		close_wait(s, st, g, e->hdr.ts, NULL, WAKE_UNSEEN, 0);
	g->exited = true;
	if (p) {
		p->exited++;
		p->alive--;
		count_changed(s, p, e->hdr.ts);
	}
	/* Nothing to rank, or enough kept already: forget it (goids are not reused; its track
	 * in the trace stays). */
	if (g->blocked_total && st->ended_kept < MAX_ENDED_KEPT) {
		st->ended_kept++;
		return;
	}
	if (g->blocked_total)
		st->ended_dropped++;
	u64map_del(&st->gs, g_key(g->pid, g->goid));
	free(g);
}

static void on_chan(struct session *s, struct go_state *st, const struct weft_go_chan_event *e)
{
	struct go_chan *c = chan_of(st, e->hdr.pid, e->chan);

	if (!c)
		return;
	c->made_pc = e->site;
	func_at(s, st, e->hdr.pid, e->site, true); /* named while the process lives */
}

static void go_event(struct session *s, void *state, const struct weft_event_header *h)
{
	struct go_state *st = state;

	if (!st->first_ts)
		st->first_ts = h->ts;
	st->last_ts = h->ts;
	switch (h->type) {
	case WEFT_EV_GO_PARK:
		st->hits[0]++;
		on_park(s, st, (const void *)h);
		break;
	case WEFT_EV_GO_READY:
		st->hits[1]++;
		on_ready(s, st, (const void *)h);
		break;
	case WEFT_EV_GO_NEW:
		st->hits[2]++;
		on_new(s, st, (const void *)h);
		break;
	case WEFT_EV_GO_EXIT:
		st->hits[3]++;
		on_exit_go(s, st, (const void *)h);
		break;
	case WEFT_EV_GO_CHAN:
		st->hits[4]++;
		on_chan(s, st, (const void *)h);
		break;
	}
}

/* Goroutines still parked at the end keep their slice open to the end (no waker). */
static void go_finish(struct session *s, void *state, uint64_t end_ts)
{
	struct go_state *st = state;
	uint64_t k;
	void *v;

	st->end_ts = end_ts;
	for (size_t i = 0; u64map_next(&st->gs, &i, &k, &v);) {
		struct goroutine *g = v;
		uint64_t track, dur = end_ts > g->park_ts ? end_ts - g->park_ts : 0;

		if (!g->parked || g->exited)
			continue;
		/* Still blocked: its wait so far counts, to it and to its channels. */
		charge_wait(s, st, g, dur, NULL);
		track = track_of(s, st, g);
		if (track) {
			struct pf_arg a[2] = {
				{ .name = "thread", .type = PF_ARG_INT, .i = g->park_tid },
				{ .name = "still_blocked", .type = PF_ARG_STRING,
				  .s = "at the end of the recording" },
			};

			pf_slice_begin(s->pf, track, g->park_ts, reason_name(g->reason, g->flags),
				       a, 2, NULL, 0, NULL, 0);
			pf_slice_end(s->pf, track, end_ts);
		}
	}
}

/* --- summary ---------------------------------------------------------------------------- */

static uint64_t chan_total(const struct go_chan *c)
{
	return c->send_ns + c->recv_ns + c->select_ns;
}

static int by_chan_blocked(const void *a, const void *b)
{
	uint64_t x = chan_total(*(struct go_chan *const *)a);
	uint64_t y = chan_total(*(struct go_chan *const *)b);

	return x == y ? 0 : x > y ? -1 : 1;
}

static int by_g_blocked(const void *a, const void *b)
{
	const struct goroutine *x = *(const struct goroutine *const *)a;
	const struct goroutine *y = *(const struct goroutine *const *)b;

	if (x->blocked_total != y->blocked_total)
		return x->blocked_total > y->blocked_total ? -1 : 1;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

static int by_park_ts(const void *a, const void *b)
{
	const struct goroutine *x = *(const struct goroutine *const *)a;
	const struct goroutine *y = *(const struct goroutine *const *)b;

	if (x->park_ts != y->park_ts)
		return x->park_ts < y->park_ts ? -1 : 1;
	return x->goid < y->goid ? -1 : x->goid > y->goid;
}

static struct go_chan **ranked_chans(struct go_state *st, size_t *n)
{
	struct go_chan **arr = malloc((st->chans.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&st->chans, &i, &k, &v);)
		if (((struct go_chan *)v)->waits) /* made, but nobody blocked on it */
			arr[(*n)++] = v;
	qsort(arr, *n, sizeof(*arr), by_chan_blocked);
	return arr;
}

/* The runtime's own goroutines (GC workers, sweeper, scavenger, finalizers) idle parked by
 * design; runtime.main is the program's main goroutine. */
static bool runtime_goroutine(struct session *s, struct go_state *st, const struct goroutine *g)
{
	const char *fn = func_at(s, st, g->pid, g->startpc, false);

	return fn && !strncmp(fn, "runtime.", 8) && strcmp(fn, "runtime.main");
}

/* The program's goroutines (not the runtime's): leaks, those parked at the end (longest
 * first); else those with blocked time. */
static struct goroutine **ranked_goroutines(struct session *s, struct go_state *st, bool leaks,
					    size_t *n)
{
	struct goroutine **arr = malloc((st->gs.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&st->gs, &i, &k, &v);) {
		struct goroutine *g = v;

		if (runtime_goroutine(s, st, g))
			continue;
		if (leaks ? g->parked && !g->exited : g->blocked_total > 0)
			arr[(*n)++] = g;
	}
	qsort(arr, *n, sizeof(*arr), leaks ? by_park_ts : by_g_blocked);
	return arr;
}

static uint64_t total_hits(const struct go_state *st)
{
	return st->hits[0] + st->hits[1] + st->hits[2] + st->hits[3] + st->hits[4] +
	       st->sema_parks;
}

static void fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000ULL)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.1fus", ns / 1e3);
}

/* Blocked time by reason, largest first, as "chan send 1.2s, select 3ms". */
static void reasons_str(const struct goroutine *g, char *out, size_t len)
{
	bool used[REASONS] = { false };

	out[0] = 0;
	for (int k = 0; k < 3; k++) {
		int best = -1;
		char d[16];

		for (int r = 0; r < REASONS; r++)
			if (!used[r] && g->blocked_ns[r] &&
			    (best < 0 || g->blocked_ns[r] > g->blocked_ns[best]))
				best = r;
		if (best < 0)
			break;
		used[best] = true;
		fmt_dur(d, sizeof(d), g->blocked_ns[best]);
		snprintf(out + strlen(out), len - strlen(out), "%s%s %s", k ? ", " : "",
			 reason_name(best, 0), d);
	}
}

static void go_summary_text(struct session *s, void *state, FILE *f)
{
	struct go_state *st = state;
	struct go_chan **chans;
	struct goroutine **gs;
	size_t n;
	uint64_t hits = total_hits(st);
	double secs = st->last_ts > st->first_ts ? (st->last_ts - st->first_ts) / 1e9 : 0;
	char a[16], b[16], c[16], d[16];
	uint64_t k;
	void *v;

	if (!hits)
		return;
	fprintf(f, "\nGo: goroutines and channels\n");
	fprintf(f, "  uprobe hits: %" PRIu64 " (park %" PRIu64 ", ready %" PRIu64 ", new %" PRIu64
		   ", exit %" PRIu64 ", makechan %" PRIu64 ", semacquire that parked %" PRIu64
		   "), %.0f/s; estimated cost to the target ~%.1f ms (hits x ~10us)\n",
		hits, st->hits[0], st->hits[1], st->hits[2], st->hits[3], st->hits[4],
		st->sema_parks,
		secs > 0 ? hits / secs : 0.0, hits * (double)EST_HIT_NS / 1e6);
	for (size_t i = 0; u64map_next(&st->procs, &i, &k, &v);) {
		struct go_proc *p = v;

		fprintf(f, "  pid %d: %" PRIu64 " goroutines created, %" PRIu64
			   " ended, at most %" PRId64 " alive (counter track \"goroutines\")\n",
			p->pid, p->created, p->exited, p->max_count);
	}

	if (st->ended_dropped || st->chans_dropped)
		fprintf(f, "  not ranked (memory cap): %" PRIu64 " ended goroutines, %" PRIu64
			   " channel waits on channels beyond the first %d\n",
			st->ended_dropped, st->chans_dropped, MAX_CHANS);
	chans = ranked_chans(st, &n);
	fprintf(f, "\n  Channels by blocked time (send side / receive side / in select):\n");
	fprintf(f, "  %-4s %7s %-18s %9s %9s %9s %9s %7s  %s\n", "#", "PID", "CHANNEL", "BLOCKED",
		"SEND", "RECV", "SELECT", "WAITS", "GOROUTINES (where blocked), where made");
	for (size_t i = 0; chans && i < n && i < TOP_CHANS; i++) {
		struct go_chan *ch = chans[i];
		const char *site = func_at(s, st, ch->pid, ch->site_pc, true);
		char gl[96] = "";

		fmt_dur(a, sizeof(a), chan_total(ch));
		fmt_dur(b, sizeof(b), ch->send_ns);
		fmt_dur(c, sizeof(c), ch->recv_ns);
		fmt_dur(d, sizeof(d), ch->select_ns);
		for (int j = 0; j < ch->ngoids; j++)
			snprintf(gl + strlen(gl), sizeof(gl) - strlen(gl), "%s%" PRIu64,
				 j ? "," : "", ch->goids[j]);
		const char *made = func_at(s, st, ch->pid, ch->made_pc, true);

		fprintf(f, "  #%-3zu %7d 0x%-16" PRIx64 " %9s %9s %9s %9s %7" PRIu64 "  %s (%s)%s%s\n",
			i + 1, ch->pid, ch->addr, a, b, c, d, ch->waits, gl, site ? site : "?",
			made ? ", made in " : "", made ? made : "");
	}
	if (!n)
		fprintf(f, "  (no goroutine blocked on a channel)\n");
	free(chans);

	gs = ranked_goroutines(s, st, false, &n);
	fprintf(f, "\n  Goroutines by blocked time (the runtime's own not listed):\n");
	for (size_t i = 0; gs && i < n && i < TOP_GOROUTINES; i++) {
		char rs[160];

		fmt_dur(a, sizeof(a), gs[i]->blocked_total);
		reasons_str(gs[i], rs, sizeof(rs));
		fprintf(f, "  #%-3zu pid %d goroutine %-6" PRIu64 " %-28s %9s in %" PRIu64
			   " waits: %s\n",
			i + 1, gs[i]->pid, gs[i]->goid, g_func(s, st, gs[i]), a, gs[i]->waits, rs);
	}
	free(gs);

	gs = ranked_goroutines(s, st, true, &n);
	if (n) {
		fprintf(f, "\n  Goroutines still blocked at the end (possible leaks): %zu\n", n);
		for (size_t i = 0; gs && i < n && i < TOP_LEAKS; i++) {
			struct goroutine *g = gs[i];

			fmt_dur(a, sizeof(a), st->end_ts > g->park_ts ? st->end_ts - g->park_ts : 0);
			fprintf(f, "  goroutine %" PRIu64 " %s (pid %d): %s for %s", g->goid,
				g_func(s, st, g), g->pid, reason_name(g->reason, g->flags), a);
			if (g->nchans)
				fprintf(f, " on channel 0x%" PRIx64, g->chans[0]);
			fprintf(f, "\n");
			for (int j = 0; j < g->nframes; j++) {
				const char *fn = func_at(s, st, g->pid, g->frames[j], true);

				fprintf(f, "      %s\n", fn ? fn : "?");
			}
		}
		if (n > TOP_LEAKS)
			fprintf(f, "  ... and %zu more\n", n - TOP_LEAKS);
	}
	free(gs);
}

static void go_summary_json(struct session *s, void *state, FILE *f)
{
	struct go_state *st = state;
	struct go_chan **chans;
	struct goroutine **gs;
	size_t n;
	uint64_t hits = total_hits(st), k;
	void *v;
	bool first = true;

	fprintf(f, "\"go\": {\"probe_hits\": %" PRIu64 ", \"hits\": {\"park\": %" PRIu64
		   ", \"ready\": %" PRIu64 ", \"new\": %" PRIu64 ", \"exit\": %" PRIu64
		   ", \"makechan\": %" PRIu64 ", \"semacquire\": %" PRIu64
		   "}, \"est_cost_ns\": %" PRIu64
		   ", \"flows\": %" PRIu64 ",\n    \"processes\": [",
		hits, st->hits[0], st->hits[1], st->hits[2], st->hits[3], st->hits[4],
		st->sema_parks, hits * EST_HIT_NS, st->flows);
	for (size_t i = 0; u64map_next(&st->procs, &i, &k, &v); first = false) {
		struct go_proc *p = v;

		fprintf(f, "%s{\"pid\": %d, \"created\": %" PRIu64 ", \"exited\": %" PRIu64
			   ", \"max_goroutines\": %" PRId64 "}",
			first ? "" : ", ", p->pid, p->created, p->exited, p->max_count);
	}
	fprintf(f, "],\n    \"channels\": [");
	chans = ranked_chans(st, &n);
	for (size_t i = 0; chans && i < n && i < JSON_TOP; i++) {
		struct go_chan *c = chans[i];

		fprintf(f, "%s\n      {\"pid\": %d, \"addr\": \"0x%" PRIx64 "\", \"blocked_ns\": %" PRIu64
			   ", \"send_ns\": %" PRIu64 ", \"recv_ns\": %" PRIu64 ", \"select_ns\": %" PRIu64
			   ", \"waits\": %" PRIu64 ", \"max_ns\": %" PRIu64 ", \"site\": ",
			i ? "," : "", c->pid, c->addr, chan_total(c), c->send_ns, c->recv_ns,
			c->select_ns, c->waits, c->max_ns);
		summary_json_str(f, func_at(s, st, c->pid, c->site_pc, true) ?: "?");
		fprintf(f, ", \"made_in\": ");
		summary_json_str(f, func_at(s, st, c->pid, c->made_pc, true) ?: "?");
		fprintf(f, ", \"goroutines\": [");
		for (int j = 0; j < c->ngoids; j++)
			fprintf(f, "%s%" PRIu64, j ? ", " : "", c->goids[j]);
		fprintf(f, "]}");
	}
	free(chans);
	fprintf(f, "],\n    \"goroutines\": [");
	gs = ranked_goroutines(s, st, false, &n);
	for (size_t i = 0; gs && i < n && i < JSON_TOP; i++) {
		struct goroutine *g = gs[i];
		bool fr = true;

		fprintf(f, "%s\n      {\"pid\": %d, \"goid\": %" PRIu64 ", \"function\": ",
			i ? "," : "", g->pid, g->goid);
		summary_json_str(f, g_func(s, st, g));
		fprintf(f, ", \"blocked_ns\": %" PRIu64 ", \"waits\": %" PRIu64
			   ", \"by_reason\": {", g->blocked_total, g->waits);
		for (int r = 0; r < REASONS; r++) {
			if (!g->blocked_ns[r])
				continue;
			fprintf(f, "%s", fr ? "" : ", ");
			summary_json_str(f, reason_name(r, 0));
			fprintf(f, ": %" PRIu64, g->blocked_ns[r]);
			fr = false;
		}
		fprintf(f, "}}");
	}
	free(gs);
	fprintf(f, "],\n    \"leaks\": [");
	gs = ranked_goroutines(s, st, true, &n);
	for (size_t i = 0; gs && i < n && i < JSON_TOP; i++) {
		struct goroutine *g = gs[i];

		fprintf(f, "%s\n      {\"pid\": %d, \"goid\": %" PRIu64 ", \"function\": ",
			i ? "," : "", g->pid, g->goid);
		summary_json_str(f, g_func(s, st, g));
		fprintf(f, ", \"reason\": ");
		summary_json_str(f, reason_name(g->reason, g->flags));
		fprintf(f, ", \"channel\": \"0x%" PRIx64 "\", \"blocked_ns\": %" PRIu64
			   ", \"stack\": [",
			g->nchans ? g->chans[0] : 0,
			st->end_ts > g->park_ts ? st->end_ts - g->park_ts : 0);
		for (int j = 0; j < g->nframes; j++) {
			fprintf(f, "%s", j ? ", " : "");
			summary_json_str(f, func_at(s, st, g->pid, g->frames[j], true) ?: "?");
		}
		fprintf(f, "]}");
	}
	free(gs);
	fprintf(f, "]}");
}

static void go_free(void *state)
{
	struct go_state *st = state;
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&st->gs, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->chans, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->procs, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->names, &i, &k, &v);)
		free(v);
	u64map_free(&st->names);
	u64map_free(&st->gs);
	u64map_free(&st->chans);
	u64map_free(&st->procs);
	free(st);
}

const struct analyze_area analyze_area_go = {
	.name = "go",
	.type_min = WEFT_EV_GO_BASE,
	.type_max = WEFT_EV_GO_BASE + 15,
	.init = go_init,
	.event = go_event,
	.finish = go_finish,
	.summary_text = go_summary_text,
	.summary_json = go_summary_json,
	.free = go_free,
};
