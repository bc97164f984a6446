// SPDX-License-Identifier: MIT
/* The actor analysis on hand-built records: depth, waits, handlers, senders, tasks, JSON. */
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

#include "analyze/session.h"

#define US 1000ULL
#define T0 1234567000000ULL
#define AT(us) (T0 + (us) * US)
#define PID 700
#define SINK 0xA0
#define P1 0x10
#define P2 0x20
#define OTHER 0xB0

struct fixture {
	struct session *s;
	int fd;
	char *json;
	size_t json_len;
};

static uint32_t window; /* sampled-mode window the next records carry */

static void push_op(struct fixture *f, uint64_t us, uint32_t op, uint64_t actor, uint64_t peer,
		    uint64_t msg, int64_t depth)
{
	struct weft_actor_event e = { 0 };

	e.window = window;
	e.hdr = (struct weft_event_header){ WEFT_EV_ACTOR, sizeof(e), 0, AT(us), PID, PID + 1 };
	e.op = op;
	e.source = WEFT_SRC_BEAM * (msg == 0);
	e.actor = actor;
	e.peer = peer;
	e.msg = msg;
	e.depth = depth;
	assert_int_equal(session_push(f->s, &e, sizeof(e)), 0);
}

static void push_name(struct fixture *f, uint64_t us, uint32_t kind, uint64_t actor,
		      const char *name)
{
	struct weft_actor_name_event e = { 0 };

	e.hdr = (struct weft_event_header){ WEFT_EV_ACTOR_NAME, sizeof(e), 0, AT(us), PID, PID };
	e.kind = kind;
	e.actor = actor;
	snprintf(e.name, sizeof(e.name), "%s", name);
	assert_int_equal(session_push(f->s, &e, sizeof(e)), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct session_opts o = { 0 };

	if (!f)
		return -1;
	if (test_session_open(&o, &f->s, &f->fd))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_session_close(f->s, f->fd, f->json);
	free(f);
	return 0;
}

static void summarize(struct fixture *f)
{
	test_session_json(f->s, &f->json, &f->json_len);
}

/* The number after the first `"key": ` following `after` in the JSON. */
static double json_num(const char *json, const char *after, const char *key)
{
	char pat[64];
	const char *p = strstr(json, after);

	assert_non_null(p);
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(p, pat);
	assert_non_null(p);
	return strtod(p + strlen(pat), NULL);
}

/*
 * In microseconds: P1 sends m1 (10) and m2 (20) to "sink", P2 sends m3 (30); sink handles m1
 * 110-160, m2 160-260, m3 260-300. "other" gets one message. The end is at 1000.
 * sink's depth: 1 for 10 us, 2 for 10, 3 for 80, 2 for 50, 1 for 100, then 0 for 740:
 * 470 depth-us over 990 us.
 */
static void push_messages(struct fixture *f)
{
	/* out of order on purpose: the reorder buffer hands them over by time */
	push_op(f, 110, WEFT_ACT_RECV, SINK, 0, 1, 2);
	push_name(f, 1, 0, SINK, "sink");
	push_op(f, 10, WEFT_ACT_SEND, P1, SINK, 1, 1);
	push_op(f, 20, WEFT_ACT_SEND, P1, SINK, 2, 2);
	push_op(f, 30, WEFT_ACT_SEND, P2, SINK, 3, 3);
	push_op(f, 160, WEFT_ACT_DONE, SINK, 0, 0, -1);
	push_op(f, 160, WEFT_ACT_RECV, SINK, 0, 2, 1);
	push_op(f, 260, WEFT_ACT_DONE, SINK, 0, 0, -1);
	push_op(f, 260, WEFT_ACT_RECV, SINK, 0, 3, 0);
	push_op(f, 300, WEFT_ACT_DONE, SINK, 0, 0, -1);
	/* depth unknown (-1): counted from sends and receives */
	push_op(f, 400, WEFT_ACT_SEND, 0, OTHER, 9, -1);
	push_op(f, 450, WEFT_ACT_RECV, OTHER, 0, 9, -1);
}

static void test_mailbox_ranking(void **state)
{
	struct fixture *f = *state;
	const char *sink, *other;

	push_messages(f);
	assert_int_equal(session_finish(f->s, AT(1000)), 0);
	summarize(f);
	sink = strstr(f->json, "\"name\": \"actor sink\"");
	other = strstr(f->json, "\"name\": \"actor 0xb0\"");
	assert_non_null(sink);
	assert_non_null(other);
	assert_true(sink < other); /* worst mailbox first */
	assert_int_equal(json_num(f->json, "actor sink", "depth_max"), 3);
	assert_true(json_num(f->json, "actor sink", "depth_mean") > 0.46);
	assert_true(json_num(f->json, "actor sink", "depth_mean") < 0.49);
	assert_int_equal(json_num(f->json, "actor sink", "received"), 3);
	/* waits 100, 140, 230 us; handlers 50, 100, 40 us */
	assert_true(json_num(f->json, "actor sink", "max") > 0.2299);
	assert_true(json_num(f->json, "actor sink", "max") < 0.2301);
	assert_true(json_num(f->json, "actor sink\", \"depth_max", "total") > 0.1899);
	assert_true(json_num(f->json, "actor sink\", \"depth_max", "total") < 0.1901);
	/* P1 fed it most */
	assert_int_equal(json_num(f->json, "\"senders\": [{", "id"), P1);
	assert_int_equal(json_num(f->json, "\"senders\": [{", "count"), 2);
	assert_int_equal(json_num(f->json, "actor 0xb0", "depth_max"), 1);
	assert_int_equal(json_num(f->json, "\"actors\": {", "messages"), 4);
}

static void test_tasks_and_queues(void **state)
{
	struct fixture *f = *state;

	push_op(f, 5, WEFT_ACT_TASK_SPAWN, 0x1, 0, 0, -1);
	push_name(f, 5, 1, 0x1, "worker");
	push_op(f, 10, WEFT_ACT_TASK_WAKE, 0x1, 0, 0, -1);
	push_op(f, 30, WEFT_ACT_TASK_POLL_BEGIN, 0x1, 0, 0, -1);
	push_op(f, 35, WEFT_ACT_CHAN_SEND, 0xC, 0, 0, 4);
	push_op(f, 80, WEFT_ACT_TASK_POLL_END, 0x1, 0, 0, 1);
	push_op(f, 90, WEFT_ACT_CHAN_RECV, 0xC, 0, 0, 3);
	push_op(f, 100, WEFT_ACT_LOOP_BEGIN, 0xE, 0, 0, -1);
	push_op(f, 130, WEFT_ACT_LOOP_END, 0xE, 0, 0, -1);
	assert_int_equal(session_finish(f->s, AT(200)), 0);
	summarize(f);
	assert_non_null(strstr(f->json, "\"tasks\": [{"));
	assert_int_equal(json_num(f->json, "task worker", "received"), 1);
	/* one 50 us poll, woken 20 us before it */
	assert_true(json_num(f->json, "task worker\", \"depth_max", "total") > 0.0499);
	assert_true(json_num(f->json, "task worker\", \"depth_max", "total") < 0.0501);
	assert_true(json_num(f->json, "task worker", "p50") > 0.019);
	assert_int_equal(json_num(f->json, "channel 0xc", "depth_max"), 4);
	assert_int_equal(json_num(f->json, "loop 0xe", "received"), 1);
}

static void test_nothing_to_say(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	assert_int_equal(session_finish(f->s, AT(100)), 0);
	m = open_memstream(&text, &len);
	session_summary_text(f->s, m, 5, -1);
	fclose(m);
	assert_null(strstr(text, "Actors"));
	free(text);
	summarize(f);
	assert_non_null(strstr(f->json, "\"actors\": {\"probe_hits\": 0"));
}

/* BEAM-style records (no message ids, no depths) pair FIFO, but not across sampled windows. */
static void test_fifo_and_windows(void **state)
{
	struct fixture *f = *state;

	window = 1;
	push_op(f, 10, WEFT_ACT_SEND, P1, SINK, 0, -1);
	push_op(f, 20, WEFT_ACT_SEND, P1, SINK, 0, -1);
	push_op(f, 50, WEFT_ACT_RECV, SINK, 0, 0, -1);  /* pairs with the send at 10: 40 us */
	push_op(f, 60, WEFT_ACT_RUN, SINK, 0, 0, -1);
	push_op(f, 90, WEFT_ACT_DONE, SINK, 0, 0, -1);
	window = 2;                                       /* the send at 20 was never seen taken */
	push_op(f, 300, WEFT_ACT_RECV, SINK, 0, 0, -1);  /* unpaired */
	push_op(f, 310, WEFT_ACT_SEND, P2, SINK, 0, -1);
	push_op(f, 330, WEFT_ACT_RECV, SINK, 0, 0, -1);  /* pairs with 310: 20 us */
	window = 0;
	assert_int_equal(session_finish(f->s, AT(400)), 0);
	summarize(f);
	assert_int_equal(json_num(f->json, "<0.10.0>", "count"), 2); /* two waits measured */
	assert_true(json_num(f->json, "<0.10.0>", "max") > 0.0399);
	assert_true(json_num(f->json, "<0.10.0>", "max") < 0.0401);
	/* one run slice of 30 us is the handler time */
	assert_true(json_num(f->json, "<0.10.0>\", \"depth_max", "total") > 0.0299);
	assert_true(json_num(f->json, "<0.10.0>\", \"depth_max", "total") < 0.0301);
	assert_int_equal(json_num(f->json, "\"actors\": {", "sampled_windows"), 2);
}

/* The wire format: both rings and the decoder agree on these. */
static void test_record_layout(void **state)
{
	assert_int_equal(sizeof(struct weft_actor_event), 64);
	assert_int_equal(offsetof(struct weft_actor_event, op), 24);
	assert_int_equal(offsetof(struct weft_actor_event, source), 26);
	assert_int_equal(offsetof(struct weft_actor_event, window), 28);
	assert_int_equal(offsetof(struct weft_actor_event, actor), 32);
	assert_int_equal(offsetof(struct weft_actor_event, depth), 56);
	assert_int_equal(sizeof(struct weft_actor_name_event), 72);
	assert_int_equal(offsetof(struct weft_actor_name_event, name), 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_layout),
		cmocka_unit_test_setup_teardown(test_mailbox_ranking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks_and_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_say, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_and_windows, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
