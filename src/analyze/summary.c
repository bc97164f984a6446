// SPDX-License-Identifier: MIT
/* The end-of-run summary, as text for a person and as JSON for scripts; worst first. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/area.h"
#include "analyze/decode.h"
#include "analyze/session_impl.h"
#include "symbolize/symbolize.h"

static int by_waiting(const void *a, const void *b)
{
	const struct task *x = *(const struct task *const *)a;
	const struct task *y = *(const struct task *const *)b;
	uint64_t wx = x->st.sleep_ns + x->st.blocked_ns + x->st.runnable_ns;
	uint64_t wy = y->st.sleep_ns + y->st.blocked_ns + y->st.runnable_ns;

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Traced threads, the ones waiting longest first. */
static struct task **ranked_threads(struct session *s, size_t *n)
{
	struct task **arr = malloc((s->tt.tasks.len + 1) * sizeof(*arr));
	uint64_t k;
	void *v;

	*n = 0;
	if (!arr)
		return NULL;
	for (size_t i = 0; u64map_next(&s->tt.tasks, &i, &k, &v);) {
		struct task *t = v;

		if (t->traced && (t->st.on_cpu_ns || t->st.voluntary || t->st.involuntary))
			arr[(*n)++] = t;
	}
	qsort(arr, *n, sizeof(*arr), by_waiting);
	return arr;
}

static double offcpu_scale(void *ctx, int32_t tid)
{
	struct task *t = task_get(&((struct session *)ctx)->tt, tid);

	if (!t || !t->st.sampled_offcpu_ns)
		return 1.0;
	return (double)(t->st.sampled_offcpu_ns + t->st.unsampled_offcpu_ns) /
	       t->st.sampled_offcpu_ns;
}

void summary_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 10000000000ULL)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (ns >= 1000000000ULL)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 "ns", ns);
}

static uint64_t total_records(const struct session *s)
{
	uint64_t n = 0;

	for (int i = 0; i < WEFT_EV_TYPE_MAX; i++)
		n += s->records[i];
	return n;
}

static uint64_t total_lost(const struct session *s)
{
	/* Throttled stacks are a budget, not a loss of data the user asked for. */
	uint64_t n = 0;

	for (int r = 0; r < WEFT_LOSS_REASON_MAX; r++)
		if (r != WEFT_LOSS_STACK_THROTTLED && r != WEFT_LOSS_PRELOAD_REENTRY)
			n += s->losses[r];
	return n;
}

void session_summary_text(struct session *s, FILE *f, int max_stacks, int max_threads)
{
	char on[16], off[16], rq[16], p50[16], p99[16], mx[16];
	struct offcpu_stack **stacks;
	struct task **threads;
	size_t nt, ns;

	fprintf(f, "\nweft summary: %.2fs recorded\n",
		s->last_ts > s->first_ts ? (s->last_ts - s->first_ts) / 1e9 : 0.0);
	threads = ranked_threads(s, &nt);
	fprintf(f, "\nThreads, longest waiting first:\n");
	fprintf(f, "  %7s %7s %-16s %9s %9s %9s %9s %9s %9s %8s %8s\n", "PID", "TID", "COMM",
		"ON-CPU", "OFF-CPU", "RUNQ", "RQ-P50", "RQ-P99", "RQ-MAX", "VOL", "INVOL");
	for (size_t i = 0; threads && i < nt && (max_threads < 0 || i < (size_t)max_threads);
	     i++) {
		struct task *t = threads[i];

		summary_fmt_ns(on, sizeof(on), t->st.on_cpu_ns);
		summary_fmt_ns(off, sizeof(off), t->st.sleep_ns + t->st.blocked_ns);
		summary_fmt_ns(rq, sizeof(rq), t->st.runnable_ns);
		summary_fmt_ns(p50, sizeof(p50), hist_quantile(&t->st.rq_delay, 0.50));
		summary_fmt_ns(p99, sizeof(p99), hist_quantile(&t->st.rq_delay, 0.99));
		summary_fmt_ns(mx, sizeof(mx), t->st.rq_delay.max);
		fprintf(f, "  %7d %7d %-16s %9s %9s %9s %9s %9s %9s %8" PRIu64 " %8" PRIu64 "\n",
			t->pid, t->tid, t->comm, on, off, rq, p50, p99, mx, t->st.voluntary,
			t->st.involuntary);
	}
	if (max_threads >= 0 && nt > (size_t)max_threads)
		fprintf(f, "  ... and %zu more (--threads all lists them; the trace and "
			   "--summary-json have them all)\n", nt - max_threads);
	if (!nt && s->capture_not_seen)
		fprintf(f, "  (no scheduling data in %s mode)\n", s->capture_mode);
	else if (!nt)
		fprintf(f, "  (no thread of the traced processes was scheduled)\n");
	free(threads);

	stacks = offcpu_ranked(&s->offcpu, offcpu_scale, s, &ns);
	fprintf(f, "\nTop off-CPU stacks by time waiting (estimated from sampled waits):\n");
	for (size_t i = 0; stacks && i < ns && (int)i < max_stacks; i++) {
		summary_fmt_ns(off, sizeof(off), stacks[i]->est_ns);
		summary_fmt_ns(rq, sizeof(rq), stacks[i]->total_ns);
		summary_fmt_ns(mx, sizeof(mx), stacks[i]->max_ns);
		fprintf(f, "  #%zu  ~%s  (%" PRIu64 " sampled waits, %s; longest %s)\n", i + 1, off,
			stacks[i]->waits, rq, mx);
		for (size_t j = 0; j < stacks[i]->nframes; j++)
			fprintf(f, "        %s\n", stacks[i]->frames[j]);
	}
	if (!ns)
		fprintf(f, "  (none captured)\n");
	free(stacks);

	for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++)
		if (s->area_ok[i] && analyze_areas[i]->summary_text)
			analyze_areas[i]->summary_text(s, s->area_state[i], f);

	if (s->capture_not_seen)
		fprintf(f, "\nCapture mode %s: not seen: %s.\n", s->capture_mode,
			s->capture_not_seen);
	fprintf(f, "\nEvents: %" PRIu64 " captured (", total_records(s));
	for (int i = 1, first = 1; i < WEFT_EV_TYPE_MAX; i++) {
		if (!s->records[i])
			continue;
		fprintf(f, "%s%" PRIu64 " %s", first ? "" : ", ", s->records[i],
			weft_event_name(i));
		first = 0;
	}
	fprintf(f, "), %" PRIu64 " lost", total_lost(s));
	for (int r = 0; r < WEFT_LOSS_REASON_MAX; r++)
		if (s->losses[r] && r != WEFT_LOSS_STACK_THROTTLED)
			fprintf(f, "; %" PRIu64 " %s", s->losses[r], weft_loss_name(r));
	fprintf(f, "\n");
	if (s->losses[WEFT_LOSS_STACK_THROTTLED])
		fprintf(f, "Off-CPU stacks: %" PRIu64 " waits without a stack (rate limit, "
			"raise --stack-rate)\n", s->losses[WEFT_LOSS_STACK_THROTTLED]);
	if (s->sym && sym_files_cut(s->sym))
		fprintf(f, "Symbols: %" PRIu64 " reads of program files cut short on disk while "
			   "mapped (a library overwritten in place?): their frames show as "
			   "addresses\n", sym_files_cut(s->sym));
	if (s->losses[WEFT_LOSS_RINGBUF_FULL]) {
		uint64_t span = s->last_ts > s->first_ts ? s->last_ts - s->first_ts : 0;

		/* Busy under half the time yet behind: other work held it off the CPU (on a
		 * machine with hundreds of runnable threads, weft at nice 0 lost half its records). */
		if (s->collector_cpu_ns < span / 2 && s->collector_nice > -20)
			fprintf(f, "hint: weft was kept off the CPU (it used %.0f%% of one, at nice "
				   "%d): run it at a higher priority (nice -n %d weft ...), or with a "
				   "larger --ringbuf-size\n", 100.0 * s->collector_cpu_ns / span,
				s->collector_nice, s->collector_nice > -10 ? -10 : -20);
		else
			fprintf(f, "hint: increase --ringbuf-size to lose fewer events\n");
	}
	if (s->losses[WEFT_LOSS_PRELOAD_RING_FULL])
		fprintf(f, "hint: increase --ringbuf-size (each process's preload ring gets a "
			   "quarter of it, 1M to 64M)\n");
	if (s->malformed)
		fprintf(f, "warning: %" PRIu64 " malformed records dropped (a weft bug)\n",
			s->malformed);
	if (s->ro.late)
		fprintf(f, "warning: %" PRIu64 " records arrived after later ones were analysed "
			"(a weft bug)\n", s->ro.late);
}

void summary_json_str(FILE *f, const char *str)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(str ? str : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void session_summary_json(struct session *s, FILE *f)
{
	struct offcpu_stack **stacks;
	struct task **threads;
	size_t nt, ns;

	fprintf(f, "{\n  \"duration_ns\": %" PRIu64 ",\n  \"threads\": [",
		s->last_ts > s->first_ts ? s->last_ts - s->first_ts : 0);
	threads = ranked_threads(s, &nt);
	for (size_t i = 0; threads && i < nt; i++) {
		struct task *t = threads[i];

		fprintf(f, "%s\n    {\"pid\": %d, \"tid\": %d, \"comm\": ", i ? "," : "", t->pid,
			t->tid);
		summary_json_str(f, t->comm);
		fprintf(f, ", \"on_cpu_ns\": %" PRIu64 ", \"off_cpu_ns\": %" PRIu64
			", \"sleeping_ns\": %" PRIu64 ", \"uninterruptible_ns\": %" PRIu64
			", \"runnable_ns\": %" PRIu64 ", \"run_queue_delay_ns\": {\"count\": %" PRIu64
			", \"p50\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64
			"}, \"voluntary_switches\": %" PRIu64 ", \"involuntary_switches\": %" PRIu64
			"}",
			t->st.on_cpu_ns, t->st.sleep_ns + t->st.blocked_ns, t->st.sleep_ns,
			t->st.blocked_ns, t->st.runnable_ns, t->st.rq_delay.count,
			hist_quantile(&t->st.rq_delay, 0.5), hist_quantile(&t->st.rq_delay, 0.99),
			t->st.rq_delay.max, t->st.voluntary, t->st.involuntary);
	}
	free(threads);
	fprintf(f, "\n  ],\n  \"offcpu_stacks\": [");
	stacks = offcpu_ranked(&s->offcpu, offcpu_scale, s, &ns);
	for (size_t i = 0; stacks && i < ns; i++) {
		fprintf(f, "%s\n    {\"estimated_ns\": %" PRIu64 ", \"sampled_ns\": %" PRIu64
			", \"sampled_waits\": %" PRIu64 ", \"max_ns\": %" PRIu64 ", \"tids\": [",
			i ? "," : "", stacks[i]->est_ns, stacks[i]->total_ns, stacks[i]->waits,
			stacks[i]->max_ns);
		for (size_t j = 0; j < stacks[i]->ncontribs; j++)
			fprintf(f, "%s%d", j ? ", " : "", stacks[i]->contribs[j].tid);
		fprintf(f, "], \"frames\": [");
		for (size_t j = 0; j < stacks[i]->nframes; j++) {
			fprintf(f, "%s", j ? ", " : "");
			summary_json_str(f, stacks[i]->frames[j]);
		}
		fprintf(f, "]}");
	}
	free(stacks);
	fprintf(f, "\n  ],\n");
	for (int i = 0; analyze_areas[i] && i < AREAS_MAX; i++) {
		if (s->area_ok[i] && analyze_areas[i]->summary_json) {
			fprintf(f, "  ");
			analyze_areas[i]->summary_json(s, s->area_state[i], f);
			fprintf(f, ",\n");
		}
	}
	fprintf(f, "  \"capture\": {\"mode\": ");
	summary_json_str(f, s->capture_mode ? s->capture_mode : "bpf");
	fprintf(f, ", \"not_seen\": ");
	if (s->capture_not_seen)
		summary_json_str(f, s->capture_not_seen);
	else
		fprintf(f, "null");
	fprintf(f, "},\n");
	fprintf(f, "  \"events\": {\"captured\": %" PRIu64 ", \"by_type\": {",
		total_records(s));
	for (int i = 1, first = 1; i < WEFT_EV_TYPE_MAX; i++) {
		if (!strcmp(weft_event_name(i), "unknown"))
			continue;
		fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", weft_event_name(i),
			s->records[i]);
		first = 0;
	}
	fprintf(f, "}, \"lost\": %" PRIu64 ", \"lost_by_reason\": {", total_lost(s));
	for (int r = 0, first = 1; r < WEFT_LOSS_REASON_MAX; r++) {
		if (!strcmp(weft_loss_name(r), "unknown"))
			continue;
		fprintf(f, "%s", first ? "" : ", ");
		summary_json_str(f, weft_loss_name(r));
		fprintf(f, ": %" PRIu64, s->losses[r]);
		first = 0;
	}
	fprintf(f, "}, \"malformed\": %" PRIu64 ", \"out_of_order\": %" PRIu64
		", \"stacks_unwound\": %" PRIu64 ", \"symbol_files_cut\": %" PRIu64
		", \"trace_bytes\": %" PRIu64 ", \"switches_in_trace\": %" PRIu64
		", \"collector_cpu_ns\": %" PRIu64 ", \"collector_ns_per_event\": %.1f"
		", \"collector_max_rss_kb\": %" PRIu64 "}\n}\n",
		s->malformed, s->ro.late, s->stacks_unwound, s->sym ? sym_files_cut(s->sym) : 0,
		session_trace_bytes(s), s->switches,
		s->collector_cpu_ns,
		total_records(s) ? (double)s->collector_cpu_ns / total_records(s) : 0.0,
		s->collector_max_rss_kb);
}
