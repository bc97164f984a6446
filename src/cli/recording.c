// SPDX-License-Identifier: MIT
/* The capture loop: drain the ring on a timer, feed the session, stop on signal or exit. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "analyze/session.h"
#include "cli/cli.h"
#include "cli/pace.h"
#include "cli/recording.h"
#include "collect/collector.h"
#include "collect/loops.h"
#include "collect/perf_switch.h"
#include "collect/preload_ring.h"
#include "collect/procfs.h"
#include "clock.h"

/* How often the preload shim's rings and the perf context-switch buffers are drained (their
 * sizes are set for it); the BPF rings alone may wait longer (cli/pace.c). */
#define DRAIN_PERIOD_NS (20 * 1000000ULL)
#define BPF_DRAIN_PERIOD_MAX_NS (100 * 1000000ULL)
#define MAX_EARLY_EXECS 64
/*
 * How long a record is held for ones older than it still on their way. Each drain is stamped
 * with the time it began, and every source has given up all it recorded before then by the end
 * of the drain, but for a record being written as its ring (or its CPU's batch) was read: that
 * one comes with the next drain, a few microseconds older than the first drain's time. A
 * millisecond covers it; every record held past a drain is copied out of the ring (at 10 ms,
 * 5-12% of weft's CPU per event on a ping-pong, in five A/B comparisons).
 */
#define REORDER_WINDOW_NS (1 * 1000000ULL)
/* Keep a dead process in the kernel filter this long so its last switches are recorded. */
#define UNTRACE_DELAY_NS (100 * 1000000ULL)
#define MAX_PENDING_EXITS 256

#define NOT_SEEN_PRELOAD                                                                      \
	"scheduling (on/off-CPU time, run-queue delay, wakers, off-CPU stacks) and futex "    \
	"waits outside pthreads: preload mode sees only the pthread, semaphore and poll calls " \
	"the program makes; use --mode=bpf as root for the rest"
#define NOT_SEEN_PRELOAD_PERF                                                                 \
	"wakers and run-queue delay after a wakeup, off-CPU stacks, sleep vs disk wait, futex "  \
	"waits outside pthreads (context switches come from perf_event_open; time other "      \
	"processes ran shows as idle); use --mode=bpf as root for the rest"

enum { OPT_SUMMARY_JSON = 0x100, OPT_RINGBUF, OPT_STACK_RATE, OPT_TOP, OPT_THREADS,
       OPT_STALL_THRESHOLD, OPT_NO_LOCKS, OPT_ACTOR_BUDGET, OPT_MODE, OPT_COMPRESS,
       OPT_NO_COMPRESS };

const struct option record_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "duration", required_argument, NULL, 'd' },
	{ "summary-json", required_argument, NULL, OPT_SUMMARY_JSON },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
	{ "stack-rate", required_argument, NULL, OPT_STACK_RATE },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "stall-threshold", required_argument, NULL, OPT_STALL_THRESHOLD },
	{ "no-locks", no_argument, NULL, OPT_NO_LOCKS },
	{ "actor-budget", required_argument, NULL, OPT_ACTOR_BUDGET },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "compress", no_argument, NULL, OPT_COMPRESS },
	{ "no-compress", no_argument, NULL, OPT_NO_COMPRESS },
	{ "pid", required_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 },
};

struct pending_exit {
	int32_t pid;
	uint64_t at;
};

struct recording {
	struct record_opts o;
	struct collector *col;          /* NULL in preload mode */
	struct preload_rings *rings;    /* NULL in BPF mode */
	struct perf_switch *switches;   /* preload mode: context switches, if perf allows */
	struct session *ses;
	int fd;
	uint64_t start_ts;
	struct pending_exit exits[MAX_PENDING_EXITS];
	int nexits;
	FILE *json;
	bool error;
	/* Processes whose exec record was seen raw and that got their per-binary probes then,
	 * before the record came out of the reorder window (see on_record()). */
	pid_t early_exec[MAX_EARLY_EXECS];
	int nearly;
	struct pace pace;               /* drain period and weft's priority (BPF mode) */
};

static volatile sig_atomic_t stop_signal, child_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
	pace_hurry();
}

/* A child of weft (the command of `weft run`) changed state: see at once whether it ended. */
static void on_child(int sig)
{
	(void)sig;
	child_signal = 1;
	pace_hurry();
}

void record_opts_init(struct record_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->output = "weft.pftrace";
	o->ringbuf_bytes = 16 << 20;
	o->compress = true;
	o->stack_rate = 200;
	o->top_stacks = 5;
	o->top_threads = 20;
	o->stall_threshold_ns = WEFT_LOOPS_DEFAULT_STALL_NS;
}

/* "50ms", "0.2s", "500us" or a bare number of milliseconds. */
static int parse_duration_ns(const char *arg, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end == arg || errno || !isfinite(v) || v <= 0)
		return -1;
	if (!*end || !strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "s"))
		v *= 1e9;
	else if (!strcmp(end, "us"))
		v *= 1e3;
	else
		return -1;
	if (v < 1e4 || v > 3600e9)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int parse_size(const char *arg, size_t *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || v <= 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	}
	if (*end || v > (1ULL << 32))
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_number(const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	return end == arg || *end || errno || *out < 0 || !isfinite(*out) ? -1 : 0;
}

enum record_mode record_mode_resolve(enum record_mode m)
{
	if (m != RECORD_MODE_AUTO)
		return m;
	return geteuid() == 0 ? RECORD_MODE_BPF : RECORD_MODE_PRELOAD;
}

const char *record_mode_name(enum record_mode m)
{
	static const char *const names[] = { "auto", "bpf", "preload", "both" };

	return m <= RECORD_MODE_BOTH ? names[m] : "?";
}

int record_parse_common(struct record_opts *o, int opt, const char *arg)
{
	size_t sz;
	double v;

	switch (opt) {
	case OPT_MODE:
		if (!strcmp(arg, "bpf"))
			o->mode = RECORD_MODE_BPF;
		else if (!strcmp(arg, "preload"))
			o->mode = RECORD_MODE_PRELOAD;
		else if (!strcmp(arg, "both"))
			o->mode = RECORD_MODE_BOTH;
		else if (!strcmp(arg, "auto"))
			o->mode = RECORD_MODE_AUTO;
		else {
			cli_usage_error("--mode: '%s' is not one of bpf, preload, both, auto", arg);
			return -1;
		}
		return 1;
	case 'o':
	case OPT_SUMMARY_JSON:
		if (!arg[0]) {
			cli_usage_error("%s: give a file name", opt == 'o' ? "-o/--output"
									: "--summary-json");
			return -1;
		}
		if (opt == 'o')
			o->output = arg;
		else
			o->summary_json = arg;
		return 1;
	case 'f':
		o->force = true;
		return 1;
	case 'v':
		o->verbose++;
		return 1;
	case 'd':
		if (parse_number(arg, &v) || v == 0) {
			cli_usage_error("-d/--duration: '%s' is not a positive number of seconds",
					arg);
			return -1;
		}
		o->duration_s = v;
		return 1;
	case OPT_NO_LOCKS:
		o->no_locks = true;
		return 1;
	case OPT_RINGBUF:
		if (parse_size(arg, &sz) || sz < 65536 || (sz & (sz - 1))) {
			cli_usage_error("--ringbuf-size: '%s' is not a power of two of at least 64K "
					"(e.g. 16M)", arg);
			return -1;
		}
		o->ringbuf_bytes = sz;
		return 1;
	case OPT_STACK_RATE:
		if (parse_number(arg, &v) || v > 1e6) {
			cli_usage_error("--stack-rate: '%s' is not a number of stacks per second "
					"(0 turns stacks off)", arg);
			return -1;
		}
		o->stack_rate = v;
		return 1;
	case OPT_STALL_THRESHOLD:
		if (parse_duration_ns(arg, &o->stall_threshold_ns)) {
			cli_usage_error("--stall-threshold: '%s' is not a duration between 10us and "
					"1h (e.g. 50ms, 0.2s)", arg);
			return -1;
		}
		return 1;
	case OPT_TOP:
		if (parse_number(arg, &v) || v != floor(v) || v < 0 || v > 1000) {
			cli_usage_error("--top: '%s' is not a count", arg);
			return -1;
		}
		o->top_stacks = (int)v;
		return 1;
	case OPT_THREADS:
		if (!strcmp(arg, "all")) {
			o->top_threads = -1;
			return 1;
		}
		if (parse_number(arg, &v) || v != floor(v) || v < 0 || v > 1000000) {
			cli_usage_error("--threads: '%s' is not a count or 'all'", arg);
			return -1;
		}
		o->top_threads = (int)v;
		return 1;
	case OPT_COMPRESS:
	case OPT_NO_COMPRESS:
		o->compress = opt == OPT_COMPRESS;
		return 1;
	case OPT_ACTOR_BUDGET:
		if (parse_number(arg, &v) || v <= 0 || v > 100) {
			cli_usage_error("--actor-budget: '%s' is not a percentage of one CPU "
					"(0 < PCT <= 100)", arg);
			return -1;
		}
		o->actor_budget = v / 100;
		return 1;
	}
	return 0;
}

void record_options_help(void)
{
	printf("Options:\n"
	       "  -o, --output FILE       trace file (default weft.pftrace)\n"
	       "  -f, --force             overwrite the trace file if it exists\n"
	       "      --summary-json FILE also write the summary as JSON\n"
	       "  -d, --duration SECONDS  stop after this long\n"
	       "      --stack-rate N      off-CPU stacks per second per thread (default 200, "
	       "0: none)\n"
	       "      --ringbuf-size SIZE kernel-to-weft buffer, split into one ring per CPU\n"
	       "                          (default 16M)\n"
	       "      --no-compress       write the trace's packets as they are: three times the\n"
	       "                          size, ~5-20 ns less of weft's CPU per event\n"
	       "      --top N             off-CPU stacks shown in the summary (default 5)\n"
	       "      --threads N|all     threads shown in the summary, longest waiting first\n"
	       "                          (default 20; the JSON and the trace have them all)\n"
	       "      --stall-threshold T event-loop iterations this long are stalls "
	       "(default 50ms)\n"
	       "      --no-locks          no lock contention (futex waits, holders, deadlocks)\n"
	       "      --actor-budget PCT  sampled mode: attach actor/annotation probes only part\n"
	       "                          of the time, so they cost the target about PCT%% of one\n"
	       "                          CPU (default: always attached)\n"
	       "      --mode MODE         bpf (probes; root), preload (LD_PRELOAD shim; no\n"
	       "                          privileges; weft run only), both; default: bpf as root,\n"
	       "                          else preload\n"
	       "  -v, --verbose           more messages (-vv: libbpf's too)\n"
	       "  -h, --help              this help\n");
}

static void on_process_exited(void *ctx, int32_t pid, int32_t exit_code)
{
	struct recording *r = ctx;

	if (!r->col)
		;
	else if (r->nexits < MAX_PENDING_EXITS)
		r->exits[r->nexits++] = (struct pending_exit){ pid, boottime_ns() };
	else
		collector_untrace_pid(r->col, pid);
	if (r->o.verbose)
		fprintf(stderr, "weft: process %d exited (status %d)\n", pid, exit_code);
}

static void on_process_exec(void *ctx, int32_t pid)
{
	struct recording *r = ctx;
	int ret;

	for (int i = 0; i < r->nearly; i++) {
		if (r->early_exec[i] == pid) {
			r->early_exec[i] = r->early_exec[--r->nearly];
			return; /* probes attached when the record arrived */
		}
	}
	ret = r->col ? collector_add_process(r->col, pid) : 0;

	if (ret && r->o.verbose)
		fprintf(stderr, "weft: pid %d: attaching per-binary probes: %s\n", pid,
			strerror(-ret));
}

/* The probe areas' messages, printed like weft's own; the details only at -v. */
static void on_collector_message(void *ctx, enum collector_msg_level level, const char *what,
				 const char *hint)
{
	struct recording *r = ctx;

	if (level == COLLECTOR_MSG_VERBOSE && !r->o.verbose)
		return;
	cli_error(0, hint, "%s", what);
}

static void on_notice(void *ctx, const char *text)
{
	fprintf(stderr, "weft: %s\n", text);
	fflush(stderr);
}

static void untrace_exited(struct recording *r, bool all)
{
	uint64_t now = boottime_ns();
	int kept = 0;

	if (!r->col)
		return;
	for (int i = 0; i < r->nexits; i++) {
		if (all || now - r->exits[i].at >= UNTRACE_DELAY_NS)
			collector_untrace_pid(r->col, r->exits[i].pid);
		else
			r->exits[kept++] = r->exits[i];
	}
	r->nexits = kept;
}

int recording_start(struct recording **out, const struct record_opts *o)
{
	struct collector_opts co = { 0 };
	struct collector_error cerr = { 0 };
	struct session_opts so = { 0 };
	struct recording *r;
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	int ret;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return cli_error(1, NULL, "out of memory");
	r->o = *o;
	r->fd = -1;
	if (!o->force)
		flags |= O_EXCL;
	r->fd = open(o->output, flags, 0644);
	if (r->fd < 0) {
		int err = errno;

		free(r);
		if (err == EEXIST)
			return cli_error(1, "use -f to overwrite it, or -o to pick another name",
					 "%s: trace file exists", o->output);
		return cli_error(1, NULL, "%s: cannot write the trace: %s", o->output,
				 strerror(err));
	}

	if (o->summary_json) {
		r->json = fopen(o->summary_json, "w");
		if (!r->json) {
			ret = errno;
			close(r->fd);
			unlink(o->output);
			free(r);
			return cli_error(1, NULL, "%s: cannot write the summary: %s",
					 o->summary_json, strerror(ret));
		}
	}
	r->o.mode = record_mode_resolve(o->mode);
	/* The session first: it reads kallsyms on a thread while the BPF programs load. */
	so.trace_fd = r->fd;
	so.reorder_window_ns = REORDER_WINDOW_NS;
	so.compress = o->compress;
	so.stall_threshold_ns = o->stall_threshold_ns;
	so.hooks.process_exited = on_process_exited;
	so.hooks.process_exec = on_process_exec;
	so.hooks.notice = on_notice;
	so.hooks.ctx = r;
	r->ses = session_new(&so);
	if (!r->ses) {
		cli_error(1, NULL, "out of memory");
		goto fail;
	}
	if (r->o.mode == RECORD_MODE_PRELOAD || r->o.mode == RECORD_MODE_BOTH) {
		ret = preload_rings_open(&r->rings, o->ringbuf_bytes > (64u << 20) ? (64u << 20)
							 : o->ringbuf_bytes / 4 < (1u << 20)
							 ? (1u << 20) : o->ringbuf_bytes / 4, &cerr);
		if (ret) {
			cli_error(1, cerr.hint[0] ? cerr.hint : NULL, "%s", cerr.what);
			goto fail;
		}
	}
	if (r->o.mode == RECORD_MODE_PRELOAD)
		goto opened;
	co.ringbuf_bytes = o->ringbuf_bytes;
	co.stack_interval_ns = o->stack_rate > 0 ? (uint64_t)(1e9 / o->stack_rate) : 0;
	co.stack_burst = 8;
	co.verbose = o->verbose;
	co.stall_threshold_ns = o->stall_threshold_ns;
	co.no_locks = o->no_locks;
	co.actor_budget = o->actor_budget;
	co.message = on_collector_message;
	co.message_ctx = r;
	ret = collector_open(&r->col, &co, &cerr);
	if (ret) {
		cli_error(1, cerr.hint[0] ? cerr.hint : NULL, "%s", cerr.what);
		goto fail;
	}
opened:
	if (r->o.mode == RECORD_MODE_PRELOAD)
		session_set_capture(r->ses, "preload", NOT_SEEN_PRELOAD);
	else if (r->o.mode == RECORD_MODE_BOTH)
		session_set_capture(r->ses, "both", NULL);
	r->start_ts = boottime_ns();
	session_set_start(r->ses, r->start_ts);
	*out = r;
	return 0;
fail:
	session_free(r->ses);
	preload_rings_close(r->rings);
	close(r->fd);
	unlink(o->output);
	if (r->json) {
		fclose(r->json);
		unlink(o->summary_json);
	}
	free(r);
	return 1;
}

const char *recording_preload_dir(const struct recording *r)
{
	return r->rings ? preload_rings_dir(r->rings) : NULL;
}

size_t recording_preload_ring_size(const struct recording *r)
{
	return r->rings ? preload_rings_size(r->rings) : 0;
}

struct attach_ctx {
	struct recording *r;
	pid_t pid;
};

static void add_thread(void *ctx, pid_t tid, const char *comm)
{
	struct attach_ctx *a = ctx;

	session_add_thread(a->r->ses, a->pid, tid, comm);
}

int recording_attach(struct recording *r, pid_t pid, const char *cmdline)
{
	struct attach_ctx a = { r, pid };
	struct procfs_process p;
	int ret;

	/* `weft run`'s child goes into the kernel filter at its gate (recording_pre_exec). */
	ret = r->col && !cmdline ? collector_trace_pid(r->col, pid) : 0;
	if (ret)
		return ret;
	if (r->o.mode == RECORD_MODE_PRELOAD && !r->switches) {
		struct collector_error cerr = { 0 };

		/* Context switches where the kernel lets an ordinary user have them. */
		if (perf_switch_open(&r->switches, pid, &cerr) == 0)
			session_set_capture(r->ses, "preload", NOT_SEEN_PRELOAD_PERF);
		else if (r->o.verbose)
			fprintf(stderr, "weft: %s\nhint: %s\n", cerr.what, cerr.hint);
	}
	ret = procfs_read_process(pid, &p);
	if (ret)
		return ret;
	session_add_process(r->ses, pid, p.ppid, p.comm, cmdline ? cmdline : p.cmdline);
	ret = procfs_for_each_thread(pid, add_thread, &a);
	if (ret < 0)
		return ret;
	/* `weft run` attaches before exec: its exec record brings the binary's probes. */
	if (!cmdline)
		on_process_exec(r, pid);
	return 0;
}

int recording_pre_exec(struct recording *r, pid_t pid, const char *path)
{
	int ret = r->col ? collector_pre_exec(r->col, pid, path) : 0;

	if (ret && r->o.verbose)
		fprintf(stderr, "weft: %s: attaching per-binary probes before exec: %s\n", path,
			strerror(-ret));
	/*
	 * Into the kernel filter last: the child has been waiting at its gate all along, and
	 * that wait is weft's doing, not the command's. Traced from here, it is seen woken and
	 * running, then exec'ing; not sleeping there (its stack, weft's own code, would have led
	 * the command's off-CPU stacks).
	 */
	return r->col ? collector_trace_pid(r->col, pid) : 0;
}

static void on_arrival(struct recording *r, const void *data, size_t len)
{
	const struct weft_event_header *h = data;

	/*
	 * Per-binary probes (Go uprobes) must be in place as soon as possible after exec: the
	 * reorder window releases records only as newer ones arrive, so a program that goes
	 * quiet right after exec would run unprobed until it wakes up again.
	 */
	if (r->col && len >= sizeof(*h) && h->type == WEFT_EV_EXEC &&
	    r->nearly < MAX_EARLY_EXECS) {
		int ret = collector_add_process(r->col, h->pid);

		r->early_exec[r->nearly++] = h->pid;
		if (ret && r->o.verbose)
			fprintf(stderr, "weft: pid %d: attaching per-binary probes: %s\n", h->pid,
				strerror(-ret));
	}
}

/* A record valid only during the call. */
static int on_record(void *ctx, const void *data, size_t len)
{
	struct recording *r = ctx;

	on_arrival(r, data, len);
	session_push(r->ses, data, len);
	return 0;
}

/* A record read in place from the BPF rings: valid until collector_release(). */
static int on_ring_record(void *ctx, const void *data, size_t len)
{
	struct recording *r = ctx;

	on_arrival(r, data, len);
	session_keep(r->ses, data, len);
	return 0;
}

/*
 * The shim's records, deduplicated against BPF in --mode=both: the kernel probes already give
 * forks, execs, exits, renames (and, with the event-loop area, poll calls), so only the records
 * only the shim can give pass (its lock area, WEFT_EV_PRELOAD_BASE..+7).
 */
static int on_shim_record(void *ctx, const void *data, size_t len)
{
	struct recording *r = ctx;
	const struct weft_event_header *h = data;

	if (r->col && len >= sizeof(*h) &&
	    (h->type < WEFT_EV_PRELOAD_BASE || h->type >= WEFT_EV_PRELOAD_BASE + 8))
		return 0;
	session_push(r->ses, data, len);
	return 0;
}

static void drain(struct recording *r, bool all)
{
	uint64_t before = boottime_ns();

	if (r->col) {
		pace_before_drain(&r->pace, collector_ring_waiting(r->col));
		collector_drain(r->col, on_record, on_ring_record, r);
	}
	if (r->switches)
		perf_switch_drain(r->switches, on_record, r);
	if (r->rings)
		preload_rings_drain(r->rings, on_shim_record, r);
	/*
	 * Every source has been drained up to `before`: time moves on even without records (a
	 * stuck process sends none). Shim records are stamped before they are published, so a
	 * thread may still be between the two: keep a margin for them.
	 */
	session_clock(r->ses, r->rings ? before - 2 * DRAIN_PERIOD_NS : before);
	session_flush(r->ses, all);
	if (r->col)
		collector_release(r->col); /* the flush released or copied what it read in place */
	untrace_exited(r, false);
}

int recording_loop(struct recording *r, bool (*should_stop)(void *ctx, struct recording *r),
		   void *ctx)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction sc = { .sa_handler = on_child, .sa_flags = SA_RESTART };
	/* Past a century is no deadline (and past 2^64 ns no uint64_t holds it). */
	uint64_t deadline = r->o.duration_s > 0 && r->o.duration_s < 3.2e9
				    ? r->start_ts + (uint64_t)(r->o.duration_s * 1e9)
				    : 0;
	uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), last = boottime_ns();
	int nice = getpriority(PRIO_PROCESS, 0); /* before pacing changes it */
	struct rusage ru;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCHLD, &sc, NULL);
	if (r->col)
		pace_start(&r->pace, collector_ring_bytes_per_cpu(r->col),
			   r->rings || r->switches ? DRAIN_PERIOD_NS : BPF_DRAIN_PERIOD_MAX_NS);
	while (!stop_signal) {
		uint64_t now = boottime_ns();
		uint64_t next = now + (r->col ? r->pace.period_ns : DRAIN_PERIOD_NS);

		if (deadline && next > deadline)
			next = deadline;
		/* Sleep out the period. Records that ask to be seen at once, or the command's
		 * end, cut it short (the waits return early on a signal). */
		while (!stop_signal && !child_signal && (now = boottime_ns()) < next) {
			struct timespec rest = { 0, next - now };

			if (!r->col)
				nanosleep(&rest, NULL);
			else if (collector_wait(r->col, (next - now) / 1000000 + 1) > 0)
				break;
		}
		child_signal = 0;
		drain(r, false);
		if (r->col) {
			uint64_t lost;

			if (collector_loss(r->col, WEFT_LOSS_RINGBUF_FULL, &lost))
				lost = 0;
			now = boottime_ns();
			pace_after_drain(&r->pace, collector_ring_peak(r->col), now - last, lost);
			last = now;
		}
		if (should_stop && should_stop(ctx, r))
			break;
		if (deadline && boottime_ns() >= deadline)
			break;
	}
	if (getrusage(RUSAGE_SELF, &ru))
		ru.ru_maxrss = 0;
	session_set_collector_usage(r->ses, clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0, ru.ru_maxrss, nice);
	return stop_signal;
}

int recording_finish(struct recording *r)
{
	uint64_t losses[WEFT_LOSS_REASON_MAX] = { 0 };
	struct timespec grace = { 0, 20 * 1000000 };
	int ret;

	pace_stop(&r->pace);
	/* Let the last switches of exiting tasks land, then take everything. */
	nanosleep(&grace, NULL);
	if (r->col) {
		collector_drain(r->col, on_record, on_ring_record, r);
		collector_losses(r->col, losses);
		collector_detach(r->col);
	}
	if (r->switches) {
		perf_switch_drain(r->switches, on_record, r);
		perf_switch_losses(r->switches, losses);
	}
	if (r->rings) {
		preload_rings_drain(r->rings, on_shim_record, r);
		preload_rings_losses(r->rings, losses);
	}
	session_set_losses(r->ses, losses);
	ret = session_finish(r->ses, boottime_ns());
	untrace_exited(r, true);
	if (ret) {
		cli_error(1, NULL, "%s: writing the trace: %s", r->o.output, strerror(-ret));
		r->error = true;
	}
	if (close(r->fd) && !r->error) {
		cli_error(1, NULL, "%s: writing the trace: %s", r->o.output, strerror(errno));
		r->error = true;
	}
	r->fd = -1;
	session_summary_text(r->ses, stderr, r->o.top_stacks, r->o.top_threads);
	/* The error line is far above by now: say it again where the trace is named. */
	if (r->error)
		fprintf(stderr, "\nTrace: %s is incomplete (writing it failed); the summary above "
				"covers the whole recording.\n", r->o.output);
	else
		fprintf(stderr, "\nTrace: %s (%" PRIu64 " bytes). View it: weft open %s\n",
			r->o.output, session_trace_bytes(r->ses), r->o.output);
	if (r->json) {
		session_summary_json(r->ses, r->json);
		if (fclose(r->json)) {
			cli_error(1, NULL, "%s: writing the summary: %s", r->o.summary_json,
				  strerror(errno));
			r->error = true;
		}
		r->json = NULL;
	}
	return r->error ? 1 : 0;
}

void recording_free(struct recording *r)
{
	if (!r)
		return;
	session_free(r->ses);
	if (r->col)
		collector_close(r->col);
	preload_rings_close(r->rings);
	perf_switch_close(r->switches);
	if (r->fd >= 0)
		close(r->fd);
	if (r->json)
		fclose(r->json);
	free(r);
}
