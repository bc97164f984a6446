// SPDX-License-Identifier: MIT
/* Pins the record layout of include/weft/events.h: the ABI BPF and user space both compile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "weft/events.h"

/*
 * The BPF object and the user-space decoder are built separately (clang -target bpf vs gcc), so
 * a field that moves on one side only decodes garbage without any error. Every number below is
 * the layout as shipped; changing one is an ABI change and must bump WEFT_EVENT_ABI.
 */
#define FIELD(type, field, off, sz)                                                            \
	do {                                                                                   \
		assert_int_equal(offsetof(type, field), (off));                                \
		assert_int_equal(sizeof(((type *)0)->field), (sz));                            \
	} while (0)

static void test_constants(void **state)
{
	assert_int_equal(WEFT_EVENT_ABI, 1);
	assert_int_equal(WEFT_COMM_LEN, 16);
	assert_int_equal(WEFT_KSTACK_MAX, 32);
	assert_int_equal(WEFT_USTACK_BYTES, 4096);
	assert_int_equal(WEFT_UREGS, 8);

	/* Type tags travel in every record: renumbering one misreads old traces. */
	assert_int_equal(WEFT_EV_SWITCH, 1);
	assert_int_equal(WEFT_EV_WAKING, 2);
	assert_int_equal(WEFT_EV_FORK, 3);
	assert_int_equal(WEFT_EV_EXEC, 4);
	assert_int_equal(WEFT_EV_EXIT, 5);
	assert_int_equal(WEFT_EV_STACK, 6);
	assert_int_equal(WEFT_EV_COMM, 7);
	assert_int_equal(WEFT_EV_LOCKS_BASE, 16);
	assert_int_equal(WEFT_EV_LOOPS_BASE, 32);
	assert_int_equal(WEFT_EV_GO_BASE, 48);
	assert_int_equal(WEFT_EV_ACTORS_BASE, 64);
	assert_int_equal(WEFT_EV_TYPE_MAX, 96);

	/* Loss reasons index per-CPU counter arrays in the BPF object. */
	assert_int_equal(WEFT_LOSS_RINGBUF_FULL, 0);
	assert_int_equal(WEFT_LOSS_STACK_READ, 1);
	assert_int_equal(WEFT_LOSS_STACK_THROTTLED, 2);
	assert_int_equal(WEFT_LOSS_TASK_STORAGE, 3);
	assert_int_equal(WEFT_LOSS_REASON_MAX, 32);

	/* The unwinder indexes uregs by these. */
	assert_int_equal(WEFT_UREG_IP, 0);
	assert_int_equal(WEFT_UREG_SP, 1);
	assert_int_equal(WEFT_UREG_BP, 2);
	assert_int_equal(WEFT_UREG_BX, 3);
	assert_int_equal(WEFT_UREG_R12, 4);
	assert_int_equal(WEFT_UREG_R13, 5);
	assert_int_equal(WEFT_UREG_R14, 6);
	assert_int_equal(WEFT_UREG_R15, 7);
}

static void test_header(void **state)
{
	assert_int_equal(sizeof(struct weft_event_header), 24);
	FIELD(struct weft_event_header, type, 0, 2);
	FIELD(struct weft_event_header, size, 2, 2);
	FIELD(struct weft_event_header, cpu, 4, 4);
	FIELD(struct weft_event_header, ts, 8, 8);
	FIELD(struct weft_event_header, pid, 16, 4);
	FIELD(struct weft_event_header, tid, 20, 4);
}

/* A page per CPU, its records 8-byte aligned like a ring record's. */
static void test_sched_batch(void **state)
{
	assert_int_equal(sizeof(struct weft_sched_batch), 4096);
	FIELD(struct weft_sched_batch, len, 0, 4);
	FIELD(struct weft_sched_batch, count, 4, 4);
	FIELD(struct weft_sched_batch, flushing, 8, 4);
	FIELD(struct weft_sched_batch, buf, 16, WEFT_SCHED_BATCH_BYTES);
}

static void test_switch(void **state)
{
	assert_int_equal(sizeof(struct weft_switch_event), 88);
	FIELD(struct weft_switch_event, hdr, 0, 24);
	FIELD(struct weft_switch_event, prev_state, 24, 4);
	FIELD(struct weft_switch_event, prev_exit_state, 28, 4);
	FIELD(struct weft_switch_event, next_pid, 32, 4);
	FIELD(struct weft_switch_event, next_tid, 36, 4);
	FIELD(struct weft_switch_event, prev_prio, 40, 4);
	FIELD(struct weft_switch_event, next_prio, 44, 4);
	FIELD(struct weft_switch_event, preempt, 48, 1);
	FIELD(struct weft_switch_event, prev_traced, 49, 1);
	FIELD(struct weft_switch_event, next_traced, 50, 1);
	FIELD(struct weft_switch_event, pad, 51, 5);
	FIELD(struct weft_switch_event, prev_comm, 56, 16);
	FIELD(struct weft_switch_event, next_comm, 72, 16);
}

static void test_waking(void **state)
{
	assert_int_equal(sizeof(struct weft_waking_event), 64);
	FIELD(struct weft_waking_event, hdr, 0, 24);
	FIELD(struct weft_waking_event, pid, 24, 4);
	FIELD(struct weft_waking_event, tid, 28, 4);
	FIELD(struct weft_waking_event, prio, 32, 4);
	FIELD(struct weft_waking_event, target_cpu, 36, 4);
	FIELD(struct weft_waking_event, new_task, 40, 1);
	FIELD(struct weft_waking_event, pad, 41, 7);
	FIELD(struct weft_waking_event, comm, 48, 16);
}

static void test_fork(void **state)
{
	assert_int_equal(sizeof(struct weft_fork_event), 48);
	FIELD(struct weft_fork_event, hdr, 0, 24);
	FIELD(struct weft_fork_event, child_pid, 24, 4);
	FIELD(struct weft_fork_event, child_tid, 28, 4);
	FIELD(struct weft_fork_event, child_comm, 32, 16);
}

static void test_exec(void **state)
{
	assert_int_equal(sizeof(struct weft_exec_event), 176);
	FIELD(struct weft_exec_event, hdr, 0, 24);
	FIELD(struct weft_exec_event, old_tid, 24, 4);
	FIELD(struct weft_exec_event, pad, 28, 4);
	FIELD(struct weft_exec_event, comm, 32, 16);
	FIELD(struct weft_exec_event, filename, 48, 128);
}

static void test_exit(void **state)
{
	assert_int_equal(sizeof(struct weft_exit_event), 48);
	FIELD(struct weft_exit_event, hdr, 0, 24);
	FIELD(struct weft_exit_event, exit_code, 24, 4);
	FIELD(struct weft_exit_event, group_dead, 28, 1);
	FIELD(struct weft_exit_event, pad, 29, 3);
	FIELD(struct weft_exit_event, comm, 32, 16);
}

static void test_comm(void **state)
{
	assert_int_equal(sizeof(struct weft_comm_event), 40);
	FIELD(struct weft_comm_event, hdr, 0, 24);
	FIELD(struct weft_comm_event, comm, 24, 16);
}

static void test_stack(void **state)
{
	assert_int_equal(sizeof(struct weft_stack_event), 4448);
	FIELD(struct weft_stack_event, hdr, 0, 24);
	FIELD(struct weft_stack_event, kstack_len, 24, 4);
	FIELD(struct weft_stack_event, ustack_len, 28, 4);
	FIELD(struct weft_stack_event, uregs, 32, 8 * WEFT_UREGS);
	FIELD(struct weft_stack_event, kstack, 96, 8 * WEFT_KSTACK_MAX);
	FIELD(struct weft_stack_event, ustack, 352, WEFT_USTACK_BYTES);
}

/* Event loops: the poll records (BPF and the preload shim write them) and the BPF loop records. */
static void test_loops(void **state)
{
	assert_int_equal(WEFT_EV_POLL_ENTER, 32);
	assert_int_equal(WEFT_EV_LOOP_BLOCK, 37);
	assert_int_equal(sizeof(struct weft_poll_enter_event), 40);
	FIELD(struct weft_poll_enter_event, kind, 24, 4);
	FIELD(struct weft_poll_enter_event, fd, 28, 4);
	FIELD(struct weft_poll_enter_event, timeout_ns, 32, 8);
	assert_int_equal(sizeof(struct weft_poll_exit_event), 32);
	FIELD(struct weft_poll_exit_event, kind, 24, 4);
	FIELD(struct weft_poll_exit_event, ret, 28, 4);
	assert_int_equal(sizeof(struct weft_loop_stats_event), 2120);
	FIELD(struct weft_loop_stats_event, since, 24, 8);
	FIELD(struct weft_loop_stats_event, iterations, 32, 8);
	FIELD(struct weft_loop_stats_event, busy_ns, 40, 8);
	FIELD(struct weft_loop_stats_event, poll_ns, 48, 8);
	FIELD(struct weft_loop_stats_event, max_ns, 56, 8);
	FIELD(struct weft_loop_stats_event, kind, 64, 4);
	FIELD(struct weft_loop_stats_event, hist, 72, 4 * WEFT_LOOP_HIST_BUCKETS);
	assert_int_equal(sizeof(struct weft_loop_stall_event), 40);
	FIELD(struct weft_loop_stall_event, start, 24, 8);
	FIELD(struct weft_loop_stall_event, kind, 32, 4);
	assert_int_equal(sizeof(struct weft_py_frames), 584);
	FIELD(struct weft_py_frames, entries, 4, 4);
	FIELD(struct weft_py_frames, line, 8, 4 * WEFT_PY_FRAMES);
	FIELD(struct weft_py_frames, func, 40, WEFT_PY_FRAMES * WEFT_PY_NAME);
	FIELD(struct weft_py_frames, code, 488, 8 * WEFT_PY_FRAMES);
	FIELD(struct weft_py_frames, instr, 552, 4 * WEFT_PY_FRAMES);
	assert_int_equal(sizeof(struct weft_py_frames_event), 608);
	FIELD(struct weft_py_frames_event, py, 24, 584);
	assert_int_equal(sizeof(struct weft_loop_sample_event), 5040);
	FIELD(struct weft_loop_sample_event, iter_start, 4448, 8);
	FIELD(struct weft_loop_sample_event, py, 4456, 584);
	assert_int_equal(sizeof(struct weft_loop_block_event), 5064);
	FIELD(struct weft_loop_block_event, py, 4480, 584);
	FIELD(struct weft_loop_block_event, iter_start, 4448, 8);
	FIELD(struct weft_loop_block_event, off_ts, 4456, 8);
	FIELD(struct weft_loop_block_event, off_ns, 4464, 8);
	FIELD(struct weft_loop_block_event, syscall, 4472, 4);
}

/* Records sit back to back in 8-byte aligned rings, and header.size is 16 bits wide. */
static void test_sizes_aligned_and_fit(void **state)
{
	const size_t sizes[] = {
		sizeof(struct weft_event_header), sizeof(struct weft_switch_event),
		sizeof(struct weft_waking_event), sizeof(struct weft_fork_event),
		sizeof(struct weft_exec_event),	  sizeof(struct weft_exit_event),
		sizeof(struct weft_comm_event),	  sizeof(struct weft_stack_event),
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(sizes[i] % 8, 0);
		assert_true(sizes[i] <= UINT16_MAX);
	}
	assert_int_equal(_Alignof(struct weft_event_header), 8);
	assert_int_equal(_Alignof(struct weft_stack_event), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_sched_batch),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_waking),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_sizes_aligned_and_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
