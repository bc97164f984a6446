// SPDX-License-Identifier: MIT
/* Event-loop analysis on hand-built records: iterations, stalls, culprits, blocking calls. */
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

#include "analyze/loops.h"
#include "analyze/session.h"

#define MS 1000000ULL
#define T0 5000000000000ULL
#define PID 7000

/* The BPF side's bucket function (bpf/loops.bpf.c), restated. */
static unsigned bpf_bucket(uint64_t v)
{
	unsigned e;

	if (v < (1 << WEFT_LOOP_HIST_SUB_BITS))
		return v;
	e = 63 - __builtin_clzll(v);
	return ((e << WEFT_LOOP_HIST_SUB_BITS) +
		((v >> (e - WEFT_LOOP_HIST_SUB_BITS)) & ((1 << WEFT_LOOP_HIST_SUB_BITS) - 1))) &
	       (WEFT_LOOP_HIST_BUCKETS - 1);
}

static void test_hist_value_within_a_bucket(void **state)
{
	for (uint64_t v = 1; v < (1ULL << 40); v = v * 3 / 2 + 1) {
		uint64_t got = loops_hist_value(bpf_bucket(v));
		double err = got > v ? (double)(got - v) / v : (double)(v - got) / v;

		assert_true(err <= 1.0 / 16 + 1e-9);
	}
	assert_int_equal(loops_hist_value(3), 3);
	/* Buckets no encoder makes (a corrupt record's): a value, and no shift by a negative
	 * count (the sanitized unit tests would stop here). */
	for (unsigned b = 8; b < 24; b++)
		assert_int_equal(loops_hist_value(b), b);
}

static void test_culprit_frame(void **state)
{
	const struct pf_frame native[] = {
		{ "do_nanosleep", "[kernel.kallsyms]", 0 },
		{ "clock_nanosleep", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0 },
		{ "__vdso_clock_gettime", "[vdso]", 0 },
		{ "stall_busy", "/opt/app/libuv_loop", 0 }, /* an executable named lib* */
		{ "main", "/opt/app/libuv_loop", 0 },
	};
	const struct pf_frame jit[] = {
		{ "clock_gettime", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0 },
		{ "Builtins_DateNow", "/usr/bin/node", 0 },
		{ "Builtin:CallFunction", "[jit]", 0 },
		{ "JS:*busyCompute file:///a.mjs:1:1", "[jit]", 0 },
		{ "uv__run_timers", "/usr/bin/node", 0 },
	};
	const struct pf_frame libs[] = {
		{ NULL, "/usr/lib/x86_64-linux-gnu/libfoo.so.1", 0 },
		{ "pthread_cond_wait", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0 },
	};

	assert_int_equal(loops_culprit_frame(native, 5, 1), 3);
	assert_int_equal(loops_culprit_frame(jit, 5, 0), 3);
	assert_int_equal(loops_culprit_frame(libs, 2, 0), 1);
	assert_int_equal(loops_culprit_frame(native, 1, 1), 0);
	assert_int_equal(loops_culprit_frame(native, 0, 0), -1);
	assert_string_equal(loops_uv_phase(jit, 5), "timers");
	assert_null(loops_uv_phase(native, 5));
	assert_string_equal(loops_syscall_name(35), "nanosleep");
	assert_string_equal(loops_syscall_name(202), "futex");
	assert_null(loops_syscall_name(100000));
}

struct fixture {
	struct session *s;
	int fd;
	char *json;
	size_t len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct session_opts o = { 0 };

	if (!f)
		return -1;
	o.stall_threshold_ns = 50 * MS;
	*state = f;
	return test_session_open(&o, &f->s, &f->fd);
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

static void poll_pair(struct fixture *f, uint32_t tid, uint64_t enter, uint64_t exit)
{
	struct weft_poll_enter_event in = { 0 };
	struct weft_poll_exit_event out = { 0 };

	hdr(&in.hdr, WEFT_EV_POLL_ENTER, sizeof(in), enter, tid);
	in.kind = WEFT_POLL_EPOLL_WAIT;
	in.fd = 3;
	in.timeout_ns = -1;
	hdr(&out.hdr, WEFT_EV_POLL_EXIT, sizeof(out), exit, tid);
	out.kind = WEFT_POLL_EPOLL_WAIT;
	out.ret = 1;
	assert_int_equal(session_push(f->s, &in, sizeof(in)), 0);
	assert_int_equal(session_push(f->s, &out, sizeof(out)), 0);
}

static const char *finish(struct fixture *f, uint64_t end)
{

	assert_int_equal(session_finish(f->s, end), 0);
	test_session_json(f->s, &f->json, &f->len);
	return f->json;
}

/* The JSON object of one loop thread ("{\"pid\": PID, \"tid\": TID, ..."), as a copy. */
static char *thread_json(const char *json, uint32_t tid)
{
	char key[64];
	const char *a, *b;

	snprintf(key, sizeof(key), "{\"pid\": %d, \"tid\": %u,", PID, tid);
	a = strstr(json, key);
	if (!a)
		return NULL;
	b = strstr(a + 1, "{\"pid\": ");
	return strndup(a, b ? (size_t)(b - a) : strlen(a));
}

/* Poll records (the preload shim's): the iteration state machine runs in analysis. */
static void test_poll_records_make_iterations_and_stalls(void **state)
{
	struct fixture *f = *state;
	uint64_t t = T0;
	char *a, *b, *c;

	/* 101: 20 iterations of 1 ms, one of 80 ms, one of 49 ms, 5 more of 1 ms. */
	for (int i = 0; i < 20; i++, t += 2 * MS)
		poll_pair(f, 101, t, t + MS);
	poll_pair(f, 101, t, t + MS);
	t += MS + 80 * MS;
	poll_pair(f, 101, t, t + MS);
	t += MS + 49 * MS;
	for (int i = 0; i < 6; i++, t += 2 * MS)
		poll_pair(f, 101, t, t + MS);
	/* 102: calm. 103: one poll call, then 200 ms of work: not (yet) a loop. */
	for (uint64_t u = T0; u < T0 + 100 * MS; u += 2 * MS)
		poll_pair(f, 102, u, u + MS);
	poll_pair(f, 103, T0, T0 + MS);
	poll_pair(f, 103, T0 + 201 * MS, T0 + 202 * MS);

	finish(f, t + 10 * MS);
	a = thread_json(f->json, 101);
	b = thread_json(f->json, 102);
	c = thread_json(f->json, 103);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(strstr(a, "\"iterations\": 27,"));
	assert_non_null(strstr(a, "\"iteration_max_ns\": 80000000,"));
	assert_non_null(strstr(a, "\"stalls\": [{\"start_ns\": "));
	assert_non_null(strstr(a, "\"dur_ns\": 80000000,"));
	assert_null(strstr(a, "\"dur_ns\": 49000000"));
	assert_non_null(strstr(a, "\"culprit\": \"[no sample]\""));
	assert_non_null(strstr(b, "\"stalls\": []"));
	assert_true(c == NULL || strstr(c, "\"stalls\": []"));
	free(a);
	free(b);
	free(c);
}

/* BPF records: aggregated iterations, a stall, and the blocking call inside it. */
static void test_bpf_records_stall_blamed_on_blocking_call(void **state)
{
	struct fixture *f = *state;
	struct weft_loop_stats_event *st = calloc(1, sizeof(*st));
	struct weft_loop_block_event *bl = calloc(1, sizeof(*bl));
	struct weft_loop_stall_event sl = { 0 };
	uint64_t start = T0 + 500 * MS;
	char *a;

	assert_non_null(st);
	assert_non_null(bl);
	hdr(&st->hdr, WEFT_EV_LOOP_STATS, sizeof(*st), T0 + 100 * MS, 201);
	st->since = T0;
	st->iterations = 1000;
	st->busy_ns = 1000 * 10000;
	st->poll_ns = 90 * MS;
	st->max_ns = 12000;
	st->hist[bpf_bucket(10000)] = 990;
	st->hist[bpf_bucket(12000)] = 10;
	assert_int_equal(session_push(f->s, st, sizeof(*st)), 0);

	hdr(&bl->stack.hdr, WEFT_EV_LOOP_BLOCK, sizeof(*bl), start + 110 * MS, 201);
	bl->iter_start = start;
	bl->off_ts = start + 10 * MS;
	bl->off_ns = 100 * MS;
	bl->syscall = 35;
	assert_int_equal(session_push(f->s, bl, sizeof(*bl)), 0);

	hdr(&sl.hdr, WEFT_EV_LOOP_STALL, sizeof(sl), start + 120 * MS, 201);
	sl.start = start;
	sl.kind = WEFT_POLL_EPOLL_WAIT;
	assert_int_equal(session_push(f->s, &sl, sizeof(sl)), 0);

	finish(f, start + 200 * MS);
	a = thread_json(f->json, 201);
	assert_non_null(a);
	assert_non_null(strstr(a, "\"iterations\": 1000,"));
	assert_non_null(strstr(a, "\"busy_pct\": 10.00,"));
	assert_non_null(strstr(a, "\"dur_ns\": 120000000,"));
	assert_non_null(strstr(a, "\"blocking\": true"));
	assert_non_null(strstr(a, "\"name\": \"nanosleep in [no stack]\", \"total_ns\": 100000000"));
	/* p50 from the BPF histogram: within a bucket (1/16) of 10 us. */
	{
		const char *p = strstr(a, "\"iteration_p50_ns\": ");
		unsigned long long v;

		assert_non_null(p);
		assert_int_equal(sscanf(p, "\"iteration_p50_ns\": %llu", &v), 1);
		assert_true(v >= 9300 && v <= 10700);
	}
	free(a);
	free(st);
	free(bl);
}

/* No stall record (the iteration never ended), but a sample well past the threshold. */
static void test_stuck_loop_is_an_ongoing_stall(void **state)
{
	struct fixture *f = *state;
	struct weft_loop_sample_event *e = calloc(1, sizeof(*e));
	uint64_t start = T0 + 100 * MS;
	char *a;

	assert_non_null(e);
	for (int i = 0; i < 5; i++)
		poll_pair(f, 301, T0 + i * 2 * MS, T0 + i * 2 * MS + MS);
	hdr(&e->stack.hdr, WEFT_EV_LOOP_SAMPLE, sizeof(*e), start + 80 * MS, 301);
	e->iter_start = start;
	assert_int_equal(session_push(f->s, e, sizeof(*e)), 0);
	finish(f, start + 300 * MS);
	a = thread_json(f->json, 301);
	assert_non_null(a);
	assert_non_null(strstr(a, "\"dur_ns\": 300000000, \"samples\": 1, \"blocking\": false, "
				  "\"ongoing\": true"));
	assert_non_null(strstr(a, "\"culprit\": \"[no stack]\""));
	free(a);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_value_within_a_bucket),
		cmocka_unit_test(test_culprit_frame),
		cmocka_unit_test_setup_teardown(test_poll_records_make_iterations_and_stalls, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bpf_records_stall_blamed_on_blocking_call,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_loop_is_an_ongoing_stall, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
