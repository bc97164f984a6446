// SPDX-License-Identifier: MIT
/* Lock contention: futex waits joined to their lock, holder and releaser; wait-for cycles. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/area.h"
#include "analyze/hist.h"
#include "analyze/lockname.h"
#include "analyze/locks.h"
#include "analyze/offcpu.h"
#include "analyze/session_impl.h"
#include "analyze/text.h"
#include "perfetto/writer.h"
#include "symbolize/symbolize.h"

#define FLOW_BASE 0x4c4b000000000000ULL /* "LK": this area's flow ids */
#define TALLY_MAX 64                    /* threads listed per lock */
#define STACKS_MAX 8                    /* distinct waiter / holder stacks kept per lock */
#define CHAIN_MAX 6                     /* holder-of-holder steps followed */
#define CYCLE_MAX 16
#define DEADLOCKS_MAX 32
#define FUTEX_TID_MASK 0x3fffffff
#define NAME_LEN 128
#define CHAIN_LEN 512
#define SUMMARY_LOCKS 10                /* locks shown in the text summary */
#define LOCK_OBJECT_MAX 64              /* bytes of a pthread lock object, at most (rwlock: 56) */
#define PARK_HORIZON_NS 1000000000ULL   /* see struct parked_waits */

/* LK_JOIN: a futex wait that is not a lock (thread joins, idle runtime threads): not ranked. */
enum lock_kind { LK_FUTEX = 0, LK_MUTEX, LK_RWLOCK, LK_CONDVAR, LK_SEMAPHORE, LK_JOIN };
static const char *const kind_names[] = { "futex", "mutex", "rwlock", "condvar", "semaphore",
					  "join" };

/* What the holder was doing when a wait began. */
enum holder_state { HS_UNKNOWN = 0, HS_RUNNING, HS_RUNNABLE, HS_SLEEPING, HS_LOCK_WAIT, HS_MAX };
static const char *const holder_state_names[] = { "unknown", "running", "runnable", "sleeping",
						  "waiting on a lock" };

struct tally {
	int32_t tid;
	uint64_t n, ns;
	struct offcpu_stack *last_stack; /* this thread's stack at its latest wait here */
};

struct stack_tally {
	struct offcpu_stack *st;
	uint64_t n, ns;
};

struct lock {
	int32_t pid;
	uint64_t uaddr;
	enum lock_kind kind;
	bool kind_known;                  /* from the libc function waited in, or the shim's call */
	char name[NAME_LEN];              /* lock_name(): its global, else its address */
	bool in_data;                     /* lies in a global: the name says where it is */
	struct offcpu_stack *first_stack; /* where it was first seen contended */
	uint64_t waits, timeouts, total_ns, max_ns, holder_known, releaser_known;
	uint64_t reader_held;             /* rwlock waits while readers held it */
	uint64_t holder_states[HS_MAX];
	char chain[CHAIN_LEN];            /* the longest wait whose holder was itself waiting */
	uint64_t chain_ns;
	struct hist h;
	struct tally waiters[TALLY_MAX], holders[TALLY_MAX], releasers[TALLY_MAX];
	size_t nwaiters, nholders, nreleasers;
	struct stack_tally wstacks[STACKS_MAX], hstacks[STACKS_MAX];
	size_t nwstacks, nhstacks;
	uint32_t nwaiting;                /* threads waiting now: a counter in the trace */
	uint64_t counter_track;
};

/* A wait in progress, by waiter tid. */
struct pending {
	int32_t tid, pid;
	struct lock *lock;
	uint64_t start;
	int32_t holder;                  /* 0: unknown */
	uint32_t readers;                /* rwlock held by readers: how many */
	enum holder_state hstate;
	struct offcpu_stack *stack;
	struct offcpu_stack *holder_stack;
	char chain[CHAIN_LEN];
	bool confirmed;                  /* seen in /proc: the holder was read afresh */
	bool counted;                    /* in its lock's count of waiting threads */
	uint64_t confirmed_ts;           /* when it was seen in /proc */
	uint32_t source;
	/* A wait the shim saw (--mode=both): how often it slept in the kernel, a condvar's mutex */
	bool from_shim;
	uint32_t futex_waits;
	uint64_t mutex;
};

/*
 * --mode=both: a futex wait of a thread is usually the kernel part of a wait the shim saw, but
 * the shim's record comes only when its call returns, after the futex wait ended. So a futex
 * wait that ended is held back per thread until the thread's next shim wait claims it (it lay
 * within) or shows it is none of its (it began earlier). A futex wait nothing claims within
 * PARK_HORIZON_NS of its end (the shim records within microseconds of the futex return, unless
 * the thread is held off a CPU that long) or by the end of the recording counts on its own.
 */
struct parked_wait {
	struct pending p;
	uint64_t end;
	struct weft_lock_end_event e;
};

struct parked_waits {
	struct parked_wait *w;  /* oldest first */
	size_t n, cap;
};

struct last_stack {
	uint64_t ts;
	struct offcpu_stack *st;
};

struct deadlock_member {
	int32_t tid, holder;
	char comm[WEFT_COMM_LEN], holder_comm[WEFT_COMM_LEN];
	struct lock *lock;
	struct offcpu_stack *stack;
};

struct deadlock {
	uint64_t ts;
	uint32_t source;
	size_t n;
	struct deadlock_member m[CYCLE_MAX];
};

struct locks_state {
	struct u64map locks;    /* lock_key(pid, lock's base address) -> struct lock */
	struct u64map aliases;  /* lock_key(pid, futex address) -> struct lock (not owned) */
	struct u64map pending;  /* tid -> struct pending */
	struct u64map stacks;   /* tid -> struct last_stack */
	struct u64map parked;   /* tid -> struct parked_waits (--mode=both) */
	uint64_t last_sweep;    /* when parked waits were last looked at for the horizon */
	struct offcpu_table interned;
	struct deadlock deadlocks[DEADLOCKS_MAX];
	size_t ndeadlocks;
	uint64_t flow_seq;
	uint64_t no_wait;       /* futex calls that returned at once (-EAGAIN) */
	uint64_t joins;         /* futex waits that are not locks: pthread_join, idle Go Ms */
};

static uint64_t lock_key(int32_t pid, uint64_t uaddr)
{
	return uaddr ^ ((uint64_t)(uint32_t)pid << 47) ^ ((uint64_t)(uint32_t)pid >> 17);
}

static int locks_init(struct session *s, void **state)
{
	*state = calloc(1, sizeof(struct locks_state));
	return *state ? 0 : -ENOMEM;
}

static const char *comm_of(struct session *s, int32_t tid)
{
	struct task *t = task_get(&s->tt, tid);

	return t && t->comm[0] ? t->comm : "?";
}

/* "comm/tid", as the trace and the summary name a thread. */
static void thread_label(char *buf, size_t cap, const char *comm, int32_t tid)
{
	struct text t = text_on(buf, cap);

	text_str(&t, comm);
	text_str(&t, "/");
	text_int(&t, tid);
}

/* A thread of the same process other than the waiter: what a lock word's TID must be. */
static bool is_thread_of(struct session *s, int32_t pid, uint32_t tid, int32_t waiter)
{
	struct task *t;

	if (!tid || (int32_t)tid == waiter || tid > 0x3fffffff)
		return false;
	t = task_get(&s->tt, (int32_t)tid);
	return t && t->pid == pid;
}

/* The libc function a wait went through tells what it waits on. */
static enum lock_kind kind_from_stack(const struct offcpu_stack *st)
{
	static const struct {
		const char *needle;
		enum lock_kind kind;
	} pats[] = {
		{ "cond_wait", LK_CONDVAR },	{ "cond_timedwait", LK_CONDVAR },
		{ "cond_clockwait", LK_CONDVAR }, { "rwlock", LK_RWLOCK },
		{ "sem_wait", LK_SEMAPHORE },	{ "sem_timedwait", LK_SEMAPHORE },
		{ "sem_clockwait", LK_SEMAPHORE }, { "mutex_lock", LK_MUTEX },
		{ "lll_lock_wait", LK_MUTEX },	{ "mutex_timedlock", LK_MUTEX },
		{ "mutex_clocklock", LK_MUTEX }, { "pthread_join", LK_JOIN },
		{ "pthread_clockjoin", LK_JOIN }, { "pthread_timedjoin", LK_JOIN },
		{ "thrd_join", LK_JOIN },
		/* Not locks either: a Go runtime thread (M) with no goroutine to run parks on a
		 * futex note until there is work; the Go area shows goroutine waits instead. */
		{ "runtime.notesleep", LK_JOIN }, { "runtime.futexsleep", LK_JOIN },
	};

	for (size_t i = 0; st && i < st->nframes; i++)
		for (size_t j = 0; j < sizeof(pats) / sizeof(pats[0]); j++)
			if (strstr(st->frames[i], pats[j].needle))
				return pats[j].kind;
	return LK_FUTEX;
}

static void classify(struct session *s, struct lock *l, uint32_t cmd, uint32_t val,
		     const uint32_t *words, uint32_t words_ok, int32_t waiter,
		     const struct offcpu_stack *st)
{
	enum lock_kind k;

	if (l->kind_known)
		return;
	if (st) {
		k = kind_from_stack(st);
		if (k != LK_FUTEX) {
			l->kind = k;
			l->kind_known = true;
			return;
		}
	}
	if (l->kind != LK_FUTEX)
		return;
	if (cmd == WEFT_FUTEX_LOCK_PI || cmd == WEFT_FUTEX_LOCK_PI2)
		l->kind = LK_MUTEX;
	/* pthread_join waits on the thread's tid word with the tid as the expected value. */
	else if ((words_ok & WEFT_LOCK_WORDS_MID) && val == words[WEFT_LOCK_WORD0] &&
		 is_thread_of(s, l->pid, val, waiter))
		l->kind = LK_JOIN;
	/* glibc's lll_lock sleeps with 2 ("locked, with waiters") and the owner at +8. */
	else if (val == 2 && (words_ok & WEFT_LOCK_WORDS_MID) &&
		 is_thread_of(s, l->pid, words[WEFT_LOCK_WORD0 + 2], waiter))
		l->kind = LK_MUTEX;
}

/* Read the holder from the lock's neighbourhood (glibc layouts, x86-64). */
static int32_t find_holder(struct session *s, struct lock *l, uint32_t cmd, const uint32_t *words,
			   uint32_t words_ok, int32_t waiter, uint32_t *readers)
{
	const uint32_t *w = words + WEFT_LOCK_WORD0;
	uint32_t cand;

	*readers = 0;
	if (cmd == WEFT_FUTEX_LOCK_PI || cmd == WEFT_FUTEX_LOCK_PI2) {
		/* PI futexes hold the owner's TID in the word itself. */
		cand = w[0] & FUTEX_TID_MASK;
		return (words_ok & WEFT_LOCK_WORDS_MID) && is_thread_of(s, l->pid, cand, waiter)
			       ? (int32_t)cand : 0;
	}
	switch (l->kind) {
	case LK_MUTEX:
	case LK_FUTEX:
		/* pthread_mutex_t: __lock +0 (the futex), __count +4, __owner +8. */
		cand = w[2];
		return (words_ok & WEFT_LOCK_WORDS_MID) && is_thread_of(s, l->pid, cand, waiter)
			       ? (int32_t)cand : 0;
	case LK_RWLOCK:
		/* __readers +0, __writers +4, __wrphase_futex +8, __writers_futex +12,
		 * __cur_writer +24: the futex is at +8 (readers, writers in phase changes) or +12. */
		if ((words_ok & WEFT_LOCK_WORDS_HI) && is_thread_of(s, l->pid, w[4], waiter))
			return (int32_t)w[4];
		if ((words_ok & WEFT_LOCK_WORDS_MID) && is_thread_of(s, l->pid, w[3], waiter))
			return (int32_t)w[3];
		if (words_ok & WEFT_LOCK_WORDS_LO)
			*readers = (words[WEFT_LOCK_WORD0 - 2] >> 3) ? words[WEFT_LOCK_WORD0 - 2] >> 3
								     : words[WEFT_LOCK_WORD0 - 3] >> 3;
		return 0;
	default:
		return 0; /* condvars and semaphores have no owner */
	}
}

/*
 * A lock is named by the global it lies in ("g_account_lock"), else by its address, as the
 * shim's analysis names it (lock_name()). Futex words inside one global are one lock: a condvar
 * sleeps on either of two words, an rwlock on two, and their internal waits use others. Heap
 * locks are keyed by the futex word alone.
 */
static struct lock *lock_get(struct session *s, struct locks_state *st, int32_t pid,
			     uint64_t uaddr)
{
	uint64_t key = lock_key(pid, uaddr), base = uaddr;
	struct lock *l = u64map_get(&st->aliases, key);
	struct sym_loc loc;

	if (l)
		return l;
	if (!sym_resolve_data(s->sym, pid, uaddr, &loc) && loc.function)
		base = uaddr - loc.func_off;
	else
		loc.function = NULL;
	l = u64map_get(&st->locks, lock_key(pid, base));
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return NULL;
		l->pid = pid;
		l->uaddr = base;
		l->in_data = loc.function != NULL;
		lock_name(l->name, sizeof(l->name), loc.function, 0, base);
		if (u64map_put(&st->locks, lock_key(pid, base), l)) {
			free(l);
			return NULL;
		}
	}
	if (u64map_put(&st->aliases, key, l))
		return NULL;
	return l;
}

static struct tally *tally_find(struct tally *arr, size_t n, int32_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (arr[i].tid == tid)
			return &arr[i];
	return NULL;
}

static struct tally *tally_get(struct tally *arr, size_t *n, int32_t tid)
{
	struct tally *t = tally_find(arr, *n, tid);

	if (t)
		return t;
	if (*n >= TALLY_MAX)
		return NULL;
	arr[*n] = (struct tally){ .tid = tid };
	return &arr[(*n)++];
}

static void stack_tally_add(struct stack_tally *arr, size_t *n, struct offcpu_stack *st,
			    uint64_t ns)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < *n; i++)
		if (arr[i].st == st)
			break;
	if (i == *n) {
		if (*n >= STACKS_MAX)
			return;
		arr[(*n)++] = (struct stack_tally){ .st = st };
	}
	arr[i].n++;
	arr[i].ns += ns;
}

static struct offcpu_stack *intern_stack(struct session *s, struct locks_state *st,
					 const struct weft_stack_event *e)
{
	const struct stack_syms *tf = trace_stack_syms(s, e);

	return tf->n ? offcpu_intern(&st->interned, tf->labels, tf->n) : NULL;
}

static enum holder_state holder_state_of(struct session *s, struct locks_state *st,
					 int32_t holder)
{
	struct task *t = task_get(&s->tt, holder);

	if (u64map_get(&st->pending, (uint64_t)holder))
		return HS_LOCK_WAIT;
	if (!t)
		return HS_UNKNOWN;
	switch (t->state) {
	case TS_RUNNING:
		return HS_RUNNING;
	case TS_RUNNABLE:
		return HS_RUNNABLE;
	case TS_SLEEPING:
	case TS_BLOCKED:
		return HS_SLEEPING;
	default:
		return HS_UNKNOWN;
	}
}

#define CHAIN_PRINTF(...) \
	(len += snprintf(p->chain + len, len < CHAIN_LEN ? CHAIN_LEN - len : 0, __VA_ARGS__))

/* "T1 waits on A held by T2, which waits on B held by T3, which is runnable". */
static void build_chain(struct session *s, struct locks_state *st, struct pending *p)
{
	struct pending *cur = p;
	size_t len = 0;

	p->chain[0] = '\0';
	for (int step = 0; cur && step < CHAIN_MAX; step++) {
		int32_t h = cur->holder;
		struct pending *next;

		if (step)
			CHAIN_PRINTF(", which waits on %s %s", kind_names[cur->lock->kind],
				     cur->lock->name);
		else
			CHAIN_PRINTF("%s/%d waits on %s %s", comm_of(s, cur->tid), cur->tid,
				     kind_names[cur->lock->kind], cur->lock->name);
		if (!h) {
			if (cur->readers)
				CHAIN_PRINTF(" held by %u readers", cur->readers);
			break;
		}
		CHAIN_PRINTF(" held by %s/%d", comm_of(s, h), h);
		next = u64map_get(&st->pending, (uint64_t)h);
		if (!next) {
			enum holder_state hs = holder_state_of(s, st, h);

			if (hs != HS_UNKNOWN)
				CHAIN_PRINTF(", which is %s", holder_state_names[hs]);
			break;
		}
		if (next == p)
			break;
		cur = next;
	}
}

static void pending_set_holder(struct session *s, struct locks_state *st, struct pending *p,
			       uint32_t cmd, const uint32_t *words, uint32_t words_ok)
{
	struct task *ht;
	struct tally *tl;

	p->holder = find_holder(s, p->lock, cmd, words, words_ok, p->tid, &p->readers);
	p->hstate = p->holder ? holder_state_of(s, st, p->holder) : HS_UNKNOWN;
	p->holder_stack = NULL;
	if (!p->holder)
		return;
	/* The holder's stack: where it is waiting now if it waits, else where it last took
	 * this lock after waiting for it. */
	if (p->hstate == HS_LOCK_WAIT) {
		struct pending *hp = u64map_get(&st->pending, (uint64_t)p->holder);

		p->holder_stack = hp ? hp->stack : NULL;
	} else if (p->hstate == HS_SLEEPING && (ht = task_get(&s->tt, p->holder))) {
		p->holder_stack = ht->wait_stack;
	}
	if (!p->holder_stack) {
		tl = tally_find(p->lock->waiters, p->lock->nwaiters, p->holder);
		p->holder_stack = tl ? tl->last_stack : NULL;
	}
	/* only a holder that waits itself makes a chain worth showing */
	if (p->hstate == HS_LOCK_WAIT)
		build_chain(s, st, p);
	else
		p->chain[0] = '\0';
}

static struct pending *pending_get(struct locks_state *st, int32_t tid)
{
	struct pending *p = u64map_get(&st->pending, (uint64_t)tid);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (p && u64map_put(&st->pending, (uint64_t)tid, p)) {
		free(p);
		return NULL;
	}
	return p;
}

/* The "waiting: LOCK" counter under the process: how many threads queue on the lock. */
static void count_waiting(struct session *s, struct pending *p, bool waiting, uint64_t ts)
{
	struct lock *l = p->lock;
	char name[NAME_LEN + 16];

	if (p->counted == waiting || (waiting && l->kind == LK_JOIN))
		return;
	p->counted = waiting;
	l->nwaiting += waiting ? 1 : -1;
	if (!l->counter_track) {
		snprintf(name, sizeof(name), "waiting: %s", l->name);
		l->counter_track = pf_track_counter(s->pf, pf_track_process(s->pf, l->pid, NULL),
						    name);
	}
	if (l->counter_track)
		pf_counter(s->pf, l->counter_track, ts, l->nwaiting);
}

/* A fresh wait for tid: whatever was pending for it is over. */
static struct pending *pending_start(struct session *s, struct locks_state *st, int32_t tid,
				     uint64_t ts)
{
	struct pending *p = u64map_get(&st->pending, (uint64_t)tid);

	if (p && p->counted)
		count_waiting(s, p, false, ts);
	return pending_get(st, tid);
}

static void pending_drop(struct session *s, struct locks_state *st, int32_t tid, uint64_t ts)
{
	struct pending *p = u64map_del(&st->pending, (uint64_t)tid);

	if (p && p->counted)
		count_waiting(s, p, false, ts);
	free(p);
}

static void on_stack(struct session *s, struct locks_state *st, const struct weft_stack_event *e)
{
	struct last_stack *ls = u64map_get(&st->stacks, e->hdr.tid);
	struct pending *p;

	if (!ls) {
		ls = calloc(1, sizeof(*ls));
		if (!ls || u64map_put(&st->stacks, e->hdr.tid, ls)) {
			free(ls);
			return;
		}
	}
	ls->ts = e->hdr.ts;
	ls->st = intern_stack(s, st, e);
	/* The BEGIN of the same instant may have come first. */
	p = u64map_get(&st->pending, e->hdr.tid);
	if (p && p->start == e->hdr.ts && !p->stack) {
		p->stack = ls->st;
		if (!p->lock->first_stack)
			p->lock->first_stack = p->stack;
		classify(s, p->lock, 0, 0, NULL, 0, p->tid, p->stack);
		if (p->lock->kind == LK_JOIN)
			count_waiting(s, p, false, e->hdr.ts);
	}
}

static void on_begin(struct session *s, struct locks_state *st,
		     const struct weft_lock_begin_event *e)
{
	struct last_stack *ls = u64map_get(&st->stacks, e->hdr.tid);
	struct pending *p;
	struct lock *l;

	l = lock_get(s, st, e->hdr.pid, e->uaddr);
	if (!l)
		return;
	p = pending_start(s, st, e->hdr.tid, e->hdr.ts);
	if (!p)
		return;
	*p = (struct pending){ .tid = e->hdr.tid, .pid = e->hdr.pid, .lock = l,
			       .start = e->hdr.ts };
	if (ls && ls->ts == e->hdr.ts)
		p->stack = ls->st;
	if (!l->first_stack)
		l->first_stack = p->stack;
	classify(s, l, e->cmd, e->val, e->words, e->words_ok, e->hdr.tid, p->stack);
	pending_set_holder(s, st, p, e->cmd, e->words, e->words_ok);
	count_waiting(s, p, true, e->hdr.ts);
}

static void trace_wait(struct session *s, struct locks_state *st, const struct pending *p,
		       uint64_t end, const struct weft_lock_end_event *e)
{
	struct task *t = task_get(&s->tt, p->tid);
	char name[NAME_LEN + 64], holder[64], releaser[64], child[NAME_LEN + 64];
	struct pf_arg args[12];
	uint64_t track, rtrack, flow, child_ts;
	struct text tx;
	size_t n = 0;

	track = pf_track_thread(s->pf, p->pid, p->tid, t ? t->comm : NULL);
	if (!track)
		return;
	tx = text_on(name, sizeof(name));
	text_str(&tx, "lock wait: ");
	text_str(&tx, p->lock->name);
	args[n++] = (struct pf_arg){ .name = "lock", .type = PF_ARG_STRING, .s = p->lock->name };
	args[n++] = (struct pf_arg){ .name = "kind", .type = PF_ARG_STRING,
				     .s = kind_names[p->lock->kind] };
	args[n++] = (struct pf_arg){ .name = "address", .type = PF_ARG_POINTER,
				     .u = p->lock->uaddr };
	if (p->holder) {
		thread_label(holder, sizeof(holder), comm_of(s, p->holder), p->holder);
		text_str(&tx, " held by ");
		text_str(&tx, holder);
		args[n++] = (struct pf_arg){ .name = "holder", .type = PF_ARG_STRING, .s = holder };
		args[n++] = (struct pf_arg){ .name = "holder_tid", .type = PF_ARG_INT,
					     .i = p->holder };
		args[n++] = (struct pf_arg){ .name = "holder_state", .type = PF_ARG_STRING,
					     .s = holder_state_names[p->hstate] };
	}
	if (p->chain[0] && p->hstate == HS_LOCK_WAIT)
		args[n++] = (struct pf_arg){ .name = "chain", .type = PF_ARG_STRING, .s = p->chain };
	if (e && e->releaser_tid) {
		thread_label(releaser, sizeof(releaser), comm_of(s, e->releaser_tid),
			     (int32_t)e->releaser_tid);
		args[n++] = (struct pf_arg){ .name = "releaser", .type = PF_ARG_STRING,
					     .s = releaser };
		args[n++] = (struct pf_arg){ .name = "releaser_tid", .type = PF_ARG_INT,
					     .i = e->releaser_tid };
	}
	if (p->from_shim)
		args[n++] = (struct pf_arg){ .name = "futex_waits", .type = PF_ARG_INT,
					     .i = p->futex_waits };
	if (p->mutex)
		args[n++] = (struct pf_arg){ .name = "mutex", .type = PF_ARG_POINTER, .u = p->mutex };
	if (!e)
		args[n++] = (struct pf_arg){ .name = "result", .type = PF_ARG_STRING,
					     .s = "still waiting at the end" };
	else if (e->ret == -ETIMEDOUT)
		args[n++] = (struct pf_arg){ .name = "result", .type = PF_ARG_STRING,
					     .s = "timed out" };
	pf_slice_begin(s->pf, track, p->start, name, args, n, NULL, 0, NULL, 0);
	/*
	 * The arrow: from a short "release" slice on the releaser's track, at its futex wake,
	 * to a "woken" slice nested at the end of the wait. Perfetto links flows in timestamp
	 * order, so the slice that ends the flow must begin after the one that starts it.
	 */
	child_ts = e && e->wake_ts ? (e->wake_ts > p->start ? e->wake_ts : p->start) + 1 : 0;
	if (e && e->releaser_tid && e->wake_ts && child_ts < end &&
	    (rtrack = pf_track_thread(s->pf, e->releaser_pid, e->releaser_tid, NULL))) {
		flow = FLOW_BASE | ++st->flow_seq;
		tx = text_on(child, sizeof(child));
		text_str(&tx, "release ");
		text_str(&tx, p->lock->name);
		pf_slice_begin(s->pf, rtrack, e->wake_ts, child, args, 3, &flow, 1, NULL, 0);
		pf_slice_end(s->pf, rtrack, e->wake_ts + 1);
		tx = text_on(child, sizeof(child));
		text_str(&tx, "woken by ");
		text_str(&tx, releaser);
		pf_slice_begin(s->pf, track, child_ts, child, NULL, 0, NULL, 0, &flow, 1);
		pf_slice_end(s->pf, track, end);
	}
	pf_slice_end(s->pf, track, end);
}

/* Count a wait against its lock and draw it. */
static void count_wait(struct session *s, struct locks_state *st, const struct pending *p,
		       uint64_t end, const struct weft_lock_end_event *e)
{
	struct lock *l = p->lock;
	uint64_t ns = end > p->start ? end - p->start : 0;
	struct tally *tl;

	l->waits++;
	if (e && e->ret == -ETIMEDOUT)
		l->timeouts++;
	l->total_ns += ns;
	if (ns > l->max_ns)
		l->max_ns = ns;
	hist_add(&l->h, ns);
	tl = tally_get(l->waiters, &l->nwaiters, p->tid);
	if (tl) {
		tl->n++;
		tl->ns += ns;
		if (p->stack)
			tl->last_stack = p->stack;
	}
	stack_tally_add(l->wstacks, &l->nwstacks, p->stack, ns);
	if (p->holder) {
		l->holder_known++;
		tl = tally_get(l->holders, &l->nholders, p->holder);
		if (tl) {
			tl->n++;
			tl->ns += ns;
		}
		stack_tally_add(l->hstacks, &l->nhstacks, p->holder_stack, ns);
	}
	else if (p->readers)
		l->reader_held++;
	l->holder_states[p->hstate]++;
	if (p->hstate == HS_LOCK_WAIT && ns > l->chain_ns) {
		l->chain_ns = ns;
		memcpy(l->chain, p->chain, sizeof(l->chain));
	}
	if (e && e->releaser_tid) {
		l->releaser_known++;
		tl = tally_get(l->releasers, &l->nreleasers, e->releaser_tid);
		if (tl) {
			tl->n++;
			tl->ns += ns;
		}
	}
	trace_wait(s, st, p, end, e);
}

static void parked_drop(struct parked_waits *pw, size_t n)
{
	memmove(pw->w, pw->w + n, (pw->n - n) * sizeof(pw->w[0]));
	pw->n -= n;
}

/* Parked waits [0, n) of a thread count on their own. */
static void parked_release(struct session *s, struct locks_state *st, struct parked_waits *pw,
			   size_t n)
{
	for (size_t i = 0; i < n; i++)
		count_wait(s, st, &pw->w[i].p, pw->w[i].end, &pw->w[i].e);
	parked_drop(pw, n);
}

/* A futex wait ended: hold it back for the shim's record (see struct parked_waits). */
static void park(struct session *s, struct locks_state *st, const struct pending *p, uint64_t end,
		 const struct weft_lock_end_event *e)
{
	struct parked_waits *pw = u64map_get(&st->parked, (uint64_t)p->tid);

	if (!pw) {
		pw = calloc(1, sizeof(*pw));
		if (!pw || u64map_put(&st->parked, (uint64_t)p->tid, pw)) {
			free(pw);
			count_wait(s, st, p, end, e);
			return;
		}
	}
	if (pw->n == pw->cap) {
		size_t cap = pw->cap ? 2 * pw->cap : 4;
		struct parked_wait *w = realloc(pw->w, cap * sizeof(*w));

		if (!w) {
			count_wait(s, st, p, end, e);
			return;
		}
		pw->w = w;
		pw->cap = cap;
	}
	pw->w[pw->n++] = (struct parked_wait){ .p = *p, .end = end, .e = *e };
}

/* Parked waits older than the horizon count on their own (looked at once per horizon). */
static void parked_sweep(struct session *s, struct locks_state *st, uint64_t now)
{
	uint64_t k;
	void *v;

	if (now < st->last_sweep + PARK_HORIZON_NS)
		return;
	st->last_sweep = now;
	for (size_t i = 0; u64map_next(&st->parked, &i, &k, &v);) {
		struct parked_waits *pw = v;
		size_t n = 0;

		while (n < pw->n && pw->w[n].end + PARK_HORIZON_NS <= now)
			n++;
		parked_release(s, st, pw, n);
	}
}

/* A wait is over (or the recording is): count it against its lock and draw it, or, while
 * the shim's record may still claim it, hold it back. */
static void complete(struct session *s, struct locks_state *st, struct pending *p, uint64_t end,
		     const struct weft_lock_end_event *e)
{
	if (p->lock->kind == LK_JOIN) {
		st->joins++;
		return;
	}
	if (e && locks_take_shim_waits(s))
		park(s, st, p, end, e);
	else
		count_wait(s, st, p, end, e);
}

static void on_end(struct session *s, struct locks_state *st, const struct weft_lock_end_event *e)
{
	struct pending *p = u64map_get(&st->pending, e->hdr.tid);

	if (!p || p->start != e->start_ts) {
		/* The BEGIN was lost, or came before a /proc sighting replaced it. */
		if (!p)
			return;
		if (!p->confirmed || (p->start && e->start_ts > p->start))
			goto out;
		p->start = e->start_ts;
	}
	if (e->ret == -EAGAIN) {
		st->no_wait++;
		goto out;
	}
	complete(s, st, p, e->hdr.ts, e);
out:
	pending_drop(s, st, e->hdr.tid, e->hdr.ts);
}

static bool same_cycle(const struct deadlock *d, const int32_t *tids, size_t n)
{
	size_t hits = 0;

	if (d->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			hits += d->m[j].tid == tids[i];
	return hits == n;
}

static void notice_deadlock(struct session *s, const struct deadlock *d)
{
	char text[4096];
	size_t len = 0;

	if (!s->opts.hooks.notice)
		return;
	len += snprintf(text + len, sizeof(text) - len,
			"DEADLOCK: %zu threads wait for each other (%s):", d->n,
			d->source == WEFT_LOCK_BLOCKED_ATTACH ? "blocked when weft attached"
							      : "blocked for over a second");
	for (size_t i = 0; i < d->n && len < sizeof(text); i++) {
		const struct deadlock_member *m = &d->m[i];

		len += snprintf(text + len, sizeof(text) - len,
				"\n  %s/%d waits on %s %s held by %s/%d", m->comm, m->tid,
				kind_names[m->lock->kind], m->lock->name, m->holder_comm,
				m->holder);
		for (size_t j = 0; m->stack && j < m->stack->nframes && j < 8 &&
				   len < sizeof(text); j++)
			len += snprintf(text + len, sizeof(text) - len, "\n      %s",
					m->stack->frames[j]);
	}
	s->opts.hooks.notice(s->opts.hooks.ctx, text);
}

/* Follow waiter -> holder edges that /proc confirmed; a path back to tid is a deadlock. */
static void check_cycle(struct session *s, struct locks_state *st, int32_t tid, uint64_t ts)
{
	int32_t tids[CYCLE_MAX];
	struct deadlock *d;
	size_t n = 0;
	int32_t cur = tid;

	for (;;) {
		struct pending *p = u64map_get(&st->pending, (uint64_t)cur);

		struct pending *hp;

		if (!p || !p->confirmed || !p->holder || n >= CYCLE_MAX)
			return;
		for (size_t i = 0; i < n; i++)
			if (tids[i] == cur)
				return; /* a cycle not through tid: found from its own members */
		/*
		 * The owner was read when this wait was looked at in /proc; it still holds the
		 * lock if it has been blocked since before that look (a blocked thread releases
		 * nothing). Without that, the edge may be stale: no report.
		 */
		hp = u64map_get(&st->pending, (uint64_t)p->holder);
		if (!hp || !hp->confirmed || hp->start > p->confirmed_ts)
			return;
		tids[n++] = cur;
		cur = p->holder;
		if (cur == tid)
			break;
	}
	for (size_t i = 0; i < st->ndeadlocks; i++)
		if (same_cycle(&st->deadlocks[i], tids, n))
			return;
	if (st->ndeadlocks >= DEADLOCKS_MAX)
		return;
	d = &st->deadlocks[st->ndeadlocks++];
	d->ts = ts;
	d->n = n;
	d->source = WEFT_LOCK_BLOCKED_LONG;
	for (size_t i = 0; i < n; i++) {
		struct pending *p = u64map_get(&st->pending, (uint64_t)tids[i]);
		struct deadlock_member *m = &d->m[i];

		m->tid = tids[i];
		m->holder = p->holder;
		snprintf(m->comm, sizeof(m->comm), "%s", comm_of(s, m->tid));
		snprintf(m->holder_comm, sizeof(m->holder_comm), "%s", comm_of(s, m->holder));
		m->lock = p->lock;
		m->stack = p->stack;
		if (p->source == WEFT_LOCK_BLOCKED_ATTACH)
			d->source = WEFT_LOCK_BLOCKED_ATTACH;
	}
	notice_deadlock(s, d);
}

/* A thread seen blocked in /proc: a fresh look at its lock and the lock's owner. */
static void on_blocked(struct session *s, struct locks_state *st,
		       const struct weft_lock_blocked_event *e)
{
	struct pending *p = u64map_get(&st->pending, e->hdr.tid);
	struct lock *l = lock_get(s, st, e->hdr.pid, e->uaddr);
	struct offcpu_stack *stack;

	if (!l)
		return;
	stack = e->stack.ustack_len ? intern_stack(s, st, &e->stack) : NULL;
	if (!p || p->lock != l || (e->since_ts && p->start != e->since_ts)) {
		p = pending_start(s, st, e->hdr.tid, e->hdr.ts);
		if (!p)
			return;
		*p = (struct pending){ .tid = e->hdr.tid, .pid = e->hdr.pid, .lock = l,
				       .start = e->since_ts ? e->since_ts : e->hdr.ts };
	}
	if (!p->stack)
		p->stack = stack;
	if (!l->first_stack)
		l->first_stack = p->stack;
	p->confirmed = true;
	p->confirmed_ts = e->hdr.ts;
	p->source = e->source;
	classify(s, l, e->cmd, e->val, e->words, e->words_ok, e->hdr.tid, p->stack);
	pending_set_holder(s, st, p, e->cmd, e->words, e->words_ok);
	count_waiting(s, p, true, e->hdr.ts);
	if (p->holder)
		check_cycle(s, st, e->hdr.tid, e->hdr.ts);
}

static void locks_event(struct session *s, void *state, const struct weft_event_header *h)
{
	struct locks_state *st = state;

	switch (h->type) {
	case WEFT_EV_LOCK_BEGIN:
		on_begin(s, st, (const void *)h);
		break;
	case WEFT_EV_LOCK_END:
		on_end(s, st, (const void *)h);
		break;
	case WEFT_EV_LOCK_STACK:
		on_stack(s, st, (const void *)h);
		break;
	case WEFT_EV_LOCK_BLOCKED:
		on_blocked(s, st, (const void *)h);
		break;
	}
	parked_sweep(s, st, h->ts);
}

static void locks_finish(struct session *s, void *state, uint64_t end_ts)
{
	struct locks_state *st = state;
	uint64_t k;
	void *v;

	/* Waits still open (deadlocked threads among them) count up to the end. A wait found
	 * in /proc at the attach has no END: it is still on only if the thread has not run
	 * since (no switch seen, or asleep since before the scan). */
	for (size_t i = 0; u64map_next(&st->pending, &i, &k, &v);) {
		struct pending *p = v;
		struct task *t = task_get(&s->tt, p->tid);

		if (p->source == WEFT_LOCK_BLOCKED_ATTACH && t && t->state != TS_UNKNOWN &&
		    !((t->state == TS_SLEEPING || t->state == TS_BLOCKED) && t->since <= p->start))
			continue;
		complete(s, st, p, end_ts, NULL);
	}
	/* No shim record can claim a futex wait any more. */
	for (size_t i = 0; u64map_next(&st->parked, &i, &k, &v);)
		parked_release(s, st, v, ((struct parked_waits *)v)->n);
}

static int by_total(const void *a, const void *b)
{
	const struct lock *x = *(const struct lock *const *)a, *y = *(const struct lock *const *)b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return x->uaddr < y->uaddr ? -1 : x->uaddr > y->uaddr;
}

static int tally_by_ns(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->ns != y->ns ? (x->ns > y->ns ? -1 : 1) : x->tid - y->tid;
}

static int stack_by_ns(const void *a, const void *b)
{
	const struct stack_tally *x = a, *y = b;

	return x->ns != y->ns ? (x->ns > y->ns ? -1 : 1) : 0;
}

/* Locks with waits, worst first (the tallies sorted too). */
static struct lock **ranked(struct locks_state *st, size_t *n)
{
	struct lock **arr = malloc((st->locks.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&st->locks, &i, &k, &v);) {
		struct lock *l = v;

		if (!l->waits || l->kind == LK_JOIN)
			continue;
		qsort(l->waiters, l->nwaiters, sizeof(l->waiters[0]), tally_by_ns);
		qsort(l->holders, l->nholders, sizeof(l->holders[0]), tally_by_ns);
		qsort(l->releasers, l->nreleasers, sizeof(l->releasers[0]), tally_by_ns);
		qsort(l->wstacks, l->nwstacks, sizeof(l->wstacks[0]), stack_by_ns);
		qsort(l->hstacks, l->nhstacks, sizeof(l->hstacks[0]), stack_by_ns);
		arr[(*n)++] = l;
	}
	qsort(arr, *n, sizeof(*arr), by_total);
	return arr;
}

static void text_tally(struct session *s, FILE *f, const char *what, const struct tally *t,
		       size_t n)
{
	char ns[16];

	fprintf(f, "      %s:", what);
	for (size_t i = 0; i < n && i < 6; i++) {
		summary_fmt_ns(ns, sizeof(ns), t[i].ns);
		fprintf(f, "%s %s/%d (%" PRIu64 ", %s)", i ? "," : "", comm_of(s, t[i].tid),
			t[i].tid, t[i].n, ns);
	}
	fprintf(f, "%s\n", n > 6 ? ", ..." : "");
}

static void text_stack(FILE *f, const char *what, const struct offcpu_stack *st, size_t max)
{
	if (!st)
		return;
	fprintf(f, "      %s:\n", what);
	for (size_t j = 0; j < st->nframes && j < max; j++)
		fprintf(f, "          %s\n", st->frames[j]);
}

static void locks_summary_text(struct session *s, void *state, FILE *f)
{
	struct locks_state *st = state;
	char tot[16], mx[16], p99[16];
	struct lock **arr;
	size_t n;

	for (size_t i = 0; i < st->ndeadlocks; i++) {
		const struct deadlock *d = &st->deadlocks[i];

		fprintf(f, "\nDEADLOCK: %zu threads wait for each other (%s)\n", d->n,
			d->source == WEFT_LOCK_BLOCKED_ATTACH ? "blocked when weft attached"
							      : "blocked for over a second");
		for (size_t j = 0; j < d->n; j++) {
			const struct deadlock_member *m = &d->m[j];

			fprintf(f, "  %s/%d waits on %s %s (0x%" PRIx64 ") held by %s/%d\n", m->comm,
				m->tid, kind_names[m->lock->kind], m->lock->name, m->lock->uaddr,
				m->holder_comm, m->holder);
			text_stack(f, "its stack", m->stack, 12);
		}
	}
	arr = ranked(st, &n);
	if (!n) {
		free(arr);
		return;
	}
	fprintf(f, "\nLocks, most waited-on first:\n");
	for (size_t i = 0; arr && i < n && i < SUMMARY_LOCKS; i++) {
		struct lock *l = arr[i];
		uint64_t hs = 0;

		summary_fmt_ns(tot, sizeof(tot), l->total_ns);
		summary_fmt_ns(mx, sizeof(mx), l->max_ns);
		summary_fmt_ns(p99, sizeof(p99), hist_quantile(&l->h, 0.99));
		fprintf(f, "  #%zu  %s %s (pid %d, 0x%" PRIx64 "): %" PRIu64 " waits, total %s, "
			"max %s, p99 %s\n", i + 1, kind_names[l->kind], l->name, l->pid, l->uaddr,
			l->waits, tot, mx, p99);
		fprintf(f, "      holder known for %.0f%% of waits, releaser for %.0f%%",
			100.0 * l->holder_known / l->waits, 100.0 * l->releaser_known / l->waits);
		if (l->reader_held)
			fprintf(f, "; held by readers in %.0f%%",
				100.0 * l->reader_held / l->waits);
		fprintf(f, "%s\n", l->timeouts ? " (some waits timed out)" : "");
		text_tally(s, f, "waiters", l->waiters, l->nwaiters);
		if (l->nholders)
			text_tally(s, f, "holders", l->holders, l->nholders);
		else if (l->nreleasers) /* condvars, semaphores: who signals or posts */
			text_tally(s, f, "woken by", l->releasers, l->nreleasers);
		for (int k = HS_RUNNING; k < HS_MAX; k++)
			hs += l->holder_states[k];
		if (hs) {
			fprintf(f, "      while a waiter waited, the holder was:");
			for (int k = HS_RUNNING, first = 1; k < HS_MAX; k++) {
				if (!l->holder_states[k])
					continue;
				fprintf(f, "%s %s %.0f%%", first ? "" : ",", holder_state_names[k],
					100.0 * l->holder_states[k] / hs);
				first = 0;
			}
			fprintf(f, "\n");
		}
		if (l->chain[0])
			fprintf(f, "      longest chain: %s\n", l->chain);
		if (!l->in_data) /* its address alone does not say where it is */
			text_stack(f, "first seen contended at", l->first_stack, 10);
		text_stack(f, "waiter stack (most wait time)",
			   l->nwstacks ? l->wstacks[0].st : l->first_stack, 10);
		text_stack(f, "holder stack (where it waited, or last took the lock)",
			   l->nhstacks ? l->hstacks[0].st : NULL, 10);
	}
	free(arr);
}

static void json_frames(FILE *f, const struct offcpu_stack *st)
{
	fprintf(f, "[");
	for (size_t j = 0; st && j < st->nframes; j++) {
		fprintf(f, "%s", j ? ", " : "");
		summary_json_str(f, st->frames[j]);
	}
	fprintf(f, "]");
}

static void json_tally(struct session *s, FILE *f, const struct tally *t, size_t n)
{
	fprintf(f, "[");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"tid\": %d, \"comm\": ", i ? ", " : "", t[i].tid);
		summary_json_str(f, comm_of(s, t[i].tid));
		fprintf(f, ", \"waits\": %" PRIu64 ", \"wait_ns\": %" PRIu64 "}", t[i].n, t[i].ns);
	}
	fprintf(f, "]");
}

static void json_stacks(FILE *f, const struct stack_tally *t, size_t n)
{
	fprintf(f, "[");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"waits\": %" PRIu64 ", \"wait_ns\": %" PRIu64 ", \"frames\": ",
			i ? ", " : "", t[i].n, t[i].ns);
		json_frames(f, t[i].st);
		fprintf(f, "}");
	}
	fprintf(f, "]");
}

static void locks_summary_json(struct session *s, void *state, FILE *f)
{
	struct locks_state *st = state;
	size_t n = 0;
	struct lock **arr = ranked(st, &n);
	fprintf(f, "\"locks\": [");
	for (size_t i = 0; arr && i < n; i++) {
		struct lock *l = arr[i];

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		summary_json_str(f, l->name);
		fprintf(f, ", \"kind\": \"%s\", \"pid\": %d, \"address\": %" PRIu64
			", \"waits\": %" PRIu64 ", \"timeouts\": %" PRIu64
			", \"total_wait_ns\": %" PRIu64 ", \"max_wait_ns\": %" PRIu64
			", \"p50_wait_ns\": %" PRIu64 ", \"p99_wait_ns\": %" PRIu64
			", \"holder_known\": %" PRIu64 ", \"releaser_known\": %" PRIu64
			", \"reader_held\": %" PRIu64 ", \"holder_states\": {",
			kind_names[l->kind], l->pid, l->uaddr, l->waits, l->timeouts, l->total_ns,
			l->max_ns, hist_quantile(&l->h, 0.5), hist_quantile(&l->h, 0.99),
			l->holder_known, l->releaser_known, l->reader_held);
		for (int k = HS_UNKNOWN; k < HS_MAX; k++)
			fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", holder_state_names[k],
				l->holder_states[k]);
		fprintf(f, "}, \"chain\": ");
		summary_json_str(f, l->chain);
		fprintf(f, ", \"waiters\": ");
		json_tally(s, f, l->waiters, l->nwaiters);
		fprintf(f, ", \"holders\": ");
		json_tally(s, f, l->holders, l->nholders);
		fprintf(f, ", \"releasers\": ");
		json_tally(s, f, l->releasers, l->nreleasers);
		fprintf(f, ", \"first_stack\": ");
		json_frames(f, l->first_stack);
		fprintf(f, ", \"waiter_stacks\": ");
		json_stacks(f, l->wstacks, l->nwstacks);
		fprintf(f, ", \"holder_stacks\": ");
		json_stacks(f, l->hstacks, l->nhstacks);
		fprintf(f, "}");
	}
	free(arr);
	fprintf(f, "\n  ],\n  \"deadlocks\": [");
	for (size_t i = 0; i < st->ndeadlocks; i++) {
		const struct deadlock *d = &st->deadlocks[i];

		fprintf(f, "%s\n    {\"detected_ts\": %" PRIu64 ", \"source\": \"%s\", \"threads\": [",
			i ? "," : "", d->ts,
			d->source == WEFT_LOCK_BLOCKED_ATTACH ? "attach" : "long_wait");
		for (size_t j = 0; j < d->n; j++) {
			const struct deadlock_member *m = &d->m[j];

			fprintf(f, "%s{\"tid\": %d, \"comm\": ", j ? ", " : "", m->tid);
			summary_json_str(f, m->comm);
			fprintf(f, ", \"lock\": ");
			summary_json_str(f, m->lock->name);
			fprintf(f, ", \"kind\": \"%s\", \"address\": %" PRIu64 ", \"held_by\": %d"
				", \"frames\": ", kind_names[m->lock->kind], m->lock->uaddr,
				m->holder);
			json_frames(f, m->stack);
			fprintf(f, "}");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ]");
}

static void locks_free(void *state)
{
	struct locks_state *st = state;
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&st->locks, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->pending, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->stacks, &i, &k, &v);)
		free(v);
	for (size_t i = 0; u64map_next(&st->parked, &i, &k, &v);) {
		free(((struct parked_waits *)v)->w);
		free(v);
	}
	u64map_free(&st->locks);
	u64map_free(&st->aliases);
	u64map_free(&st->pending);
	u64map_free(&st->stacks);
	u64map_free(&st->parked);
	offcpu_free(&st->interned);
	free(st);
}

const struct analyze_area analyze_area_locks = {
	.name = "locks",
	.type_min = WEFT_EV_LOCKS_BASE,
	.type_max = WEFT_EV_LOCKS_BASE + 7,
	.init = locks_init,
	.event = locks_event,
	.finish = locks_finish,
	.summary_text = locks_summary_text,
	.summary_json = locks_summary_json,
	.free = locks_free,
};

bool locks_take_shim_waits(const struct session *s)
{
	return s->capture_mode && !strcmp(s->capture_mode, "both");
}

static enum lock_kind kind_of_shim_lock(uint32_t kind)
{
	switch (kind) {
	case WEFT_LOCK_MUTEX:
		return LK_MUTEX;
	case WEFT_LOCK_RWLOCK_READ:
	case WEFT_LOCK_RWLOCK_WRITE:
		return LK_RWLOCK;
	case WEFT_LOCK_SEM:
		return LK_SEMAPHORE;
	case WEFT_LOCK_COND:
		return LK_CONDVAR;
	}
	return LK_FUTEX;
}

/*
 * One wait: the shim's (its span, lock, kind, and the holder it read as the wait began) with
 * what the kernel saw in the futex waits kw[0, n) that lie within it: the holder and its state
 * and chain as the waiter went to sleep, the waiter's stack, and the thread whose futex wake
 * let it in. A condvar wait sleeps on the condvar, then maybe on its mutex: futex words inside
 * the shim's lock object speak for the wait first.
 */
static void merge_shim_wait(struct session *s, struct locks_state *st,
			    const struct weft_lock_wait_event *e, const struct parked_wait *kw,
			    size_t n, int32_t releaser, uint64_t release_ts)
{
	struct lock *l = lock_get(s, st, e->hdr.pid, e->lock);
	const struct parked_wait *first = NULL, *last = NULL;
	struct weft_lock_end_event end;
	struct pending m;

	if (!l)
		return;
	l->kind = kind_of_shim_lock(e->kind);
	l->kind_known = true;
	for (size_t i = 0; i < n; i++) {
		if (kw[i].e.uaddr - e->lock >= LOCK_OBJECT_MAX)
			continue;
		first = first ? first : &kw[i];
		last = &kw[i];
	}
	if (!first && n) {
		first = &kw[0];
		last = &kw[n - 1];
	}
	m = first ? first->p : (struct pending){ 0 };
	m.tid = e->hdr.tid;
	m.pid = e->hdr.pid;
	m.lock = l;
	m.start = e->wait_start;
	m.counted = false;
	m.from_shim = true;
	m.futex_waits = n;
	m.mutex = e->aux;
	if (!m.holder && e->holder_tid && e->holder_tid != e->hdr.tid) {
		m.holder = e->holder_tid;
		m.hstate = HS_UNKNOWN; /* the kernel did not see this waiter asleep */
		m.holder_stack = NULL;
		m.chain[0] = '\0';
	}
	for (size_t i = 0; i < n && !m.stack; i++)
		m.stack = kw[i].p.stack;
	if (!l->first_stack)
		l->first_stack = m.stack;
	end = (struct weft_lock_end_event){ .hdr = e->hdr, .uaddr = e->lock,
					    .start_ts = e->wait_start, .ret = -e->ret };
	if (last && last->e.releaser_tid) {
		end.releaser_pid = last->e.releaser_pid;
		end.releaser_tid = last->e.releaser_tid;
		end.wake_ts = last->e.wake_ts;
		end.wake_uaddr = last->e.wake_uaddr;
		end.wake_cmd = last->e.wake_cmd;
	} else if (releaser) {
		end.releaser_pid = e->hdr.pid;
		end.releaser_tid = releaser;
		end.wake_ts = release_ts;
	}
	count_wait(s, st, &m, e->hdr.ts, &end);
}

void locks_shim_wait(struct session *s, const struct weft_lock_wait_event *e, int32_t releaser,
		     uint64_t release_ts)
{
	struct locks_state *st = analyze_area_state(s, &analyze_area_locks);
	struct parked_waits *pw;
	size_t n = 0;

	if (!st)
		return;
	pw = u64map_get(&st->parked, (uint64_t)e->hdr.tid);
	if (pw) {
		/* Futex waits of this thread that began before this wait are none of its. */
		while (n < pw->n && pw->w[n].p.start < e->wait_start)
			n++;
		parked_release(s, st, pw, n);
		for (n = 0; n < pw->n && pw->w[n].end <= e->hdr.ts; n++)
			;
	}
	merge_shim_wait(s, st, e, pw ? pw->w : NULL, n, releaser, release_ts);
	if (n)
		parked_drop(pw, n);
	parked_sweep(s, st, e->hdr.ts);
}
