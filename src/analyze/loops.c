// SPDX-License-Identifier: MIT
/* Event loops: per loop thread, iterations and their histogram, stalls with the code that held
 * the loop (from cpu-clock samples or the blocking call), blocking calls; trace and summary. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/hist.h"
#include "analyze/loops.h"
#include "analyze/session_impl.h"
#include "analyze/u64map.h"

#define LOOPS_STACK_FRAMES_MAX 24 /* frames kept in a culprit stack (innermost first) */

/* A name with the time charged to it: culprits of stalls, blocking calls. */
struct charge {
	char *name;
	char *stack;   /* "\n"-separated frame labels, innermost first */
	uint64_t total_ns, max_ns, count;
};

struct stall {
	uint64_t start, end;
	char *culprit;
	char *stack;
	const char *phase;
	uint64_t samples;
	bool blocking;  /* the culprit is a blocking call (no sample saw the thread running) */
	bool ongoing;   /* still going on when the recording (or the process) ended */
};

/* What was seen of the iteration in progress, kept until it ends or turns out to be a stall. */
struct evidence {
	struct charge *c;   /* culprit name -> samples (count) */
	size_t n, cap;
	uint64_t samples;
	uint64_t last_sample;        /* ts of the latest sample */
	const char *phase;
	char *blk_name, *blk_stack;  /* longest blocking call */
	uint64_t blk_ns;
};

struct loop_thread {
	int32_t pid, tid;
	uint64_t track, busy_track;
	/* poll enter/exit records (the preload shim): the state machine runs here */
	bool in_poll;
	uint64_t poll_enter, iter_start, polls;
	/* both sources */
	uint64_t first_ts, last_ts;
	uint64_t iterations, busy_ns, poll_ns, max_ns;
	struct hist hist;
	struct stall *stalls;
	size_t nstalls, cap;
	uint64_t stalled_ns;
	uint64_t cur_iter;  /* iteration the evidence belongs to (its start) */
	struct evidence ev;
	struct charge *culprits, *blocks;
	size_t nculprits, nblocks;
};

struct loops {
	struct u64map threads;
	uint64_t stall_ns;
};

static const char *const uv_phases[][2] = {
	{ "uv__run_timers", "timers" },   { "uv__run_pending", "pending" },
	{ "uv__run_idle", "idle" },       { "uv__run_prepare", "prepare" },
	{ "uv__io_poll", "poll" },        { "uv__run_check", "check" },
	{ "uv__run_closing_handles", "close" },
};

const char *loops_uv_phase(const struct pf_frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!frames[i].function)
			continue;
		for (size_t j = 0; j < sizeof(uv_phases) / sizeof(uv_phases[0]); j++)
			if (!strcmp(frames[i].function, uv_phases[j][0]))
				return uv_phases[j][1];
	}
	return NULL;
}

const char *loops_syscall_name(unsigned nr)
{
	static const char *const names[] = {
		[0] = "read", [1] = "write", [2] = "open", [3] = "close", [4] = "stat",
		[5] = "fstat", [6] = "lstat", [7] = "poll", [9] = "mmap", [16] = "ioctl",
		[17] = "pread64", [18] = "pwrite64", [19] = "readv", [20] = "writev",
		[23] = "select", [24] = "sched_yield", [35] = "nanosleep", [42] = "connect",
		[43] = "accept", [44] = "sendto", [45] = "recvfrom", [46] = "sendmsg",
		[47] = "recvmsg", [61] = "wait4", [72] = "fcntl", [73] = "flock", [74] = "fsync",
		[75] = "fdatasync", [202] = "futex", [217] = "getdents64", [230] = "clock_nanosleep",
		[232] = "epoll_wait", [257] = "openat", [262] = "newfstatat", [270] = "pselect6",
		[271] = "ppoll", [281] = "epoll_pwait", [288] = "accept4", [295] = "preadv",
		[296] = "pwritev", [332] = "statx", [426] = "io_uring_enter",
		[441] = "epoll_pwait2",
	};

	return nr < sizeof(names) / sizeof(names[0]) ? names[nr] : NULL;
}

static const char *base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path;
}

/* Code generated at run time and named by a perf map: not a file, not the vDSO. */
static bool is_jit(const struct pf_frame *f)
{
	return f->function && f->mapping && f->mapping[0] != '/' &&
	       strcmp(f->mapping, "[vdso]") && strcmp(f->mapping, "[kernel.kallsyms]");
}

static bool is_runtime_jit(const char *name)
{
	static const char *const prefixes[] = { "Builtin:", "Stub:", "BytecodeHandler:",
						"Handler:", "RegExp:", "InterpretedFunction:" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool is_library(const struct pf_frame *f)
{
	const char *b = base_name(f->mapping);

	/* Shared objects: libc.so.6, libuv.so.1.0.0, ld-linux-x86-64.so.2 (not "libuv_loop"). */
	return !b || strstr(b, ".so") || !strcmp(b, "[vdso]");
}

int loops_culprit_frame(const struct pf_frame *frames, size_t n, size_t nkernel)
{
	for (size_t i = nkernel; i < n; i++)
		if (is_jit(&frames[i]) && !is_runtime_jit(frames[i].function))
			return i;
	for (size_t i = nkernel; i < n; i++)
		if (frames[i].function && !is_jit(&frames[i]) && !is_library(&frames[i]))
			return i;
	for (size_t i = nkernel; i < n; i++)
		if (frames[i].function)
			return i;
	return n ? 0 : -1;
}

uint64_t loops_hist_value(unsigned b)
{
	unsigned e = b >> WEFT_LOOP_HIST_SUB_BITS, sub = b & ((1 << WEFT_LOOP_HIST_SUB_BITS) - 1);
	uint64_t width;

	/* Single values below 8; buckets 8..23 are never made (a corrupt record's are taken as
	 * their number). */
	if (e < WEFT_LOOP_HIST_SUB_BITS)
		return b;
	width = 1ULL << (e - WEFT_LOOP_HIST_SUB_BITS);
	return (1ULL << e) + sub * width + width / 2;
}

/* --- per-thread bookkeeping ---------------------------------------------------------------- */

static struct loop_thread *thread_get(struct loops *L, int32_t pid, int32_t tid, uint64_t ts)
{
	struct loop_thread *lt = u64map_get(&L->threads, (uint32_t)tid);

	if (lt) {
		lt->pid = pid; /* a tid reused by another process: rare, counted together */
		return lt;
	}
	lt = calloc(1, sizeof(*lt));
	if (!lt)
		return NULL;
	lt->pid = pid;
	lt->tid = tid;
	lt->first_ts = ts;
	if (u64map_put(&L->threads, (uint32_t)tid, lt)) {
		free(lt);
		return NULL;
	}
	return lt;
}

static char *join_labels(const struct stack_syms *st, size_t from)
{
	size_t len = 1, n = 0;
	char *out, *p;

	for (size_t i = from; i < st->n && n < LOOPS_STACK_FRAMES_MAX; i++, n++)
		len += strlen(st->labels[i]) + 1;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	n = 0;
	for (size_t i = from; i < st->n && n < LOOPS_STACK_FRAMES_MAX; i++, n++)
		p += sprintf(p, "%s%s", n ? "\n" : "", st->labels[i]);
	*p = '\0';
	return out;
}

static void culprit_of(const struct stack_syms *st, char *buf, size_t len);

/* The culprit's name: the innermost Python function if known, else from the native stack. */
static void culprit_name(const struct weft_py_frames *py, const struct stack_syms *st,
			 char *buf, size_t len)
{
	if (py->n)
		snprintf(buf, len, "%.*s", WEFT_PY_NAME, py->func[0]);
	else
		culprit_of(st, buf, len);
}

static void evidence_clear(struct evidence *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->c[i].name);
		free(ev->c[i].stack);
	}
	free(ev->c);
	free(ev->blk_name);
	free(ev->blk_stack);
	memset(ev, 0, sizeof(*ev));
}

/* Evidence is for one iteration: a record of a later one discards what was kept. */
static void evidence_for(struct loop_thread *lt, uint64_t iter_start)
{
	if (lt->cur_iter == iter_start)
		return;
	evidence_clear(&lt->ev);
	lt->cur_iter = iter_start;
}

static struct charge *charge_find(struct charge **arr, size_t *n, const char *name)
{
	struct charge *c;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*arr)[i].name, name))
			return &(*arr)[i];
	c = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!c)
		return NULL;
	*arr = c;
	c = &c[(*n)++];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	if (!c->name) {
		(*n)--;
		return NULL;
	}
	return c;
}

static void charge_add(struct charge **arr, size_t *n, const char *name, const char *stack,
		       uint64_t ns)
{
	struct charge *c = charge_find(arr, n, name);

	if (!c)
		return;
	c->count++;
	c->total_ns += ns;
	if (ns > c->max_ns)
		c->max_ns = ns;
	if (!c->stack && stack)
		c->stack = strdup(stack);
}

static void charges_free(struct charge *arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(arr[i].name);
		free(arr[i].stack);
	}
	free(arr);
}

static uint64_t loop_track(struct session *s, struct loop_thread *lt)
{
	struct task *t;
	uint64_t th;

	if (lt->track || !s->pf)
		return lt->track;
	t = task_get(&s->tt, lt->tid);
	th = pf_track_thread(s->pf, lt->pid, lt->tid, t ? t->comm : NULL);
	if (th) {
		lt->track = pf_track_child(s->pf, th, "event loop");
		lt->busy_track = pf_track_counter(s->pf, th, "event loop busy %");
	}
	return lt->track;
}

/* A culprit's name: the function of its frame, without the module. */
static void culprit_of(const struct stack_syms *st, char *buf, size_t len)
{
	int i = loops_culprit_frame(st->frames, st->n, st->nkernel);

	const char *fn = i >= 0 ? st->frames[i].function : NULL;

	if (i < 0)
		snprintf(buf, len, "[no stack]");
	else if (fn && is_jit(&st->frames[i]) && !strncmp(fn, "JS:", 3) && fn[3] &&
		 strchr("*^~+", fn[3]))
		/* V8 marks the tier (~ interpreted, ^ baseline, + / * optimized): one function
		 * is one culprit whichever tier ran it. */
		snprintf(buf, len, "JS:%s", fn + 4);
	else if (fn)
		snprintf(buf, len, "%s", fn);
	else
		snprintf(buf, len, "%s", st->labels[i]);
}

static void add_stall(struct session *s, struct loop_thread *lt, uint64_t start, uint64_t end,
		      bool ongoing)
{
	struct evidence *ev = &lt->ev;
	struct charge *best = NULL;
	struct stall *st;
	uint64_t dur = end - start;

	if (lt->nstalls == lt->cap) {
		size_t cap = lt->cap ? lt->cap * 2 : 8;
		struct stall *n = realloc(lt->stalls, cap * sizeof(*n));

		if (!n)
			return;
		lt->stalls = n;
		lt->cap = cap;
	}
	st = &lt->stalls[lt->nstalls++];
	memset(st, 0, sizeof(*st));
	st->start = start;
	st->end = end;
	st->ongoing = ongoing;
	lt->stalled_ns += dur;
	if (lt->cur_iter == start) {
		for (size_t i = 0; i < ev->n; i++)
			if (!best || ev->c[i].count > best->count)
				best = &ev->c[i];
		/* Samples show it running; if it was mostly blocked, the blocking call is why. */
		if (ev->blk_name && (!best || ev->blk_ns >= dur / 2)) {
			st->culprit = strdup(ev->blk_name);
			st->stack = ev->blk_stack ? strdup(ev->blk_stack) : NULL;
			st->blocking = true;
		} else if (best) {
			st->culprit = strdup(best->name);
			st->stack = best->stack ? strdup(best->stack) : NULL;
		}
		st->samples = ev->samples;
		st->phase = ev->phase;
	}
	if (!st->culprit)
		st->culprit = strdup("[no sample]");
	if (st->culprit)
		charge_add(&lt->culprits, &lt->nculprits, st->culprit, st->stack, dur);
	evidence_clear(ev);
	lt->cur_iter = 0;

	if (loop_track(s, lt)) {
		struct pf_arg args[] = {
			{ .name = "duration_ms", .type = PF_ARG_DOUBLE, .d = dur / 1e6 },
			{ .name = "culprit", .type = PF_ARG_STRING, .s = st->culprit ? st->culprit : "" },
			{ .name = "culprit_stack", .type = PF_ARG_STRING,
			  .s = st->stack ? st->stack : "" },
			{ .name = "samples", .type = PF_ARG_UINT, .u = st->samples },
			{ .name = "blocking", .type = PF_ARG_UINT, .u = st->blocking },
			{ .name = "ongoing", .type = PF_ARG_UINT, .u = st->ongoing },
			{ .name = "uv_phase", .type = PF_ARG_STRING, .s = st->phase ? st->phase : "" },
		};

		pf_slice_begin(s->pf, lt->track, start, "stall", args,
			       st->phase ? 7 : 6, NULL, 0, NULL, 0);
		pf_slice_end(s->pf, lt->track, end);
	}
}

static void add_iteration(struct session *s, struct loops *L, struct loop_thread *lt,
			  uint64_t start, uint64_t end)
{
	uint64_t d = end - start;

	lt->iterations++;
	lt->busy_ns += d;
	if (d > lt->max_ns)
		lt->max_ns = d;
	hist_add(&lt->hist, d);
	if (d >= L->stall_ns && lt->polls >= LOOPS_MIN_POLLS)
		add_stall(s, lt, start, end, false);
}

/* --- records ------------------------------------------------------------------------------ */

static void on_poll_enter(struct session *s, struct loops *L, const struct weft_poll_enter_event *e)
{
	struct loop_thread *lt = thread_get(L, e->hdr.pid, e->hdr.tid, e->hdr.ts);

	if (!lt)
		return;
	if (lt->iter_start && !lt->in_poll && e->hdr.ts >= lt->iter_start)
		add_iteration(s, L, lt, lt->iter_start, e->hdr.ts);
	lt->in_poll = true;
	lt->poll_enter = e->hdr.ts;
	lt->iter_start = 0;
	lt->last_ts = e->hdr.ts;
}

static void on_poll_exit(struct loops *L, const struct weft_poll_exit_event *e)
{
	struct loop_thread *lt = thread_get(L, e->hdr.pid, e->hdr.tid, e->hdr.ts);

	if (!lt)
		return;
	if (lt->in_poll && e->hdr.ts >= lt->poll_enter)
		lt->poll_ns += e->hdr.ts - lt->poll_enter;
	lt->in_poll = false;
	lt->iter_start = e->hdr.ts;
	lt->polls++;
	lt->last_ts = e->hdr.ts;
}

static void on_stats(struct session *s, struct loops *L, const struct weft_loop_stats_event *e)
{
	struct loop_thread *lt = thread_get(L, e->hdr.pid, e->hdr.tid, e->since);

	if (!lt)
		return;
	if (e->since < lt->first_ts)
		lt->first_ts = e->since;
	lt->last_ts = e->hdr.ts;
	lt->polls += e->iterations;
	lt->iterations += e->iterations;
	lt->busy_ns += e->busy_ns;
	lt->poll_ns += e->poll_ns;
	if (e->max_ns > lt->max_ns)
		lt->max_ns = e->max_ns;
	for (unsigned b = 0; b < WEFT_LOOP_HIST_BUCKETS; b++)
		hist_add_n(&lt->hist, loops_hist_value(b), e->hist[b]);
	/* The histogram's buckets are coarse; the exact maximum is known. */
	if (e->max_ns > lt->hist.max)
		lt->hist.max = e->max_ns;
	if (loop_track(s, lt) && lt->busy_track && e->busy_ns + e->poll_ns)
		pf_counter(s->pf, lt->busy_track, e->hdr.ts,
			   100.0 * e->busy_ns / (e->busy_ns + e->poll_ns));
}

static void on_sample(struct session *s, struct loops *L, const struct weft_loop_sample_event *e)
{
	struct loop_thread *lt = thread_get(L, e->stack.hdr.pid, e->stack.hdr.tid, e->stack.hdr.ts);
	const struct stack_syms *st;
	char name[STACK_FRAME_NAME_MAX];
	struct charge *c;
	uint64_t iid;

	if (!lt)
		return;
	evidence_for(lt, e->iter_start);
	st = trace_stack_syms_py(s, &e->stack, &e->py);
	iid = st->n && s->pf ? pf_callstack(s->pf, st->frames, st->n) : 0;
	if (iid)
		pf_perf_sample(s->pf, e->stack.hdr.ts, e->stack.hdr.cpu, e->stack.hdr.pid,
			       e->stack.hdr.tid, iid, st->nkernel ? PF_MODE_KERNEL : PF_MODE_USER);
	culprit_name(&e->py, st, name, sizeof(name));
	lt->ev.samples++;
	lt->ev.last_sample = e->stack.hdr.ts;
	if (!lt->ev.phase)
		lt->ev.phase = loops_uv_phase(st->frames, st->n);
	c = charge_find(&lt->ev.c, &lt->ev.n, name);
	if (!c)
		return;
	c->count++;
	if (!c->stack)
		c->stack = join_labels(st, st->nkernel);
}

/*
 * A page fault saves its error code where a syscall saves its number (orig_ax): a wait inside
 * a fault taken in a syscall-less stretch looks like syscall 4, 6 or 7. The kernel stack tells.
 */
static bool in_page_fault(const struct stack_syms *st)
{
	for (size_t i = 0; i < st->nkernel; i++)
		if (st->frames[i].function && strstr(st->frames[i].function, "exc_page_fault"))
			return true;
	return false;
}

static void on_block(struct session *s, struct loops *L, const struct weft_loop_block_event *e)
{
	struct loop_thread *lt = thread_get(L, e->stack.hdr.pid, e->stack.hdr.tid, e->stack.hdr.ts);
	const char *sys = loops_syscall_name(e->syscall);
	char sysbuf[32], culprit[STACK_FRAME_NAME_MAX], key[STACK_FRAME_NAME_MAX + 48];
	char slice[64];
	const struct stack_syms *st;
	char *stack;

	if (!lt)
		return;
	st = trace_stack_syms_py(s, &e->stack, &e->py);
	if (e->syscall == (uint32_t)-1 || in_page_fault(st)) {
		sys = "fault"; /* waited outside any syscall: a page fault (file-backed memory) */
	} else if (!sys) {
		snprintf(sysbuf, sizeof(sysbuf), "syscall %u", e->syscall);
		sys = sysbuf;
	}
	evidence_for(lt, e->iter_start);
	culprit_name(&e->py, st, culprit, sizeof(culprit));
	stack = join_labels(st, 0);
	snprintf(key, sizeof(key), "%s in %s", sys, culprit);
	charge_add(&lt->blocks, &lt->nblocks, key, stack, e->off_ns);
	if (e->off_ns > lt->ev.blk_ns) {
		free(lt->ev.blk_name);
		free(lt->ev.blk_stack);
		lt->ev.blk_name = strdup(culprit);
		lt->ev.blk_stack = stack ? strdup(stack) : NULL;
		lt->ev.blk_ns = e->off_ns;
	}
	if (loop_track(s, lt)) {
		struct pf_arg args[] = {
			{ .name = "duration_ms", .type = PF_ARG_DOUBLE, .d = e->off_ns / 1e6 },
			{ .name = "syscall", .type = PF_ARG_STRING, .s = sys },
			{ .name = "caller", .type = PF_ARG_STRING, .s = culprit },
			{ .name = "stack", .type = PF_ARG_STRING, .s = stack ? stack : "" },
		};

		snprintf(slice, sizeof(slice), "blocking %s", sys);
		pf_slice_begin(s->pf, lt->track, e->off_ts, slice, args, 4, NULL, 0, NULL, 0);
		pf_slice_end(s->pf, lt->track, e->off_ts + e->off_ns);
	}
	free(stack);
}

static int loops_init(struct session *s, void **state)
{
	struct loops *L = calloc(1, sizeof(*L));

	if (!L)
		return -ENOMEM;
	L->stall_ns = s->opts.stall_threshold_ns ? s->opts.stall_threshold_ns
						  : WEFT_LOOPS_DEFAULT_STALL_NS;
	*state = L;
	return 0;
}

static void loops_event(struct session *s, void *state, const struct weft_event_header *h)
{
	struct loops *L = state;
	struct loop_thread *lt;

	switch (h->type) {
	case WEFT_EV_POLL_ENTER:
		on_poll_enter(s, L, (const void *)h);
		break;
	case WEFT_EV_POLL_EXIT:
		on_poll_exit(L, (const void *)h);
		break;
	case WEFT_EV_LOOP_STATS:
		on_stats(s, L, (const void *)h);
		break;
	case WEFT_EV_LOOP_STALL: {
		const struct weft_loop_stall_event *e = (const void *)h;

		lt = thread_get(L, h->pid, h->tid, e->start);
		if (lt && h->ts >= e->start)
			add_stall(s, lt, e->start, h->ts, false);
		break;
	}
	case WEFT_EV_LOOP_SAMPLE:
		on_sample(s, L, (const void *)h);
		break;
	case WEFT_EV_LOOP_BLOCK:
		on_block(s, L, (const void *)h);
		break;
	}
}

/*
 * A loop stuck at the end (a handler that never returns, or still running when the recording
 * stops) has no stall record: its iteration has not ended. Samples show it: if one was taken
 * past the threshold into the iteration, that iteration is a stall going on at the end.
 * Not if the process exited meanwhile: a loop thread that stops polling to finish (tear
 * down, exit) did not stall its loop.
 */
static void loops_finish(struct session *s, void *state, uint64_t end_ts)
{
	struct loops *L = state;
	uint64_t k;
	void *v;

	for (size_t i = 0; u64map_next(&L->threads, &i, &k, &v);) {
		struct loop_thread *lt = v;
		struct process *p = proc_get(&s->tt, lt->pid);

		if (p && p->exited)
			continue;
		if (lt->cur_iter && lt->ev.samples && lt->ev.last_sample >= lt->cur_iter + L->stall_ns &&
		    end_ts > lt->cur_iter) {
			if (end_ts - lt->cur_iter > lt->max_ns)
				lt->max_ns = end_ts - lt->cur_iter;
			add_stall(s, lt, lt->cur_iter, end_ts, true);
		}
	}
}

/* --- summary ------------------------------------------------------------------------------ */

static bool is_loop(const struct loop_thread *lt)
{
	return lt->iterations >= LOOPS_MIN_POLLS || lt->nstalls;
}

static int by_stalled(const void *a, const void *b)
{
	const struct loop_thread *x = *(const struct loop_thread *const *)a;
	const struct loop_thread *y = *(const struct loop_thread *const *)b;

	if (x->stalled_ns != y->stalled_ns)
		return x->stalled_ns > y->stalled_ns ? -1 : 1;
	if (x->busy_ns != y->busy_ns)
		return x->busy_ns > y->busy_ns ? -1 : 1;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int by_total(const void *a, const void *b)
{
	const struct charge *x = a, *y = b;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct loop_thread **ranked(struct loops *L, size_t *n)
{
	struct loop_thread **arr = malloc((L->threads.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&L->threads, &i, &k, &v);) {
		struct loop_thread *lt = v;

		if (!is_loop(lt))
			continue;
		if (lt->nculprits) /* qsort of a NULL array, even empty, is undefined */
			qsort(lt->culprits, lt->nculprits, sizeof(*lt->culprits), by_total);
		if (lt->nblocks)
			qsort(lt->blocks, lt->nblocks, sizeof(*lt->blocks), by_total);
		arr[(*n)++] = lt;
	}
	qsort(arr, *n, sizeof(*arr), by_stalled);
	return arr;
}

static double span_s(const struct loop_thread *lt)
{
	return lt->last_ts > lt->first_ts ? (lt->last_ts - lt->first_ts) / 1e9 : 0;
}

static double busy_pct(const struct loop_thread *lt)
{
	return lt->busy_ns + lt->poll_ns ? 100.0 * lt->busy_ns / (lt->busy_ns + lt->poll_ns) : 0;
}

static void fmt_ms(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.1fus", ns / 1e3);
}

static const char *comm_of(struct session *s, const struct loop_thread *lt)
{
	struct task *t = task_get(&s->tt, lt->tid);

	return t ? t->comm : "?";
}

/* Node writes JavaScript names to /tmp/perf-PID.map only when asked to. */
static bool node_without_perf_map(struct session *s, const struct loop_thread *lt)
{
	struct process *p = proc_get(&s->tt, lt->pid);
	char path[64];

	if (!p || (strcmp(p->name, "node") && !strstr(p->cmdline, "node")))
		return false;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", lt->pid);
	return access(path, R_OK) != 0;
}

static void print_stack(FILE *f, const char *stack, const char *indent)
{
	const char *p = stack;

	while (p && *p) {
		size_t len = strcspn(p, "\n");

		fprintf(f, "%s%.*s\n", indent, (int)len, p);
		p += len + (p[len] == '\n');
	}
}

/* The five largest, each with its stack. */
static void print_charges(FILE *f, const char *title, const char *unit, const struct charge *c,
			  size_t n)
{
	char tot[16], mx[16];

	if (n)
		fprintf(f, "    %s:\n", title);
	for (size_t j = 0; j < n && j < 5; j++) {
		fmt_ms(tot, sizeof(tot), c[j].total_ns);
		fmt_ms(mx, sizeof(mx), c[j].max_ns);
		fprintf(f, "      #%zu  %s  (%" PRIu64 " %s%s, longest %s)  %s\n", j + 1, tot,
			c[j].count, unit, c[j].count == 1 ? "" : "s", mx, c[j].name);
		print_stack(f, c[j].stack, "            ");
	}
}

static void loops_summary_text(struct session *s, void *state, FILE *f)
{
	struct loops *L = state;
	char thr[16], p50[16], p99[16], mx[16], tot[16];
	struct loop_thread **arr;
	size_t n;

	arr = ranked(L, &n);
	if (!arr || !n) {
		free(arr);
		return;
	}
	fmt_ms(thr, sizeof(thr), L->stall_ns);
	fprintf(f, "\nEvent loops (stall: an iteration of %s or more), most stalled first:\n", thr);
	fprintf(f, "  %7s %7s %-16s %9s %6s %6s %9s %9s %9s %9s\n", "PID", "TID", "COMM", "ITER/S",
		"BUSY%", "STALLS", "IT-P50", "IT-P99", "IT-MAX", "STALLED");
	for (size_t i = 0; i < n; i++) {
		struct loop_thread *lt = arr[i];
		double sp = span_s(lt);

		fmt_ms(p50, sizeof(p50), hist_quantile(&lt->hist, 0.5));
		fmt_ms(p99, sizeof(p99), hist_quantile(&lt->hist, 0.99));
		fmt_ms(mx, sizeof(mx), lt->max_ns);
		fmt_ms(tot, sizeof(tot), lt->stalled_ns);
		fprintf(f, "  %7d %7d %-16s %9.0f %6.1f %6zu %9s %9s %9s %9s\n", lt->pid, lt->tid,
			comm_of(s, lt), sp > 0 ? lt->iterations / sp : 0.0, busy_pct(lt),
			lt->nstalls, p50, p99, mx, tot);
	}
	for (size_t i = 0; i < n; i++) {
		struct loop_thread *lt = arr[i];

		if (!lt->nculprits && !lt->nblocks)
			continue;
		fprintf(f, "  Loop thread %d (%s):\n", lt->tid, comm_of(s, lt));
		print_charges(f, "Stall culprits by stalled time", "stall", lt->culprits,
			      lt->nculprits);
		print_charges(f, "Blocking calls on the loop thread by time", "call", lt->blocks,
			      lt->nblocks);
	}
	for (size_t i = 0; i < n; i++)
		if (node_without_perf_map(s, arr[i])) {
			fprintf(f, "hint: node process %d has no /tmp/perf-%d.map: run node with "
				"--perf-basic-prof to see JavaScript function names\n", arr[i]->pid,
				arr[i]->pid);
			break;
		}
	free(arr);
}

static void json_stack(FILE *f, const char *stack)
{
	const char *p = stack;
	bool first = true;

	fputc('[', f);
	while (p && *p) {
		size_t len = strcspn(p, "\n");
		char *fr = strndup(p, len);

		fprintf(f, "%s", first ? "" : ", ");
		summary_json_str(f, fr);
		free(fr);
		first = false;
		p += len + (p[len] == '\n');
	}
	fputc(']', f);
}

static void json_charges(FILE *f, const char *name, const struct charge *c, size_t n)
{
	fprintf(f, ", \"%s\": [", name);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		summary_json_str(f, c[i].name);
		fprintf(f, ", \"total_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64 ", \"count\": %" PRIu64
			", \"stack\": ", c[i].total_ns, c[i].max_ns, c[i].count);
		json_stack(f, c[i].stack);
		fputc('}', f);
	}
	fputc(']', f);
}

static void loops_summary_json(struct session *s, void *state, FILE *f)
{
	struct loops *L = state;
	struct loop_thread **arr;
	size_t n;

	arr = ranked(L, &n);
	fprintf(f, "\"loops\": {\"stall_threshold_ns\": %" PRIu64 ", \"threads\": [", L->stall_ns);
	for (size_t i = 0; arr && i < n; i++) {
		struct loop_thread *lt = arr[i];
		double sp = span_s(lt);

		fprintf(f, "%s\n    {\"pid\": %d, \"tid\": %d, \"comm\": ", i ? "," : "", lt->pid,
			lt->tid);
		summary_json_str(f, comm_of(s, lt));
		fprintf(f, ", \"iterations\": %" PRIu64 ", \"iterations_per_s\": %.1f, "
			"\"busy_pct\": %.2f, \"iteration_p50_ns\": %" PRIu64 ", \"iteration_p99_ns\": %"
			PRIu64 ", \"iteration_max_ns\": %" PRIu64 ", \"stalled_ns\": %" PRIu64
			", \"node_perf_map_missing\": %s, \"stalls\": [",
			lt->iterations, sp > 0 ? lt->iterations / sp : 0.0, busy_pct(lt),
			hist_quantile(&lt->hist, 0.5), hist_quantile(&lt->hist, 0.99), lt->max_ns,
			lt->stalled_ns, node_without_perf_map(s, lt) ? "true" : "false");
		for (size_t j = 0; j < lt->nstalls; j++) {
			struct stall *st = &lt->stalls[j];

			fprintf(f, "%s{\"start_ns\": %" PRIu64 ", \"dur_ns\": %" PRIu64
				", \"samples\": %" PRIu64 ", \"blocking\": %s, \"ongoing\": %s, "
				"\"uv_phase\": ", j ? ", " : "", st->start, st->end - st->start,
				st->samples, st->blocking ? "true" : "false",
				st->ongoing ? "true" : "false");
			if (st->phase)
				summary_json_str(f, st->phase);
			else
				fprintf(f, "null");
			fprintf(f, ", \"culprit\": ");
			summary_json_str(f, st->culprit);
			fprintf(f, ", \"stack\": ");
			json_stack(f, st->stack);
			fputc('}', f);
		}
		fputc(']', f);
		json_charges(f, "culprits", lt->culprits, lt->nculprits);
		json_charges(f, "blocking_calls", lt->blocks, lt->nblocks);
		fputc('}', f);
	}
	fprintf(f, "%s]}", n ? "\n  " : "");
	free(arr);
}

static void loops_free(void *state)
{
	struct loops *L = state;
	uint64_t k;
	void *v;

	if (!L)
		return;
	for (size_t i = 0; u64map_next(&L->threads, &i, &k, &v);) {
		struct loop_thread *lt = v;

		for (size_t j = 0; j < lt->nstalls; j++) {
			free(lt->stalls[j].culprit);
			free(lt->stalls[j].stack);
		}
		free(lt->stalls);
		evidence_clear(&lt->ev);
		charges_free(lt->culprits, lt->nculprits);
		charges_free(lt->blocks, lt->nblocks);
		free(lt);
	}
	u64map_free(&L->threads);
	free(L);
}

const struct analyze_area loops_area = {
	.name = "loops",
	.type_min = WEFT_EV_LOOPS_BASE,
	.type_max = WEFT_EV_LOOPS_BASE + 15,
	.init = loops_init,
	.event = loops_event,
	.finish = loops_finish,
	.summary_text = loops_summary_text,
	.summary_json = loops_summary_json,
	.free = loops_free,
};
