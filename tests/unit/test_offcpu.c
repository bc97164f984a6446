// SPDX-License-Identifier: MIT
/* Off-CPU stack table: one row per call path, per-thread shares, ranking by scaled estimate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/offcpu.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_intern_dedups(void **state)
{
	char f0[32] = "futex_wait (vmlinux)", f1[32] = "pthread_mutex_lock (libc.so.6)";
	const char *a[] = { f0, f1, "worker (pingpong)" };
	const char *b[] = { "futex_wait (vmlinux)", "pthread_mutex_lock (libc.so.6)",
			    "worker (pingpong)" };
	const char *reversed[] = { "worker (pingpong)", "pthread_mutex_lock (libc.so.6)",
				   "futex_wait (vmlinux)" };
	const char *prefix[] = { "futex_wait (vmlinux)", "pthread_mutex_lock (libc.so.6)" };
	struct offcpu_table t = { 0 };
	struct offcpu_stack *sa, *sb;

	sa = offcpu_intern(&t, a, N(a));
	assert_non_null(sa);
	assert_int_equal(sa->nframes, 3);
	/* the table owns copies: the caller's buffers are scratch space */
	strcpy(f0, "clobbered");
	strcpy(f1, "clobbered");
	assert_string_equal(sa->frames[0], "futex_wait (vmlinux)");
	assert_string_equal(sa->frames[1], "pthread_mutex_lock (libc.so.6)");
	assert_string_equal(sa->frames[2], "worker (pingpong)");

	sb = offcpu_intern(&t, b, N(b));
	assert_ptr_equal(sb, sa);
	assert_int_equal(t.by_key.len, 1);

	assert_ptr_not_equal(offcpu_intern(&t, reversed, N(reversed)), sa);
	assert_ptr_not_equal(offcpu_intern(&t, prefix, N(prefix)), sa);
	assert_int_equal(t.by_key.len, 3);
	offcpu_free(&t);
}

/* Frame boundaries are part of the identity: "ab","c" is not "a","bc". */
static void test_intern_frame_boundaries(void **state)
{
	const char *x[] = { "ab", "c" }, *y[] = { "a", "bc" }, *z[] = { "abc" };
	struct offcpu_table t = { 0 };
	struct offcpu_stack *sx, *sy, *sz, *empty;

	sx = offcpu_intern(&t, x, 2);
	sy = offcpu_intern(&t, y, 2);
	sz = offcpu_intern(&t, z, 1);
	empty = offcpu_intern(&t, NULL, 0);
	assert_true(sx && sy && sz && empty);
	assert_ptr_not_equal(sx, sy);
	assert_ptr_not_equal(sx, sz);
	assert_ptr_not_equal(sy, sz);
	assert_int_equal(empty->nframes, 0);
	assert_ptr_equal(offcpu_intern(&t, NULL, 0), empty);
	offcpu_free(&t);
}

static void test_add_per_tid(void **state)
{
	const char *f[] = { "do_select (vmlinux)", "poll (libc.so.6)" };
	struct offcpu_table t = { 0 };
	struct offcpu_stack *s = offcpu_intern(&t, f, 2);

	assert_non_null(s);
	assert_int_equal(offcpu_add(&t, s, 101, 100000), 0);
	assert_int_equal(offcpu_add(&t, s, 102, 50000), 0);
	assert_int_equal(offcpu_add(&t, s, 101, 30000), 0);
	assert_int_equal(s->waits, 3);
	assert_int_equal(s->total_ns, 180000);
	assert_int_equal(s->max_ns, 100000);
	assert_int_equal(t.total_ns, 180000);
	assert_int_equal(s->ncontribs, 2);
	for (size_t i = 0; i < s->ncontribs; i++) {
		if (s->contribs[i].tid == 101)
			assert_int_equal(s->contribs[i].ns, 130000);
		else if (s->contribs[i].tid == 102)
			assert_int_equal(s->contribs[i].ns, 50000);
		else
			fail_msg("unexpected tid %d", s->contribs[i].tid);
	}
	offcpu_free(&t);
	assert_int_equal(t.total_ns, 0);
}

/* tid 101 had a stack taken for one wait in ten, the others for all of theirs. */
static double scale(void *ctx, int32_t tid)
{
	int *calls = ctx;

	(*calls)++;
	return tid == 101 ? 10.0 : 1.0;
}

static void test_ranked(void **state)
{
	const char *fa[] = { "A" }, *fb[] = { "B" }, *fc[] = { "C" }, *fd[] = { "D" };
	struct offcpu_table t = { 0 };
	struct offcpu_stack *a, *b, *c, *d, **r;
	size_t n;
	int calls = 0;

	a = offcpu_intern(&t, fa, 1);
	b = offcpu_intern(&t, fb, 1);
	c = offcpu_intern(&t, fc, 1); /* interned but never waited in */
	d = offcpu_intern(&t, fd, 1);
	assert_true(a && b && c && d);
	offcpu_add(&t, a, 101, 100);  /* ~1000 */
	offcpu_add(&t, b, 102, 500);  /* 500: most sampled, yet not the largest estimate */
	offcpu_add(&t, d, 101, 50);   /* ~500 */
	offcpu_add(&t, d, 103, 200);  /* +200 = 700 */

	r = offcpu_ranked(&t, scale, &calls, &n);
	assert_non_null(r);
	assert_int_equal(n, 3);
	assert_ptr_equal(r[0], a);
	assert_ptr_equal(r[1], d);
	assert_ptr_equal(r[2], b);
	assert_int_equal(a->est_ns, 1000);
	assert_int_equal(d->est_ns, 700);
	assert_int_equal(b->est_ns, 500);
	assert_int_equal(calls, 4); /* once per (stack, tid) */
	free(r);

	/* without a scale the estimate is what was sampled */
	r = offcpu_ranked(&t, NULL, NULL, &n);
	assert_non_null(r);
	assert_int_equal(n, 3);
	assert_ptr_equal(r[0], b);
	assert_ptr_equal(r[1], d);
	assert_ptr_equal(r[2], a);
	assert_int_equal(a->est_ns, 100);
	free(r);
	offcpu_free(&t);
}

static void test_ranked_empty(void **state)
{
	struct offcpu_table t = { 0 };
	struct offcpu_stack **r;
	size_t n = 99;

	r = offcpu_ranked(&t, NULL, NULL, &n);
	assert_non_null(r);
	assert_int_equal(n, 0);
	free(r);
	offcpu_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intern_dedups),
		cmocka_unit_test(test_intern_frame_boundaries),
		cmocka_unit_test(test_add_per_tid),
		cmocka_unit_test(test_ranked),
		cmocka_unit_test(test_ranked_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
