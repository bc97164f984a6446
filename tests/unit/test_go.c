// SPDX-License-Identifier: MIT
/* Go analysis on hand-built records: blocked time by reason and channel, wakers, leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analyze/session.h"
#include "symbolize/go_info.h"
#include "weft/events.h"

#define US 1000ULL
#define T0 1234567000000ULL
#define AT(us) (T0 + (us) * US)
#define PID 7000
#define CHAN_A 0xc000010000ULL
#define CHAN_B 0xc000020000ULL
#define MUTEX_SEMA 0x55e108ULL

/* waitReason numbering of Go 1.17-1.19 */
#define WR_SELECT 9
#define WR_RECV 14
#define WR_SEND 15
#define WR_SEMA 18

struct fixture {
	struct session *s;
	int fd;
	char *json;
	char *text;
};

static void hdr(struct weft_event_header *h, unsigned type, size_t size, uint64_t us)
{
	h->type = type;
	h->size = size;
	h->cpu = 0;
	h->ts = AT(us);
	h->pid = PID;
	h->tid = PID + 1;
}

static void push(struct fixture *f, const void *rec)
{
	const struct weft_event_header *h = rec;

	assert_int_equal(session_push(f->s, rec, h->size), 0);
}

static void park(struct fixture *f, uint64_t us, uint64_t goid, unsigned reason,
		 const uint64_t *chans, int nchans, uint8_t flags, uint64_t obj)
{
	struct weft_go_park_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_GO_PARK, sizeof(e), us);
	e.goid = goid;
	e.startpc = 0x401000 + goid;
	e.reason = reason;
	e.nchans = nchans;
	for (int i = 0; i < nchans; i++)
		e.chans[i] = chans[i];
	e.flags = flags;
	e.obj = obj;
	e.nframes = 2;
	e.frames[0] = 0x402000;
	e.frames[1] = 0x403000;
	push(f, &e);
}

static void ready(struct fixture *f, uint64_t us, uint64_t waker, uint64_t wakee, uint64_t chan)
{
	struct weft_go_ready_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_GO_READY, sizeof(e), us);
	e.goid = waker;
	e.startpc = waker ? 0x401000 + waker : 0;
	e.wakee_goid = wakee;
	e.wakee_startpc = 0x401000 + wakee;
	e.chan = chan;
	push(f, &e);
}

static void newg(struct fixture *f, uint64_t us, uint64_t creator)
{
	struct weft_go_new_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_GO_NEW, sizeof(e), us);
	e.creator_goid = creator;
	e.startpc = 0x401100;
	push(f, &e);
}

static void exitg(struct fixture *f, uint64_t us, uint64_t goid)
{
	struct weft_go_exit_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_GO_EXIT, sizeof(e), us);
	e.goid = goid;
	e.startpc = 0x401000 + goid;
	push(f, &e);
}

static char *read_stream(void (*fn)(struct session *, FILE *), struct session *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	fn(s, m);
	fclose(m);
	return buf;
}

static void text_summary(struct session *s, FILE *f)
{
	session_summary_text(s, f, 3, -1);
}

/*
 * Goroutines 1 (main), 5 and 6 of process PID; channels A and B; times in us after T0:
 *  10, 11  main creates 5 and 6
 *  20- 50  5 blocked sending on A, readied by 6 (A send 30)
 *  60- 70  6 blocked receiving on A, readied by 5 (A recv 10)
 *  80-100  1 in select on A and B, readied by the runtime (g0) through B (B select 20)
 * 110-130  5 waits for a sync.Mutex, readied by 6 (mutex 20)
 * 140      6 ends
 * 150-     5 blocked sending on B forever (B send 150 at end 300): a leak
 * 200      1 readies 9, which parked before the recording: drawn, with its waker, not ranked
 */
static int setup(void **state)
{
	static struct fixture f;
	char path[] = "/tmp/weft-test-go-XXXXXX";
	struct session_opts o = { .reorder_window_ns = 1000000 };
	const uint64_t a[] = { CHAN_A }, b[] = { CHAN_B }, ab[] = { CHAN_A, CHAN_B };

	memset(&f, 0, sizeof(f));
	f.fd = mkstemp(path);
	assert_true(f.fd >= 0);
	unlink(path);
	o.trace_fd = f.fd;
	f.s = session_new(&o);
	assert_non_null(f.s);
	assert_int_equal(session_add_process(f.s, PID, 1, "goprog", "./goprog"), 0);
	newg(&f, 10, 1);
	newg(&f, 11, 1);
	park(&f, 20, 5, WR_SEND, a, 1, 0, 0);
	ready(&f, 50, 6, 5, CHAN_A);
	park(&f, 60, 6, WR_RECV, a, 1, 0, 0);
	ready(&f, 70, 5, 6, CHAN_A);
	park(&f, 80, 1, WR_SELECT, ab, 2, 0, 0);
	ready(&f, 100, 0, 1, CHAN_B);
	park(&f, 110, 5, WR_SEMA, NULL, 0, WEFT_GO_PARK_SEMA | WEFT_GO_PARK_SEMA_MUTEX,
	     MUTEX_SEMA);
	ready(&f, 130, 6, 5, 0);
	exitg(&f, 140, 6);
	park(&f, 150, 5, WR_SEND, b, 1, 0, 0);
	ready(&f, 200, 1, 9, 0);
	assert_int_equal(session_finish(f.s, AT(300)), 0);
	f.json = read_stream(session_summary_json, f.s);
	f.text = read_stream(text_summary, f.s);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	session_free(f->s);
	close(f->fd);
	free(f->json);
	free(f->text);
	return 0;
}

static const char *member(const char *json, const char *key)
{
	const char *p = strstr(json, key);

	if (!p) {
		print_error("no %s in:\n%s\n", key, json ? json : "(none)");
		fail();
	}
	return p;
}

static void test_hits_and_cost(void **state)
{
	struct fixture *f = *state;

	/* 5 parks (one after semacquire), 5 readies, 2 creations, 1 exit */
	member(f->json, "\"probe_hits\": 14,");
	member(f->json, "\"hits\": {\"park\": 5, \"ready\": 5, \"new\": 2, \"exit\": 1, "
			"\"makechan\": 0, \"semacquire\": 1}");
	member(f->json, "\"est_cost_ns\": 140000");
	/* wakes by a goroutine get an arrow; the runtime's (g0) does not */
	member(f->json, "\"flows\": 4");
	member(f->text, "uprobe hits: 14");
	assert_null(strstr(f->json, "\"goid\": 9,"));
}

static void test_channels_ranked_by_side(void **state)
{
	struct fixture *f = *state;
	const char *b = member(f->json, "\"addr\": \"0xc000020000\"");
	const char *a = member(f->json, "\"addr\": \"0xc000010000\"");

	assert_true(b < a); /* B (170 us) before A (40 us) */
	member(b, "\"blocked_ns\": 170000, \"send_ns\": 150000, \"recv_ns\": 0, "
		  "\"select_ns\": 20000");
	/* the select was charged to B, the case that fired, not to A */
	member(a, "\"blocked_ns\": 40000, \"send_ns\": 30000, \"recv_ns\": 10000, "
		  "\"select_ns\": 0, \"waits\": 2");
	member(a, "\"goroutines\": [5, 6]");
}

static void test_goroutines_by_reason(void **state)
{
	struct fixture *f = *state;
	const char *g5 = member(f->json, "\"goid\": 5,");

	member(g5, "\"blocked_ns\": 200000, \"waits\": 3, \"by_reason\": {\"chan send\": 180000, "
		   "\"sync.Mutex\": 20000}");
	assert_true(g5 < member(f->json, "\"goid\": 1,"));
	member(f->json, "\"created\": 2, \"exited\": 1");
}

static void test_leak_reported(void **state)
{
	struct fixture *f = *state;
	const char *l = member(f->json, "\"leaks\": [");

	member(l, "\"goid\": 5, \"function\": \"?\", \"reason\": \"chan send\", "
		  "\"channel\": \"0xc000020000\", \"blocked_ns\": 150000, \"stack\": [");
	assert_null(strstr(l, "\"goid\": 1,"));
	member(f->text, "possible leaks): 1");
}

static void test_go_record_layout(void **state)
{
	assert_int_equal(WEFT_EV_GO_PARK, 48);
	assert_int_equal(WEFT_EV_GO_READY, 49);
	assert_int_equal(WEFT_EV_GO_NEW, 50);
	assert_int_equal(WEFT_EV_GO_EXIT, 51);
	assert_int_equal(sizeof(struct weft_go_park_event), 224);
	assert_int_equal(offsetof(struct weft_go_park_event, reason), 88);
	assert_int_equal(offsetof(struct weft_go_park_event, frames), 96);
	assert_int_equal(sizeof(struct weft_go_ready_event), 72);
	assert_int_equal(sizeof(struct weft_go_new_event), 56);
	assert_int_equal(sizeof(struct weft_go_exit_event), 40);
	assert_int_equal(WEFT_EV_GO_CHAN, 52);
	assert_int_equal(sizeof(struct weft_go_chan_event), 48);
}

static void test_go_info(void **state)
{
	struct go_info gi;
	char why[256];

	assert_int_equal(go_version_number("go1.19.8"), 119);
	assert_int_equal(go_version_number("devel"), 0);
	assert_string_equal(go_wait_reason_name(119, WR_SEND), "chan send");
	assert_string_equal(go_wait_reason_name(117, WR_SELECT), "select");
	assert_null(go_wait_reason_name(121, WR_SEND)); /* renumbered later: not guessed */
	/* a C program is not Go */
	assert_int_equal(go_info_read("/proc/self/exe", &gi, why, sizeof(why)), 0);
	assert_true(go_info_read("/nonexistent", &gi, why, sizeof(why)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hits_and_cost),
		cmocka_unit_test(test_channels_ranked_by_side),
		cmocka_unit_test(test_goroutines_by_reason),
		cmocka_unit_test(test_leak_reported),
	};
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_go_record_layout),
		cmocka_unit_test(test_go_info),
	};

	return cmocka_run_group_tests(tests, setup, teardown) |
	       cmocka_run_group_tests(plain, NULL, NULL);
}
