// SPDX-License-Identifier: MIT
/* The per-thread scheduling state machine, the kernel's prev_state encoding and the task table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/tasks.h"

/* include/linux/sched.h (6.x); the values are ABI of the sched_switch tracepoint. */
#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_STOPPED 0x0104 /* __TASK_STOPPED | TASK_WAKEKILL */
#define TASK_TRACED 0x0008
#define EXIT_ZOMBIE 0x0010
#define EXIT_DEAD 0x0020
#define TASK_PARKED 0x0040
#define TASK_DEAD 0x0080
#define TASK_KILLABLE 0x0102
#define TASK_IDLE 0x0402 /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_FREEZABLE 0x2000
#define TASK_FROZEN 0x8000

#define REPORT_IDLE 0x80
#define REPORT_PREEMPTED 0x100

static struct task *new_task(void)
{
	struct task *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->tid = 4321;
	t->pid = 4320;
	return t;
}

static uint64_t accounted(const struct task *t)
{
	return t->st.on_cpu_ns + t->st.sleep_ns + t->st.blocked_ns + t->st.runnable_ns;
}

static void test_sleep_wake_run(void **state)
{
	struct task *t = new_task();

	assert_int_equal(task_switch_in(t, 1000), 0);
	assert_int_equal(t->state, TS_RUNNING);

	assert_int_equal(task_switch_out(t, 3000, false, TASK_INTERRUPTIBLE, 0), 2000);
	assert_int_equal(t->state, TS_SLEEPING);
	assert_int_equal(t->st.on_cpu_ns, 2000);
	assert_int_equal(t->st.voluntary, 1);
	assert_int_equal(t->st.involuntary, 0);

	assert_int_equal(task_wake(t, 7000), 4000);
	assert_int_equal(t->state, TS_RUNNABLE);
	assert_int_equal(t->st.sleep_ns, 4000);

	assert_int_equal(task_switch_in(t, 7500), 500);
	assert_int_equal(t->state, TS_RUNNING);
	assert_int_equal(t->st.runnable_ns, 500);
	assert_int_equal(t->st.rq_delay.count, 1);
	assert_int_equal(t->st.rq_delay.max, 500);

	task_finish(t, 9000);
	assert_int_equal(t->st.on_cpu_ns, 3500);
	assert_int_equal(t->st.blocked_ns, 0);
	assert_int_equal(t->first_ts, 1000);
	assert_int_equal(t->last_ts, 9000);
	assert_int_equal(accounted(t), t->last_ts - t->first_ts);
	free(t);
}

static void test_preempted(void **state)
{
	struct task *t = new_task();

	task_switch_in(t, 100);
	assert_int_equal(task_switch_out(t, 600, true, TASK_RUNNING, 0), 500);
	assert_int_equal(t->state, TS_RUNNABLE);
	assert_int_equal(t->st.involuntary, 1);
	assert_int_equal(t->st.voluntary, 0);

	/* preempted is not a wait: no wakeup comes, and one that does changes nothing */
	assert_int_equal(task_wake(t, 650), 0);
	assert_int_equal(task_switch_in(t, 900), 300);
	assert_int_equal(t->st.runnable_ns, 300);
	assert_int_equal(t->st.sleep_ns, 0);
	assert_int_equal(t->st.rq_delay.count, 1);
	free(t);
}

/* Preempted between set_current_state() and schedule(): the task never left the run queue. */
static void test_preempted_while_going_to_sleep(void **state)
{
	struct task *t = new_task();

	task_switch_in(t, 100);
	task_switch_out(t, 200, true, TASK_INTERRUPTIBLE, 0);
	assert_int_equal(t->state, TS_RUNNABLE);
	assert_int_equal(t->st.involuntary, 1);
	assert_int_equal(t->st.voluntary, 0);
	free(t);
}

/* sched_yield() / cond_resched(): schedule() entered while still TASK_RUNNING. */
static void test_yield_is_involuntary(void **state)
{
	struct task *t = new_task();

	task_switch_in(t, 100);
	task_switch_out(t, 200, false, TASK_RUNNING, 0);
	assert_int_equal(t->state, TS_RUNNABLE);
	assert_int_equal(t->st.involuntary, 1);
	assert_int_equal(t->st.voluntary, 0);
	free(t);
}

static void test_uninterruptible(void **state)
{
	const uint32_t states[] = { TASK_UNINTERRUPTIBLE, TASK_KILLABLE };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct task *t = new_task();

		task_switch_in(t, 1000);
		task_switch_out(t, 2000, false, states[i], 0);
		assert_int_equal(t->state, TS_BLOCKED);
		assert_int_equal(task_wake(t, 5000), 3000);
		assert_int_equal(t->st.blocked_ns, 3000);
		assert_int_equal(t->st.sleep_ns, 0);
		assert_int_equal(t->st.voluntary, 1);
		free(t);
	}
}

/* TASK_IDLE is D without the load: kernel threads idling, not a task stuck in I/O. The freezable
 * variant is what nfsd / sunrpc threads use since 6.6. */
static void test_idle_is_sleeping(void **state)
{
	const uint32_t states[] = { TASK_IDLE, TASK_IDLE | TASK_FREEZABLE };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct task *t = new_task();

		task_switch_in(t, 1000);
		task_switch_out(t, 2000, false, states[i], 0);
		if (t->state != TS_SLEEPING)
			fail_msg("prev_state 0x%x: state %d, want sleeping", states[i], t->state);
		task_wake(t, 5000);
		assert_int_equal(t->st.sleep_ns, 3000);
		assert_int_equal(t->st.blocked_ns, 0);
		free(t);
	}
}

static void test_dead(void **state)
{
	struct task *t = new_task();

	task_switch_in(t, 1000);
	task_switch_out(t, 1500, false, TASK_DEAD, EXIT_ZOMBIE);
	assert_int_equal(t->state, TS_DEAD);
	assert_int_equal(t->st.on_cpu_ns, 500);
	assert_int_equal(task_wake(t, 2000), 0);
	task_finish(t, 9000);
	assert_int_equal(accounted(t), 500);
	free(t);
}

/* The kernel's rule in __schedule(): nvcsw when !preempt && prev_state, else nivcsw. */
static void test_switch_counts_follow_kernel(void **state)
{
	const uint32_t states[] = { TASK_RUNNING,    TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE,
				    TASK_KILLABLE,   TASK_IDLE,		 TASK_STOPPED,
				    TASK_TRACED,     TASK_PARKED,	 TASK_RTLOCK_WAIT,
				    TASK_FROZEN };

	for (int preempt = 0; preempt <= 1; preempt++) {
		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
			struct task *t = new_task();
			bool vol = !preempt && states[i] != 0;

			task_switch_in(t, 10);
			task_switch_out(t, 20, preempt, states[i], 0);
			assert_int_equal(t->st.voluntary, vol);
			assert_int_equal(t->st.involuntary, !vol);
			if (!vol)
				assert_int_equal(t->state, TS_RUNNABLE);
			free(t);
		}
	}
}

static void test_wake_while_running_ignored(void **state)
{
	struct task *t = new_task();

	task_switch_in(t, 1000);
	assert_int_equal(task_wake(t, 1500), 0);
	assert_int_equal(t->state, TS_RUNNING);
	assert_int_equal(t->since, 1000);
	assert_int_equal(t->st.runnable_ns, 0);
	task_switch_out(t, 2000, false, TASK_INTERRUPTIBLE, 0);
	assert_int_equal(t->st.on_cpu_ns, 1000);

	/* a second wakeup of a task already runnable is ignored too */
	assert_int_equal(task_wake(t, 3000), 1000);
	assert_int_equal(task_wake(t, 3500), 0);
	assert_int_equal(task_switch_in(t, 4000), 1000);
	assert_int_equal(t->st.runnable_ns, 1000);
	free(t);
}

/* Attached mid-flight: whatever the thread did before its first event is not ours to count. */
static void test_unknown_start_invents_nothing(void **state)
{
	struct task *t = new_task();

	assert_int_equal(t->state, TS_UNKNOWN);
	assert_int_equal(task_switch_out(t, 5000, false, TASK_INTERRUPTIBLE, 0), 0);
	assert_int_equal(accounted(t), 0);
	assert_int_equal(t->state, TS_SLEEPING);
	assert_int_equal(t->first_ts, 5000);

	t = memset(t, 0, sizeof(*t));
	assert_int_equal(task_wake(t, 5000), 0);
	assert_int_equal(t->state, TS_RUNNABLE);
	assert_int_equal(task_switch_in(t, 5200), 200);
	assert_int_equal(accounted(t), 200);

	t = memset(t, 0, sizeof(*t));
	task_finish(t, 9000);
	assert_int_equal(accounted(t), 0);
	assert_int_equal(t->state, TS_UNKNOWN);
	free(t);
}

/* A random but legal event sequence: every nanosecond between the first and the last event
 * lands in exactly one bucket. */
static void test_durations_add_up(void **state)
{
	struct task *t = new_task();
	uint64_t ts = 1000000, seed = 12345;
	uint64_t rq_total = 0;

	task_switch_in(t, ts);
	for (int i = 0; i < 10000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		ts += 1 + (seed >> 40) % 100000;
		switch (t->state) {
		case TS_RUNNING:
			switch ((seed >> 20) % 4) {
			case 0:
				task_switch_out(t, ts, true, TASK_RUNNING, 0);
				break;
			case 1:
				task_switch_out(t, ts, false, TASK_UNINTERRUPTIBLE, 0);
				break;
			case 2:
				task_wake(t, ts); /* ignored */
				break;
			default:
				task_switch_out(t, ts, false, TASK_INTERRUPTIBLE, 0);
				break;
			}
			break;
		case TS_RUNNABLE:
			rq_total += task_switch_in(t, ts);
			break;
		default:
			task_wake(t, ts);
			break;
		}
	}
	task_finish(t, ts + 777);
	assert_int_equal(accounted(t), t->last_ts - t->first_ts);
	assert_int_equal(t->st.runnable_ns, rq_total);
	assert_int_equal(t->st.rq_delay.sum, rq_total);
	assert_true(t->st.voluntary > 0 && t->st.involuntary > 0);
	assert_true(t->st.sleep_ns > 0 && t->st.blocked_ns > 0);
	free(t);
}

static void test_report_state(void **state)
{
	static const struct {
		bool preempt;
		uint32_t prev_state, exit_state;
		int64_t want;
	} cases[] = {
		{ true, TASK_RUNNING, 0, REPORT_PREEMPTED },
		{ true, TASK_INTERRUPTIBLE, 0, REPORT_PREEMPTED },
		{ false, TASK_RUNNING, 0, 0 },
		{ false, TASK_INTERRUPTIBLE, 0, 1 },
		{ false, TASK_UNINTERRUPTIBLE, 0, 2 },
		{ false, TASK_KILLABLE, 0, 2 },
		{ false, TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE, 0, 2 }, /* highest bit wins */
		{ false, TASK_STOPPED, 0, 4 },
		{ false, TASK_TRACED, 0, 8 },
		{ false, TASK_PARKED, 0, 0x40 },
		{ false, TASK_IDLE, 0, REPORT_IDLE },
		{ false, TASK_INTERRUPTIBLE | TASK_FREEZABLE, 0, 1 },
		{ false, TASK_RTLOCK_WAIT, 0, 2 },
		/* exit_state folds in like in __task_state_index(): X and Z win over the rest */
		{ false, TASK_DEAD, EXIT_ZOMBIE, 0x10 },
		{ false, TASK_DEAD, EXIT_DEAD, 0x20 },
		{ false, TASK_INTERRUPTIBLE, EXIT_ZOMBIE, 0x10 },
		{ false, TASK_RUNNING, EXIT_DEAD, 0x20 },
		{ false, TASK_DEAD, 0, 0 }, /* TASK_DEAD is outside TASK_REPORT */
		{ true, TASK_DEAD, EXIT_DEAD, REPORT_PREEMPTED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = task_report_state(cases[i].preempt, cases[i].prev_state,
						cases[i].exit_state);

		if (got != cases[i].want)
			fail_msg("preempt %d state 0x%x exit 0x%x: got 0x%llx, want 0x%llx",
				 cases[i].preempt, cases[i].prev_state, cases[i].exit_state,
				 (long long)got, (long long)cases[i].want);
	}
}

/*
 * Since 6.1 (f718faf3940e "freezer, sched: Report frozen tasks as 'D' instead of 'R'") and 6.6
 * ("sched/core: Report correct state for TASK_IDLE | TASK_FREEZABLE") the kernel tests these
 * bits with a mask, not equality; extra flag bits must not change the letter.
 */
static void test_report_state_masked_bits(void **state)
{
	assert_int_equal(task_report_state(false, TASK_IDLE | TASK_FREEZABLE, 0), REPORT_IDLE);
	assert_int_equal(task_report_state(false, TASK_FROZEN, 0), 2);
	assert_int_equal(task_report_state(false, TASK_RTLOCK_WAIT | TASK_FREEZABLE, 0), 2);
}

static void test_table(void **state)
{
	struct task_table tt;
	struct task *a, *b;
	struct process *p;

	memset(&tt, 0, sizeof(tt));
	assert_null(task_get(&tt, 100));
	a = task_upsert(&tt, 100, 100, "main");
	assert_non_null(a);
	assert_int_equal(a->tid, 100);
	assert_string_equal(a->comm, "main");
	assert_ptr_equal(task_get(&tt, 100), a);

	/* same tid: the same task, renamed; an empty or NULL comm keeps the old name */
	b = task_upsert(&tt, 100, 100, "a-name-longer-than-fifteen");
	assert_ptr_equal(b, a);
	assert_string_equal(a->comm, "a-name-longer-t");
	task_upsert(&tt, 100, 100, "");
	task_upsert(&tt, 100, 100, NULL);
	assert_string_equal(a->comm, "a-name-longer-t");

	for (int32_t tid = 101; tid < 400; tid++)
		assert_non_null(task_upsert(&tt, tid, 100, "worker"));
	assert_ptr_equal(task_get(&tt, 100), a);
	assert_int_equal(task_get(&tt, 399)->pid, 100);

	assert_null(proc_get(&tt, 100));
	p = proc_upsert(&tt, 100);
	assert_non_null(p);
	assert_int_equal(p->pid, 100);
	assert_ptr_equal(proc_upsert(&tt, 100), p);
	assert_ptr_equal(proc_get(&tt, 100), p);
	task_table_free(&tt);
	assert_null(task_get(&tt, 100));
}

/* tids sharing a recent slot each find their own task; a tid never seen finds none */
static void test_table_recent_slots(void **state)
{
	struct task_table tt;
	struct task *t[4];

	memset(&tt, 0, sizeof(tt));
	for (int i = 0; i < 4; i++)
		t[i] = task_upsert(&tt, 7 + i * TASK_RECENT, 1, "w");
	for (int round = 0; round < 2; round++)
		for (int i = 3; i >= 0; i--) {
			assert_ptr_equal(task_get(&tt, 7 + i * TASK_RECENT), t[i]);
			assert_null(task_get(&tt, 7 + 9 * TASK_RECENT));
		}
	/* a negative tid (a bad record) lands in a slot too */
	assert_null(task_get(&tt, -7));
	assert_int_equal(task_upsert(&tt, -7, 1, "w")->tid, -7);
	assert_int_equal(task_get(&tt, -7)->tid, -7);
	task_table_free(&tt);
	assert_null(task_get(&tt, 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_wake_run),
		cmocka_unit_test(test_preempted),
		cmocka_unit_test(test_preempted_while_going_to_sleep),
		cmocka_unit_test(test_yield_is_involuntary),
		cmocka_unit_test(test_uninterruptible),
		cmocka_unit_test(test_idle_is_sleeping),
		cmocka_unit_test(test_dead),
		cmocka_unit_test(test_switch_counts_follow_kernel),
		cmocka_unit_test(test_wake_while_running_ignored),
		cmocka_unit_test(test_unknown_start_invents_nothing),
		cmocka_unit_test(test_durations_add_up),
		cmocka_unit_test(test_report_state),
		cmocka_unit_test(test_report_state_masked_bits),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_recent_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
