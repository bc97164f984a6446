// SPDX-License-Identifier: MIT
/* Lock analysis on hand-built futex records: holders, releasers, ranking, wait-for cycles, and
 * in --mode=both the futex waits folded into the preload shim's waits that hold them. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "session_fixture.h"

#include "analyze/lockname.h"
#include "analyze/session.h"
#include "symbolize/symbolize.h"

#define US 1000ULL
#define T0 1234567000000ULL
#define AT(us) (T0 + (us) * US)

/* A pid no test machine runs (above the default pid_max): the symbolizer finds no maps and
 * names locks by address. */
#define PID 4194000
#define T1 (PID + 1)
#define T2 (PID + 2)
#define T3 (PID + 3)
#define LOCK_A 0x5000100ULL
#define LOCK_B 0x5000200ULL
#define COND 0x5000328ULL

struct fixture {
	struct session *s;
	int fd;
	char *json;
	size_t json_len;
	int notices;
	char notice[4096];
};

static void on_notice(void *ctx, const char *text)
{
	struct fixture *f = ctx;

	f->notices++;
	snprintf(f->notice, sizeof(f->notice), "%s", text);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct session_opts o = { 0 };

	if (!f)
		return -1;
	o.hooks.notice = on_notice;
	o.hooks.ctx = f;
	if (test_session_open(&o, &f->s, &f->fd))
		return -1;
	session_add_process(f->s, PID, 1, "bank", "bank");
	session_add_thread(f->s, PID, PID, "bank");
	session_add_thread(f->s, PID, T1, "teller-1");
	session_add_thread(f->s, PID, T2, "teller-2");
	session_add_thread(f->s, PID, T3, "teller-3");
	*state = f;
	return 0;
}

/* A session recording with the kernel probes and the preload shim together (--mode=both). */
static int setup_both(void **state)
{
	if (setup(state))
		return -1;
	session_set_capture(((struct fixture *)*state)->s, "both", NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_session_close(f->s, f->fd, f->json);
	free(f);
	return 0;
}

static void hdr(struct weft_event_header *h, unsigned type, size_t size, uint64_t ts,
		uint32_t tid)
{
	*h = (struct weft_event_header){ type, size, 0, ts, PID, tid };
}

static void push(struct fixture *f, const void *rec)
{
	const struct weft_event_header *h = rec;

	assert_int_equal(session_push(f->s, rec, h->size), 0);
}

/* A glibc mutex wait: futex word 2, owner at +8. */
static void begin(struct fixture *f, uint64_t us, uint32_t tid, uint64_t uaddr, uint32_t owner)
{
	struct weft_lock_begin_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_LOCK_BEGIN, sizeof(e), AT(us), tid);
	e.uaddr = uaddr;
	e.cmd = WEFT_FUTEX_WAIT;
	e.val = 2;
	e.words[WEFT_LOCK_WORD0] = 2;
	e.words[WEFT_LOCK_WORD0 + 2] = owner;
	e.words_ok = WEFT_LOCK_WORDS_LO | WEFT_LOCK_WORDS_MID | WEFT_LOCK_WORDS_HI;
	push(f, &e);
}

static void end(struct fixture *f, uint64_t us, uint32_t tid, uint64_t uaddr, uint64_t start_us,
		int32_t ret, uint32_t releaser, uint64_t wake_us)
{
	struct weft_lock_end_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_LOCK_END, sizeof(e), AT(us), tid);
	e.uaddr = uaddr;
	e.start_ts = AT(start_us);
	e.cmd = WEFT_FUTEX_WAIT;
	e.ret = ret;
	e.releaser_pid = releaser ? PID : 0;
	e.releaser_tid = releaser;
	e.wake_ts = releaser ? AT(wake_us) : 0;
	e.wake_uaddr = uaddr;
	e.wake_cmd = WEFT_FUTEX_WAKE;
	push(f, &e);
}

/* Seen in /proc at `us`, waiting since `since_us` (the attach, or the wait's BEGIN). */
static void blocked_since(struct fixture *f, uint64_t us, uint32_t tid, uint64_t uaddr,
			  uint32_t owner, uint64_t since_us, uint32_t source)
{
	struct weft_lock_blocked_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	hdr(&e->hdr, WEFT_EV_LOCK_BLOCKED, sizeof(*e), AT(us), tid);
	e->uaddr = uaddr;
	e->cmd = WEFT_FUTEX_WAIT;
	e->val = 2;
	e->words[WEFT_LOCK_WORD0] = 2;
	e->words[WEFT_LOCK_WORD0 + 2] = owner;
	e->words_ok = WEFT_LOCK_WORDS_LO | WEFT_LOCK_WORDS_MID | WEFT_LOCK_WORDS_HI;
	e->source = source;
	e->since_ts = AT(since_us);
	e->stack.hdr = e->hdr;
	e->stack.hdr.type = WEFT_EV_LOCK_STACK;
	e->stack.hdr.size = sizeof(e->stack);
	push(f, e);
	free(e);
}

/* Found by the scan at an attach at 50 us. */
static void blocked(struct fixture *f, uint64_t us, uint32_t tid, uint64_t uaddr, uint32_t owner)
{
	blocked_since(f, us, tid, uaddr, owner, 50, WEFT_LOCK_BLOCKED_ATTACH);
}

/* A whole futex wait (BEGIN and END) of a glibc mutex, ended by `releaser`'s wake. */
static void futex_wait(struct fixture *f, uint64_t from_us, uint64_t to_us, uint32_t tid,
		       uint64_t uaddr, uint32_t owner, uint32_t releaser, uint64_t wake_us)
{
	begin(f, from_us, tid, uaddr, owner);
	end(f, to_us, tid, uaddr, from_us, 0, releaser, wake_us);
}

/* A wait the preload shim saw: the call began to wait at from_us and returned at to_us. */
static void shim_wait(struct fixture *f, uint64_t from_us, uint64_t to_us, uint32_t tid,
		      uint32_t kind, uint64_t lock, uint64_t mutex, uint32_t holder)
{
	struct weft_lock_wait_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_LOCK_WAIT, sizeof(e), AT(to_us), tid);
	e.lock = lock;
	e.aux = mutex;
	e.wait_start = AT(from_us);
	e.kind = kind;
	e.holder_tid = holder;
	push(f, &e);
}

/* The shim saw `tid` take `to` while holding `from` (a lock-order edge). */
static void shim_edge(struct fixture *f, uint64_t us, uint32_t tid, uint64_t from, uint64_t to)
{
	struct weft_lock_edge_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	hdr(&e->hdr, WEFT_EV_LOCK_EDGE, sizeof(*e), AT(us), tid);
	e->from = from;
	e->to = to;
	e->from_kind = e->to_kind = WEFT_LOCK_MUTEX;
	push(f, e);
	free(e);
}

static void finish(struct fixture *f, uint64_t us)
{
	assert_int_equal(session_finish(f->s, AT(us)), 0);
	test_session_json(f->s, &f->json, &f->json_len);
}

/* The number after "key": in the object starting at `from`. */
static uint64_t field(const char *from, const char *key)
{
	char pat[64];
	const char *p;
	unsigned long long v;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(from, pat);
	if (!p)
		fail_msg("no %s in %s", key, from);
	assert_int_equal(sscanf(p + strlen(pat), "%llu", &v), 1);
	return v;
}

static const char *lock_obj(const char *json, const char *name)
{
	char pat[96];
	const char *p;

	snprintf(pat, sizeof(pat), "{\"name\": \"%s\"", name);
	p = strstr(json, pat);
	if (!p)
		fail_msg("no lock %s in %s", name, json);
	return p;
}

/* Three waits on A (two held by T1, one by T2 whose owner word is stale: 0), one on B. */
static void test_holder_releaser_ranking(void **state)
{
	struct fixture *f = *state;
	const char *a, *b;

	begin(f, 100, T2, LOCK_A, T1);
	end(f, 400, T2, LOCK_A, 100, 0, T1, 390);
	begin(f, 500, T3, LOCK_A, T1);
	end(f, 700, T3, LOCK_A, 500, 0, T1, 650);
	begin(f, 800, T1, LOCK_A, 0);
	end(f, 900, T1, LOCK_A, 800, 0, T3, 880);
	begin(f, 1000, T1, LOCK_B, T2);
	end(f, 1010, T1, LOCK_B, 1000, 0, T2, 1005);
	/* The word changed before T3 slept: not a wait. */
	begin(f, 1100, T3, LOCK_B, T2);
	end(f, 1101, T3, LOCK_B, 1100, -EAGAIN, 0, 0);
	finish(f, 2000);

	a = lock_obj(f->json, "lock@0x5000100");
	b = lock_obj(f->json, "lock@0x5000200");
	assert_true(a < b); /* ranked by total wait: A (600 us) before B (10 us) */
	assert_int_equal(field(a, "waits"), 3);
	assert_int_equal(field(a, "total_wait_ns"), 600 * US);
	assert_int_equal(field(a, "max_wait_ns"), 300 * US);
	assert_int_equal(field(a, "holder_known"), 2);
	assert_int_equal(field(a, "releaser_known"), 3);
	assert_non_null(strstr(a, "\"kind\": \"mutex\""));
	assert_non_null(strstr(a, "\"holders\": [{\"tid\": 4194001, \"comm\": \"teller-1\", "
				  "\"waits\": 2, \"wait_ns\": 500000}]"));
	assert_int_equal(field(b, "waits"), 1);
	assert_non_null(strstr(f->json, "\"deadlocks\": [\n  ]"));
	assert_int_equal(f->notices, 0);
}

/* T2 waits on A held by T1 while T1 waits on B held by T3: a chain, not a cycle. */
static void test_chain(void **state)
{
	struct fixture *f = *state;
	const char *a;

	begin(f, 100, T1, LOCK_B, T3);
	begin(f, 200, T2, LOCK_A, T1);
	end(f, 300, T1, LOCK_B, 100, 0, T3, 290);
	end(f, 400, T2, LOCK_A, 200, 0, T1, 390);
	finish(f, 500);
	a = lock_obj(f->json, "lock@0x5000100");
	assert_int_equal(field(a, "waiting on a lock"), 1);
	assert_non_null(strstr(a, "\"chain\": \"teller-2/4194002 waits on mutex lock@0x5000100 "
				  "held by teller-1/4194001, which waits on mutex lock@0x5000200 "
				  "held by teller-3/4194003\""));
}

/* Seen blocked in /proc: T1 waits on A held by T2, T2 on B held by T1. */
static void test_deadlock_cycle(void **state)
{
	struct fixture *f = *state;
	const char *d;

	blocked(f, 100, T1, LOCK_A, T2);
	assert_int_equal(session_flush(f->s, true), 0);
	assert_int_equal(f->notices, 0);
	blocked(f, 101, T2, LOCK_B, T1);
	blocked(f, 102, T3, LOCK_B, T1); /* waits on the cycle, is not part of it */
	assert_int_equal(session_flush(f->s, true), 0);
	assert_int_equal(f->notices, 1);
	assert_non_null(strstr(f->notice, "DEADLOCK: 2 threads"));
	assert_non_null(strstr(f->notice, "teller-1/4194001 waits on mutex lock@0x5000100 held by "
					  "teller-2/4194002"));
	finish(f, 2000);
	d = strstr(f->json, "\"deadlocks\": [");
	assert_non_null(d);
	assert_non_null(strstr(d, "\"source\": \"attach\""));
	assert_non_null(strstr(d, "{\"tid\": 4194001, \"comm\": \"teller-1\", \"lock\": "
				  "\"lock@0x5000100\""));
	assert_non_null(strstr(d, "\"held_by\": 4194001"));
	assert_null(strstr(d, "\"tid\": 4194003"));
	/* Still waiting at the end: counted from the attach up to it. */
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000100"), "total_wait_ns"), 1950 * US);
}

/*
 * Waits older than a second, looked at one by one: T1's owner (T2) was read at 1500, but T2's
 * wait began at 1600, so T2 may have let go of A in between (and T3 have it now): no report.
 * Once T1 is looked at again (T2 blocked since 1600 < 2600), the cycle is real.
 */
static void test_stale_edge_is_not_a_cycle(void **state)
{
	struct fixture *f = *state;

	begin(f, 500, T1, LOCK_A, T2);
	begin(f, 1600, T2, LOCK_B, T1);
	blocked_since(f, 1500, T1, LOCK_A, T2, 500, WEFT_LOCK_BLOCKED_LONG);
	blocked_since(f, 2600, T2, LOCK_B, T1, 1600, WEFT_LOCK_BLOCKED_LONG);
	assert_int_equal(session_flush(f->s, true), 0);
	assert_int_equal(f->notices, 0);
	blocked_since(f, 2700, T1, LOCK_A, T2, 500, WEFT_LOCK_BLOCKED_LONG);
	assert_int_equal(session_flush(f->s, true), 0);
	assert_int_equal(f->notices, 1);
	assert_non_null(strstr(f->notice, "blocked for over a second"));
	finish(f, 3000);
	assert_non_null(strstr(f->json, "\"source\": \"long_wait\""));
}

/* BEGIN records alone never make a deadlock: their owner words may be stale. */
static void test_unconfirmed_cycle_is_not_reported(void **state)
{
	struct fixture *f = *state;

	begin(f, 100, T1, LOCK_A, T2);
	begin(f, 101, T2, LOCK_B, T1);
	finish(f, 200);
	assert_int_equal(f->notices, 0);
	assert_non_null(strstr(f->json, "\"deadlocks\": [\n  ]"));
}

/* pthread_join sleeps on the joined thread's tid word: not a lock. A condvar has no holder. */
static void test_join_and_condvar(void **state)
{
	struct fixture *f = *state;
	struct weft_lock_begin_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_LOCK_BEGIN, sizeof(e), AT(100), PID);
	e.uaddr = 0x7f0000000990ULL;
	e.cmd = WEFT_FUTEX_WAIT_BITSET;
	e.val = T1;
	e.words[WEFT_LOCK_WORD0] = T1;
	e.words_ok = WEFT_LOCK_WORDS_MID;
	push(f, &e);
	end(f, 900, PID, e.uaddr, 100, 0, 0, 0);

	hdr(&e.hdr, WEFT_EV_LOCK_BEGIN, sizeof(e), AT(200), T2);
	e.uaddr = COND;
	e.val = 5;
	e.words[WEFT_LOCK_WORD0] = 5;
	e.words[WEFT_LOCK_WORD0 + 2] = 9;
	push(f, &e);
	end(f, 300, T2, COND, 200, 0, T1, 250);
	finish(f, 1000);
	assert_null(strstr(f->json, "lock@0x7f0000000990"));
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000328"), "holder_known"), 0);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000328"), "releaser_known"), 1);
}

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/*
 * --mode=both: T2's pthread_mutex_lock slept twice in the kernel (woken by T3 at 290 but beaten
 * to the lock, then let in by T3 at 470): one wait, the shim's span, with the kernel's holder
 * and releaser. T3's wait never reached the kernel (the lock came free as it spun): the shim's
 * holder, no releaser.
 */
static void test_both_futex_waits_in_a_shim_wait_are_one_wait(void **state)
{
	struct fixture *f = *state;
	const char *a;

	futex_wait(f, 120, 300, T2, LOCK_A, T1, T3, 290);
	futex_wait(f, 310, 480, T2, LOCK_A, T3, T3, 470);
	shim_wait(f, 100, 500, T2, WEFT_LOCK_MUTEX, LOCK_A, 0, T1);
	shim_wait(f, 600, 610, T3, WEFT_LOCK_MUTEX, LOCK_A, 0, T1);
	finish(f, 1000);
	assert_int_equal(occurrences(f->json, "{\"name\": \"lock@0x5000100\""), 1);
	a = lock_obj(f->json, "lock@0x5000100");
	assert_non_null(strstr(a, "\"kind\": \"mutex\""));
	assert_int_equal(field(a, "waits"), 2);
	assert_int_equal(field(a, "total_wait_ns"), 410 * US);
	assert_int_equal(field(a, "holder_known"), 2);
	assert_int_equal(field(a, "releaser_known"), 1);
	assert_non_null(strstr(a, "\"holders\": [{\"tid\": 4194001, \"comm\": \"teller-1\", "
				  "\"waits\": 2, \"wait_ns\": 410000}]"));
	assert_non_null(strstr(a, "\"releasers\": [{\"tid\": 4194003, \"comm\": \"teller-3\", "
				  "\"waits\": 1, \"wait_ns\": 400000}]"));
	/* The shim's own table is not written a second time. */
	assert_non_null(strstr(f->json, "\"preload_locks\": {\"lock_order_edges\": 0"));
}

/* Futex waits no shim wait holds (a lock the shim does not intercept) count as in bpf mode:
 * T1's began before its next shim wait, T3's is claimed by nothing until the end. */
static void test_both_futex_waits_outside_shim_waits_stay(void **state)
{
	struct fixture *f = *state;

	futex_wait(f, 100, 200, T1, LOCK_B, T2, T2, 190);
	futex_wait(f, 100, 150, T3, LOCK_B, T2, T2, 140);
	futex_wait(f, 310, 390, T1, LOCK_A, T2, T2, 380);
	shim_wait(f, 300, 400, T1, WEFT_LOCK_MUTEX, LOCK_A, 0, T2);
	finish(f, 1000);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000200"), "waits"), 2);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000200"), "total_wait_ns"), 150 * US);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000100"), "waits"), 1);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000100"), "total_wait_ns"), 100 * US);
}

/* A condvar wait sleeps on a word of the condvar (signalled by T1), then on its mutex (let in
 * by T3): one condvar wait, woken by the signaller; the mutex has no wait of its own. */
static void test_both_condvar_wait_is_woken_by_its_signaller(void **state)
{
	struct fixture *f = *state;
	const char *c;

	futex_wait(f, 110, 600, T2, COND + 4, 0, T1, 590);
	futex_wait(f, 610, 880, T2, LOCK_A, T3, T3, 870);
	shim_wait(f, 100, 900, T2, WEFT_LOCK_COND, COND, LOCK_A, 0);
	finish(f, 1000);
	c = lock_obj(f->json, "lock@0x5000328");
	assert_non_null(strstr(c, "\"kind\": \"condvar\""));
	assert_int_equal(field(c, "waits"), 1);
	assert_int_equal(field(c, "total_wait_ns"), 800 * US);
	assert_int_equal(field(c, "holder_known"), 0);
	assert_non_null(strstr(c, "\"releasers\": [{\"tid\": 4194001"));
	assert_null(strstr(f->json, "lock@0x500032c"));
	assert_null(strstr(f->json, "lock@0x5000100"));
}

/* A futex wait no shim record claims within the horizon (a second) counts on its own: held
 * back memory stays bounded whatever the shim does. */
static void test_both_unclaimed_futex_wait_counts_after_the_horizon(void **state)
{
	struct fixture *f = *state;

	futex_wait(f, 100, 200, T1, LOCK_B, T2, T2, 190);
	futex_wait(f, 1500000, 1500100, T2, LOCK_A, T3, T3, 1500090);
	shim_wait(f, 50, 1500200, T1, WEFT_LOCK_MUTEX, LOCK_B, 0, T2);
	finish(f, 1600000);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000200"), "waits"), 2);
	assert_int_equal(field(lock_obj(f->json, "lock@0x5000100"), "waits"), 1);
}

/* The name the lock table gives the lock at `addr`, into buf. */
static void name_at(const char *json, uint64_t addr, char *buf, size_t len)
{
	const char *pat = "{\"name\": \"";

	for (const char *p = strstr(json, pat); p; p = strstr(p + 1, pat)) {
		const char *name = p + strlen(pat);

		if (field(p, "address") == addr) {
			snprintf(buf, len, "%.*s", (int)strcspn(name, "\""), name);
			return;
		}
	}
	fail_msg("no lock at 0x%llx in %s", (unsigned long long)addr, json);
}

/*
 * --mode=both, two heap locks: the kernel's futex waits and the shim's waits on A make the lock
 * table's entry, the shim's edges A->B and B->A an inversion. Both analyses must name A and B
 * alike (as lock_name() does), in the lock table, the inversion told live and the text summary.
 */
static void test_both_heap_lock_named_alike_everywhere(void **state)
{
	struct fixture *f = *state;
	char a[128], b[128], want[128], ab[512], ba[512], *text = NULL;
	size_t text_len = 0;
	FILE *m;

	futex_wait(f, 120, 300, T2, LOCK_A, T1, T1, 290);
	shim_wait(f, 100, 310, T2, WEFT_LOCK_MUTEX, LOCK_A, 0, T1);
	futex_wait(f, 420, 500, T1, LOCK_B, T2, T2, 490);
	shim_wait(f, 400, 510, T1, WEFT_LOCK_MUTEX, LOCK_B, 0, T2);
	shim_edge(f, 600, T1, LOCK_A, LOCK_B);
	shim_edge(f, 700, T2, LOCK_B, LOCK_A);
	finish(f, 1000);
	name_at(f->json, LOCK_A, a, sizeof(a));
	name_at(f->json, LOCK_B, b, sizeof(b));
	lock_name(want, sizeof(want), NULL, 0, LOCK_A);
	assert_string_equal(a, want);
	assert_int_equal(f->notices, 1);
	/* the cycle may be told from either lock */
	snprintf(ab, sizeof(ab), " %s -> %s -> %s ", a, b, a);
	snprintf(ba, sizeof(ba), " %s -> %s -> %s ", b, a, b);
	if (!strstr(f->notice, ab) && !strstr(f->notice, ba))
		fail_msg("the inversion names the locks otherwise than the lock table (%s, %s): %s",
			 a, b, f->notice);

	m = open_memstream(&text, &text_len);
	assert_non_null(m);
	session_summary_text(f->s, m, 8, -1);
	assert_int_equal(fclose(m), 0);
	assert_non_null(strstr(text, "Lock-order inversions"));
	snprintf(ab, sizeof(ab), "took %s while holding %s", b, a);
	snprintf(ba, sizeof(ba), "took %s while holding %s", a, b);
	if (!strstr(text, ab) || !strstr(text, ba))
		fail_msg("no \"%s\" and \"%s\" in the text summary:\n%s", ab, ba, text);
	snprintf(ab, sizeof(ab), "mutex %s (pid", a);
	if (!strstr(text, ab))
		fail_msg("no \"%s\" in the text summary:\n%s", ab, text);
	free(text);
}

/* One rule for every section: a global's symbol, a place inside one, else the address. */
static void test_lock_name_rule(void **state)
{
	char buf[64];

	(void)state;
	lock_name(buf, sizeof(buf), "g_account_lock", 0, 0x55d0c0a01040);
	assert_string_equal(buf, "g_account_lock");
	lock_name(buf, sizeof(buf), "g_bank", 8, 0x55d0c0a01048);
	assert_string_equal(buf, "g_bank+0x8");
	lock_name(buf, sizeof(buf), NULL, 0, 0x55d0c0a3e2a0);
	assert_string_equal(buf, "lock@0x55d0c0a3e2a0");
}

/* Locks are named by their global: data symbols of this (PIE, .symtab) test binary. */
pthread_mutex_t g_named_lock = PTHREAD_MUTEX_INITIALIZER; /* .bss */
struct {
	long balance;
	pthread_mutex_t lock;
} g_account = { 1, PTHREAD_MUTEX_INITIALIZER };             /* .data, lock at +8 */

static void test_data_symbols(void **state)
{
	struct sym *s = sym_new();
	struct sym_loc loc;
	void *heap = malloc(64);

	(void)state;
	assert_int_equal(sym_resolve_data(s, getpid(), (uintptr_t)&g_named_lock, &loc), 0);
	assert_string_equal(loc.function, "g_named_lock");
	assert_int_equal(loc.func_off, 0);
	assert_int_equal(sym_resolve_data(s, getpid(), (uintptr_t)&g_account.lock, &loc), 0);
	assert_string_equal(loc.function, "g_account");
	assert_int_equal(loc.func_off, 8);
	assert_int_equal(sym_resolve_data(s, getpid(), (uintptr_t)heap, &loc), -ENOENT);
	assert_null(loc.function);
	free(heap);
	sym_free(s);
}

static void test_record_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct weft_lock_begin_event), 96);
	assert_int_equal(sizeof(struct weft_lock_end_event), 80);
	assert_int_equal(offsetof(struct weft_lock_blocked_event, stack), 104);
	assert_true(sizeof(struct weft_lock_blocked_event) < 65536);
	assert_int_equal(sizeof(struct weft_lock_blocked_event) % 8, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_holder_releaser_ranking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadlock_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unconfirmed_cycle_is_not_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_edge_is_not_a_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_and_condvar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_futex_waits_in_a_shim_wait_are_one_wait,
						setup_both, teardown),
		cmocka_unit_test_setup_teardown(test_both_futex_waits_outside_shim_waits_stay,
						setup_both, teardown),
		cmocka_unit_test_setup_teardown(test_both_condvar_wait_is_woken_by_its_signaller,
						setup_both, teardown),
		cmocka_unit_test_setup_teardown(
			test_both_unclaimed_futex_wait_counts_after_the_horizon, setup_both, teardown),
		cmocka_unit_test_setup_teardown(test_both_heap_lock_named_alike_everywhere,
						setup_both, teardown),
		cmocka_unit_test(test_lock_name_rule),
		cmocka_unit_test(test_data_symbols),
		cmocka_unit_test(test_record_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
