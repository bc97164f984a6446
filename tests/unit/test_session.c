// SPDX-License-Identifier: MIT
/* A whole session on hand-built records: per-thread times and counts in the JSON summary. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "session_fixture.h"

#include "analyze/session.h"

#define US 1000ULL
#define T0 1234567000000ULL /* ~20 min after boot */
#define AT(us) (T0 + (us) * US)

#define PID 5000    /* main thread "pingpong" */
#define PING 5001
#define PONG 5002
#define CHILD 5100  /* a forked process that never runs in the recording */

#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_DEAD 0x80
#define EXIT_DEAD 0x20

/*
 * The recording, in microseconds after T0 (S = sleeping, D = uninterruptible, R = runnable):
 *
 *   5  fork ping, 6 fork pong, 20 fork process CHILD           (all on CPU 0, by main)
 *  10  main wakes ping (new)     15 main wakes pong (new)
 *  30  cpu1: idle -> ping                       ping R 20
 * 100  cpu1: ping (S) -> pong                   ping on 70, pong R 85
 * 150  cpu1: pong wakes ping                    ping S 50
 * 160  cpu1: pong preempted -> ping             pong on 60, ping R 10
 * 200  cpu0: main (D) -> pong, + stack of main  main first seen, pong R 40
 * 260  cpu1: ping (S) -> idle                   ping on 100
 * 290  cpu0: pong wakes main                    main D 90
 * 300  cpu0: pong yields -> main                pong on 100, main R 10
 * 320  cpu1: idle -> pong                       pong R 20
 * 330  cpu1: pong exits; 331 pong (dead) -> idle         pong on 11
 * 400  cpu0: main renamed "pp-main"; 420 CHILD exits with 3
 * 500  end                                      main on 200, ping S 240
 */
static const struct expect {
	int32_t tid;
	const char *comm;
	uint64_t on, sleep, blocked, runnable, vol, invol, rq_count, rq_max;
} expected[] = {
	{ PID, "pp-main", 200, 0, 90, 10, 1, 0, 1, 10 },
	{ PING, "ping", 170, 290, 0, 30, 2, 0, 2, 20 },
	{ PONG, "pong", 171, 0, 0, 145, 1, 2, 3, 85 },
};

struct fixture {
	struct session *s;
	int fd;
	int exited_pid, exited_code, exited_calls;
	char *json;
	size_t json_len;
};

static void hdr(struct weft_event_header *h, unsigned type, size_t size, uint32_t cpu,
		uint64_t ts, uint32_t pid, uint32_t tid)
{
	h->type = type;
	h->size = size;
	h->cpu = cpu;
	h->ts = ts;
	h->pid = pid;
	h->tid = tid;
}

static void push(struct fixture *f, const void *rec)
{
	const struct weft_event_header *h = rec;

	assert_int_equal(session_push(f->s, rec, h->size), 0);
}

static void sw(struct fixture *f, uint32_t cpu, uint64_t us, uint32_t prev, const char *prev_comm,
	       uint32_t prev_state, uint32_t exit_state, bool preempt, uint32_t next,
	       const char *next_comm)
{
	struct weft_switch_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_SWITCH, sizeof(e), cpu, AT(us), prev ? PID : 0, prev);
	e.prev_state = prev_state;
	e.prev_exit_state = exit_state;
	e.next_pid = next ? PID : 0;
	e.next_tid = next;
	e.prev_prio = e.next_prio = 120;
	e.preempt = preempt;
	e.prev_traced = prev != 0;
	e.next_traced = next != 0;
	snprintf(e.prev_comm, sizeof(e.prev_comm), "%s", prev_comm);
	snprintf(e.next_comm, sizeof(e.next_comm), "%s", next_comm);
	push(f, &e);
}

static void wake(struct fixture *f, uint32_t cpu, uint64_t us, uint32_t waker, uint32_t wakee,
		 const char *comm, bool new_task)
{
	struct weft_waking_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_WAKING, sizeof(e), cpu, AT(us), PID, waker);
	e.pid = PID;
	e.tid = wakee;
	e.prio = 120;
	e.target_cpu = 1;
	e.new_task = new_task;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	push(f, &e);
}

static void fork_ev(struct fixture *f, uint64_t us, uint32_t child_pid, uint32_t child_tid,
		    const char *comm)
{
	struct weft_fork_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_FORK, sizeof(e), 0, AT(us), PID, PID);
	e.child_pid = child_pid;
	e.child_tid = child_tid;
	snprintf(e.child_comm, sizeof(e.child_comm), "%s", comm);
	push(f, &e);
}

static void exit_ev(struct fixture *f, uint32_t cpu, uint64_t us, uint32_t pid, uint32_t tid,
		    int code, bool group_dead, const char *comm)
{
	struct weft_exit_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_EXIT, sizeof(e), cpu, AT(us), pid, tid);
	e.exit_code = code;
	e.group_dead = group_dead;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	push(f, &e);
}

static void comm_ev(struct fixture *f, uint64_t us, uint32_t tid, const char *comm)
{
	struct weft_comm_event e;

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, WEFT_EV_COMM, sizeof(e), 0, AT(us), PID, tid);
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	push(f, &e);
}

/* Address of a kernel text symbol, 0 if kallsyms hides them (not root, kptr_restrict). */
static uint64_t ksym(const char *name)
{
	FILE *k = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type;
	unsigned long long addr;
	uint64_t found = 0;

	if (!k)
		return 0;
	while (!found && fgets(line, sizeof(line), k))
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 && !strcmp(sym, name))
			found = addr;
	fclose(k);
	return found;
}

/* The off-CPU stack of main's D wait: no user part (uregs zeroed), kernel frames from
 * kallsyms when readable, made-up addresses otherwise (must merely not crash). */
static bool stack_ev(struct fixture *f, uint64_t us)
{
	const char *names[] = { "schedule", "do_nanosleep", "hrtimer_nanosleep" };
	struct weft_stack_event *e = calloc(1, sizeof(*e));
	bool real = true;

	assert_non_null(e);
	hdr(&e->hdr, WEFT_EV_STACK, sizeof(*e), 0, AT(us), PID, PID);
	for (size_t i = 0; i < 3; i++) {
		e->kstack[i] = ksym(names[i]);
		if (!e->kstack[i]) {
			real = false;
			e->kstack[i] = 0xffffffff81000000ULL + i * 0x40;
		} else {
			e->kstack[i] += 0x10; /* a return address inside the function */
		}
	}
	e->kstack_len = 3;
	push(f, e);
	free(e);
	return real;
}

static void on_exited(void *ctx, int32_t pid, int32_t exit_code)
{
	struct fixture *f = ctx;

	f->exited_pid = pid;
	f->exited_code = exit_code;
	f->exited_calls++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct session_opts o = { 0 };

	if (!f)
		return -1;
	o.hooks.process_exited = on_exited;
	o.hooks.ctx = f;
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

static bool push_recording(struct fixture *f)
{
	bool real_stack;

	/* CPU 1's records arrive before CPU 0's, as two ring reads would hand them over. */
	sw(f, 1, 30, 0, "swapper/1", 0, 0, false, PING, "ping");
	sw(f, 1, 100, PING, "ping", TASK_INTERRUPTIBLE, 0, false, PONG, "pong");
	wake(f, 1, 150, PONG, PING, "ping", false);
	sw(f, 1, 160, PONG, "pong", 0, 0, true, PING, "ping");
	sw(f, 1, 260, PING, "ping", TASK_INTERRUPTIBLE, 0, false, 0, "swapper/1");
	sw(f, 1, 320, 0, "swapper/1", 0, 0, false, PONG, "pong");
	exit_ev(f, 1, 330, PID, PONG, 0, false, "pong");
	sw(f, 1, 331, PONG, "pong", TASK_DEAD, EXIT_DEAD, false, 0, "swapper/1");
	assert_int_equal(session_flush(f->s, false), 0);

	fork_ev(f, 5, PID, PING, "ping");
	fork_ev(f, 6, PID, PONG, "pong");
	wake(f, 0, 10, PID, PING, "ping", true);
	wake(f, 0, 15, PID, PONG, "pong", true);
	fork_ev(f, 20, CHILD, CHILD, "pingpong");
	sw(f, 0, 200, PID, "pingpong", TASK_UNINTERRUPTIBLE, 0, false, PONG, "pong");
	real_stack = stack_ev(f, 200);
	wake(f, 0, 290, PONG, PID, "pingpong", false);
	sw(f, 0, 300, PONG, "pong", 0, 0, false, PID, "pingpong");
	comm_ev(f, 400, PID, "pp-main");
	exit_ev(f, 0, 420, CHILD, CHILD, 3, true, "pingpong");
	return real_stack;
}

static void summarize(struct fixture *f)
{
	test_session_json(f->s, &f->json, &f->json_len);
	assert_non_null(f->json);
}

/* The number after the first "key": in json (the summary's top-level counters have unique
 * names); fails if absent, so new fields around it do not matter. */
static uint64_t json_u64(const char *json, const char *key)
{
	char pat[64];
	const char *p;
	unsigned long long v;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(json, pat);
	if (!p)
		fail_msg("no %s in summary", key);
	assert_int_equal(sscanf(p + strlen(pat), "%llu", &v), 1);
	return v;
}

/* The value of "name" in the thread object of tid; fails if absent. */
static uint64_t thread_field(const char *json, int32_t tid, const char *name)
{
	char key[64], *obj, *end, *p;
	unsigned long long v;

	snprintf(key, sizeof(key), "\"tid\": %d,", tid);
	obj = strstr(json, key);
	if (!obj)
		fail_msg("thread %d missing from summary", tid);
	end = strstr(obj, "\"involuntary_switches\"");
	assert_non_null(end);
	end = strchr(end, '}');
	assert_non_null(end);
	snprintf(key, sizeof(key), "\"%s\": ", name);
	p = strstr(obj, key);
	if (!p || p > end)
		fail_msg("thread %d: no field %s", tid, name);
	assert_int_equal(sscanf(p + strlen(key), "%llu", &v), 1);
	return v;
}

static void test_thread_times(void **state)
{
	struct fixture *f = *state;
	char key[64];

	push_recording(f);
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);

	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct expect *e = &expected[i];

		snprintf(key, sizeof(key), "{\"pid\": %d, \"tid\": %d, \"comm\": \"%s\"", PID,
			 e->tid, e->comm);
		if (!strstr(f->json, key))
			fail_msg("no \"%s\" in\n%s", key, f->json);
		assert_int_equal(thread_field(f->json, e->tid, "on_cpu_ns"), e->on * US);
		assert_int_equal(thread_field(f->json, e->tid, "off_cpu_ns"),
				 (e->sleep + e->blocked) * US);
		assert_int_equal(thread_field(f->json, e->tid, "sleeping_ns"), e->sleep * US);
		assert_int_equal(thread_field(f->json, e->tid, "uninterruptible_ns"),
				 e->blocked * US);
		assert_int_equal(thread_field(f->json, e->tid, "runnable_ns"), e->runnable * US);
		assert_int_equal(thread_field(f->json, e->tid, "voluntary_switches"), e->vol);
		assert_int_equal(thread_field(f->json, e->tid, "involuntary_switches"), e->invol);
		assert_int_equal(thread_field(f->json, e->tid, "count"), e->rq_count);
		assert_int_equal(thread_field(f->json, e->tid, "max"), e->rq_max * US);
	}
	/* a process that never ran is no thread row */
	snprintf(key, sizeof(key), "\"tid\": %d,", CHILD);
	assert_null(strstr(f->json, key));
	/* worst waiter first: ping (320 us), pong (145 us), main (100 us) */
	assert_true(strstr(f->json, "\"tid\": 5001,") < strstr(f->json, "\"tid\": 5002,"));
	assert_true(strstr(f->json, "\"tid\": 5002,") < strstr(f->json, "\"tid\": 5000,"));
	/* first record (fork at 5 us) to the end */
	assert_int_equal(json_u64(f->json, "duration_ns"), 495000);
}

static void test_events_and_hook(void **state)
{
	struct fixture *f = *state;

	push_recording(f);
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "captured"), 19);
	assert_non_null(strstr(f->json, "\"switch\": 8, \"waking\": 4, \"fork\": 3, \"exec\": 0, "
					"\"exit\": 2, \"stack\": 1, \"comm\": 1"));
	assert_int_equal(json_u64(f->json, "malformed"), 0);
	assert_int_equal(json_u64(f->json, "switches_in_trace"), 8);
	/* only a group exit ends a process */
	assert_int_equal(f->exited_calls, 1);
	assert_int_equal(f->exited_pid, CHILD);
	assert_int_equal(f->exited_code, 3);
	assert_int_equal(json_u64(f->json, "lost"), 0);
}

/* main's D wait carried a stack: it is charged there, scheduler frames left out. */
static void test_offcpu_stack(void **state)
{
	struct fixture *f = *state;
	bool real = push_recording(f);
	char *stacks;

	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	stacks = strstr(f->json, "\"offcpu_stacks\": [");
	assert_non_null(stacks);
	if (!real) {
		print_message("kallsyms hidden: stack pushed with made-up addresses only\n");
		return;
	}
	assert_non_null(strstr(stacks, "\"estimated_ns\": 90000, \"sampled_ns\": 90000, "
				       "\"sampled_waits\": 1, \"max_ns\": 90000, "
				       "\"tids\": [5000]"));
	assert_non_null(strstr(stacks, "do_nanosleep"));
	assert_non_null(strstr(stacks, "hrtimer_nanosleep"));
	assert_null(strstr(stacks, "\"schedule "));
}

/* A py_frames record for tid at us on cpu: frames named as given, innermost first; `entries`
 * marks the first frame of each evaluation call. */
static void py_ev(struct fixture *f, uint32_t cpu, uint64_t us, int32_t tid, uint32_t n,
		  uint32_t entries, const char *const *names)
{
	struct weft_py_frames_event e = { 0 };

	hdr(&e.hdr, WEFT_EV_PY_FRAMES, sizeof(e), cpu, AT(us), PID, tid);
	e.py.n = n;
	e.py.entries = entries;
	for (uint32_t i = 0; i < n && i < WEFT_PY_FRAMES; i++) {
		if (names[i])
			strncpy(e.py.func[i], names[i], WEFT_PY_NAME - 1);
		else
			memset(e.py.func[i], 'x', WEFT_PY_NAME); /* unterminated */
		e.py.line[i] = (int32_t)(10 * (i + 1));
	}
	push(f, &e);
}

/* The recording above, finished: its summary's off-CPU stacks, as JSON. */
static char *recorded_stacks(struct fixture *f)
{
	char *stacks;

	push_recording(f);
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	stacks = strstr(f->json, "\"offcpu_stacks\": [");
	assert_non_null(stacks);
	return stacks;
}

/* The Python frames recorded with main's stack (same CPU, thread and time) join it: with no
 * user stack to replace the interpreter's frames in, at its outer end, innermost first. */
static void test_python_frames_join_their_stack(void **state)
{
	static const char *const names[] = { "inner", "Outer.method" };
	struct fixture *f = *state;
	char *stacks, *inner, *outer;

	py_ev(f, 0, 200, PID, 2, 2, names);
	stacks = recorded_stacks(f);
	inner = strstr(stacks, "\"inner (python, line 10)\"");
	outer = strstr(stacks, "\"Outer.method (python, line 20)\"");
	assert_non_null(inner);
	assert_non_null(outer);
	assert_true(inner < outer);
	assert_true(strstr(stacks, "nanosleep") < inner);
	assert_int_equal(json_u64(f->json, "py_frames"), 1);
}

/* Python frames of another time, thread or CPU stay out of the stack. */
static void test_python_frames_of_another_stack_stay_out(void **state)
{
	static const char *const names[] = { "elsewhere" };
	struct fixture *f = *state;
	char *stacks;

	py_ev(f, 0, 199, PID, 1, 1, names);
	py_ev(f, 1, 200, PID, 1, 1, names);
	py_ev(f, 0, 200, PING, 1, 1, names);
	stacks = recorded_stacks(f);
	assert_null(strstr(stacks, "(python"));
}

/* A record that claims more frames than it holds, its names unterminated, is read within its
 * bounds: all it holds, each name cut at the last byte. */
static void test_python_frames_read_within_bounds(void **state)
{
	static const char *const bad[WEFT_PY_FRAMES] = { NULL }; /* all unterminated */
	struct fixture *f = *state;
	char name[WEFT_PY_NAME + 32];
	const char *p;
	int n = 0;

	py_ev(f, 0, 200, PID, 1000, 0, bad);
	memset(name, 'x', WEFT_PY_NAME - 1);
	snprintf(name + WEFT_PY_NAME - 1, sizeof(name) - (WEFT_PY_NAME - 1), " (python, line ");
	for (p = recorded_stacks(f); (p = strstr(p, name)); p++)
		n++;
	assert_int_equal(n, WEFT_PY_FRAMES);
}

static void test_trace_file(void **state)
{
	struct fixture *f = *state;
	unsigned char first;
	struct stat st;

	push_recording(f);
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	/* finishing twice is harmless */
	assert_int_equal(session_finish(f->s, AT(600)), 0);
	assert_int_equal(fstat(f->fd, &st), 0);
	assert_true(st.st_size > 0);
	/* a Perfetto Trace is a run of field 1 (packet), length-delimited: tag 0x0A */
	assert_int_equal(pread(f->fd, &first, 1, 0), 1);
	assert_int_equal(first, 0x0A);
	assert_int_equal(session_trace_bytes(f->s), st.st_size);
	summarize(f);
	assert_int_equal(json_u64(f->json, "trace_bytes"), st.st_size);
}

static void test_malformed_counted(void **state)
{
	struct fixture *f = *state;
	struct weft_switch_event e;
	unsigned char junk[8] = { 1, 0, 88, 0 };

	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, 999, sizeof(e), 0, AT(1), PID, PID);
	assert_int_equal(session_push(f->s, &e, sizeof(e)), -EPROTO);
	hdr(&e.hdr, WEFT_EV_SWITCH, sizeof(e) - 8, 0, AT(1), PID, PID);
	assert_int_equal(session_push(f->s, &e, sizeof(e)), -EPROTO);
	hdr(&e.hdr, WEFT_EV_SWITCH, sizeof(e), 0, AT(1), PID, PID);
	assert_int_equal(session_push(f->s, &e, sizeof(e) - 1), -EPROTO);
	assert_int_equal(session_push(f->s, junk, sizeof(junk)), -EPROTO);
	assert_int_equal(session_push(f->s, NULL, 0), -EPROTO);

	push_recording(f);
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "malformed"), 5);
	assert_int_equal(json_u64(f->json, "captured"), 19);
	/* and the good records around them were still analysed */
	assert_int_equal(thread_field(f->json, PING, "on_cpu_ns"), 170 * US);
}

/*
 * A stack whose lengths claim more than its arrays hold (the preload shim's records come from
 * the traced program's memory): read only as far as the arrays go. The frame pointer sits 64 MiB
 * above the stack pointer, inside the claimed length: reading it meant reading far outside the
 * record.
 */
static void test_stack_lengths_past_the_arrays(void **state)
{
	struct fixture *f = *state;
	struct weft_stack_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	push_recording(f);
	/* main, known by then, switched out at 200 */
	hdr(&e->hdr, WEFT_EV_STACK, sizeof(*e), 0, AT(200), PID, PID);
	e->kstack_len = UINT32_MAX;
	e->ustack_len = UINT32_MAX;
	e->uregs[WEFT_UREG_IP] = 0x401000;
	e->uregs[WEFT_UREG_SP] = 0x7ffd00000000ULL;
	e->uregs[WEFT_UREG_BP] = 0x7ffd00000000ULL + (64 << 20);
	push(f, e);
	free(e);
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "malformed"), 0);
	assert_int_equal(json_u64(f->json, "captured"), 20);
}

/* Nothing pushed at all: a valid, empty summary and a trace that still opens. */
static void test_empty_session(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(session_finish(f->s, 0), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "duration_ns"), 0);
	assert_non_null(strstr(f->json, "\"threads\": [\n  ]"));
	assert_int_equal(json_u64(f->json, "captured"), 0);
}

/* The duration counts from the recording's start when it is known, else from the first record,
 * never from the clock's origin (a recording without a single record once read "45378 s"). */
static void test_duration_from_start(void **state)
{
	struct fixture *f = *state;

	session_set_start(f->s, AT(0));
	push_recording(f); /* first record at 5 us */
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "duration_ns"), 500000);
}

static void test_duration_without_records(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "duration_ns"), 0);
}

static void test_duration_started_without_records(void **state)
{
	struct fixture *f = *state;

	session_set_start(f->s, AT(100));
	assert_int_equal(session_finish(f->s, AT(500)), 0);
	summarize(f);
	assert_int_equal(json_u64(f->json, "duration_ns"), 400000);
}

/* The hint for records lost to full rings names the likelier cause: a weft that had CPU to
 * spare was kept off it (raise its priority); one busy all along needs a larger ring. */
static char *loss_hint(struct fixture *f, uint64_t weft_cpu_ns, int nice)
{
	uint64_t losses[WEFT_LOSS_REASON_MAX] = { [WEFT_LOSS_RINGBUF_FULL] = 1000 };
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	session_set_start(f->s, AT(0));
	session_set_losses(f->s, losses);
	session_set_collector_usage(f->s, weft_cpu_ns, 0, nice);
	assert_int_equal(session_finish(f->s, AT(1000)), 0); /* 1 ms */
	m = open_memstream(&text, &len);
	assert_non_null(m);
	session_summary_text(f->s, m, 5, -1);
	fclose(m);
	return text;
}

static void test_loss_hint_when_kept_off_the_cpu(void **state)
{
	char *text = loss_hint(*state, 100000, 0); /* 10% of one CPU */

	assert_non_null(strstr(text, "1000 ring buffer full"));
	assert_non_null(strstr(text, "hint: weft was kept off the CPU (it used 10% of one, at "
				     "nice 0): run it at a higher priority (nice -n -10 weft"));
	free(text);
}

/* Already raised: the next step up; at the top, only the ring is left to suggest. */
static void test_loss_hint_steps_up_the_priority(void **state)
{
	char *text = loss_hint(*state, 100000, -10);

	assert_non_null(strstr(text, "at nice -10): run it at a higher priority (nice -n -20"));
	free(text);
}

static void test_loss_hint_at_the_highest_priority(void **state)
{
	char *text = loss_hint(*state, 100000, -20);

	assert_null(strstr(text, "kept off the CPU"));
	assert_non_null(strstr(text, "hint: increase --ringbuf-size"));
	free(text);
}

static void test_loss_hint_when_busy(void **state)
{
	char *text = loss_hint(*state, 900000, 0);

	assert_null(strstr(text, "kept off the CPU"));
	assert_non_null(strstr(text, "hint: increase --ringbuf-size"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thread_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_and_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offcpu_stack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_python_frames_join_their_stack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_frames_of_another_stack_stay_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_python_frames_read_within_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trace_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stack_lengths_past_the_arrays, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration_from_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration_without_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration_started_without_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loss_hint_when_kept_off_the_cpu, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loss_hint_when_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss_hint_steps_up_the_priority, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loss_hint_at_the_highest_priority, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
