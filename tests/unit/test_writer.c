// SPDX-License-Identifier: MIT
/* Perfetto writer tests: write a trace to a file, decode it back with the protobuf-c unpackers. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "perfetto/writer.h"
#include "perfetto_trace.pb-c.h"

typedef Perfetto__Protos__Trace Trace;
typedef Perfetto__Protos__TracePacket Packet;

#define SEQ_CLEARED 1
#define SEQ_NEEDS   2

/* A writer on an unlinked temp file; the test reads the bytes back after pf_writer_close(). */
struct tw {
	int fd;
	struct pf_writer *w;
	uint8_t *data;
	size_t len;
	Trace *trace;
};

static void tw_open(struct tw *t)
{
	char path[] = "/tmp/weft-test-writer-XXXXXX";

	memset(t, 0, sizeof(*t));
	t->fd = mkstemp(path);
	assert_true(t->fd >= 0);
	unlink(path);
	t->w = pf_writer_new(t->fd);
	assert_non_null(t->w);
}

static uint8_t *read_fd(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *buf;

	assert_true(size >= 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)size, 0), size);
	*len = (size_t)size;
	return buf;
}

/* Closes the writer and decodes the whole file. */
static void tw_close(struct tw *t)
{
	assert_int_equal(pf_writer_close(t->w), 0);
	t->data = read_fd(t->fd, &t->len);
	t->trace = perfetto__protos__trace__unpack(NULL, t->len, t->data);
	assert_non_null(t->trace);
}

static void tw_free(struct tw *t)
{
	if (t->trace)
		perfetto__protos__trace__free_unpacked(t->trace, NULL);
	free(t->data);
	close(t->fd);
}

/* Walks the framing by hand: 0x0A varint(len) packet, ...; returns packet end offsets. */
static size_t frame_ends(const uint8_t *p, size_t len, size_t *ends, size_t max)
{
	size_t off = 0, n = 0, plen;
	int shift;

	while (off < len) {
		assert_int_equal(p[off++], 0x0a);
		plen = 0;
		shift = 0;
		do {
			assert_true(off < len);
			plen |= (size_t)(p[off] & 0x7f) << shift;
			shift += 7;
		} while (p[off++] & 0x80);
		off += plen;
		assert_true(off <= len);
		if (n < max)
			ends[n] = off;
		n++;
	}
	return n;
}

static const char *event_name(const Packet *p, uint64_t iid)
{
	size_t i;

	if (!p->interned_data)
		return NULL;
	for (i = 0; i < p->interned_data->n_event_names; i++)
		if (p->interned_data->event_names[i]->iid == iid)
			return p->interned_data->event_names[i]->name;
	return NULL;
}

/* --- framing, sequence, flags ----------------------------------------------------------------- */

static void test_framing_and_flags(void **state)
{
	struct pf_arg arg = { .name = "n", .type = PF_ARG_INT, .i = 1 };
	struct tw t;
	size_t ends[64], n, i;
	uint64_t track;

	tw_open(&t);
	assert_int_equal(pf_system_info(t.w, "Linux", "6.8.0", "x86_64"), 0);
	assert_int_equal(pf_process(t.w, 100, 1, "app", "/usr/bin/app --flag x"), 0);
	assert_int_equal(pf_thread(t.w, 101, 100, "worker"), 0);
	track = pf_track_thread(t.w, 100, 101, "worker");
	assert_true(track > 0);
	assert_int_equal(pf_slice_begin(t.w, track, 1000, "work", &arg, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(pf_slice_end(t.w, track, 2000), 0);
	tw_close(&t);

	n = frame_ends(t.data, t.len, ends, 64);
	assert_int_equal(n, 6);
	assert_int_equal(n, t.trace->n_packet);
	assert_int_equal(ends[n - 1], t.len);
	for (i = 0; i < n; i++) {
		Packet *p = t.trace->packet[i];

		assert_int_equal(
			p->optional_trusted_packet_sequence_id_case,
			PERFETTO__PROTOS__TRACE_PACKET__OPTIONAL_TRUSTED_PACKET_SEQUENCE_ID_TRUSTED_PACKET_SEQUENCE_ID);
		assert_int_equal(p->trusted_packet_sequence_id,
				 t.trace->packet[0]->trusted_packet_sequence_id);
		assert_true(p->trusted_packet_sequence_id != 0);
	}
	/* the first packet clears incremental state, packets using it say so */
	assert_true(t.trace->packet[0]->has_sequence_flags);
	assert_int_equal(t.trace->packet[0]->sequence_flags, SEQ_CLEARED | SEQ_NEEDS);
	assert_int_equal(t.trace->packet[0]->data_case,
			 PERFETTO__PROTOS__TRACE_PACKET__DATA_SYSTEM_INFO);
	assert_string_equal(t.trace->packet[0]->system_info->utsname->release, "6.8.0");
	for (i = 1; i < n; i++) {
		Packet *p = t.trace->packet[i];

		if (p->data_case == PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_EVENT)
			assert_int_equal(p->sequence_flags, SEQ_NEEDS);
		else
			assert_false(p->has_sequence_flags);
	}
	/* process tree: cmdline split into argv, thread with its tgid */
	{
		Perfetto__Protos__ProcessTree__Process *pr =
			t.trace->packet[1]->process_tree->processes[0];
		Perfetto__Protos__ProcessTree__Thread *th =
			t.trace->packet[2]->process_tree->threads[0];

		assert_int_equal(pr->pid, 100);
		assert_int_equal(pr->ppid, 1);
		assert_int_equal(pr->n_cmdline, 3);
		assert_string_equal(pr->cmdline[0], "/usr/bin/app");
		assert_string_equal(pr->cmdline[2], "x");
		assert_int_equal(th->tid, 101);
		assert_int_equal(th->tgid, 100);
		assert_string_equal(th->name, "worker");
	}
	tw_free(&t);
}

static void test_bytes_counted(void **state)
{
	struct tw t;
	uint64_t bytes;

	tw_open(&t);
	assert_int_equal(pf_system_info(t.w, "Linux", "6.8.0", "x86_64"), 0);
	assert_int_equal(pf_writer_flush(t.w), 0);
	bytes = pf_writer_bytes(t.w);
	assert_true(bytes > 0);
	tw_close(&t);
	assert_int_equal(bytes, t.len);
	tw_free(&t);
}

/* --- interning -------------------------------------------------------------------------------- */

static void test_interning(void **state)
{
	struct pf_arg args[2] = {
		{ .name = "lock", .type = PF_ARG_POINTER, .u = 0xdead },
		{ .name = "who", .type = PF_ARG_STRING, .s = "main" },
	};
	size_t i, j, names = 0, annot_names = 0, events = 0;
	uint64_t track, iid = 0;
	struct tw t;

	tw_open(&t);
	track = pf_track_thread(t.w, 1, 2, "t");
	for (i = 0; i < 3; i++) {
		assert_int_equal(
			pf_slice_begin(t.w, track, 10 + i * 10, "wait", args, 2, NULL, 0, NULL, 0),
			0);
		assert_int_equal(pf_slice_end(t.w, track, 15 + i * 10), 0);
	}
	assert_int_equal(pf_instant(t.w, track, 100, "other", NULL, 0), 0);
	tw_close(&t);

	for (i = 0; i < t.trace->n_packet; i++) {
		Packet *p = t.trace->packet[i];
		Perfetto__Protos__TrackEvent *ev = p->track_event;

		if (p->interned_data) {
			names += p->interned_data->n_event_names;
			annot_names += p->interned_data->n_debug_annotation_names;
		}
		if (p->data_case != PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_EVENT ||
		    ev->type != PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN)
			continue;
		events++;
		assert_int_equal(ev->name_field_case,
				 PERFETTO__PROTOS__TRACK_EVENT__NAME_FIELD_NAME_IID);
		if (!iid) {
			iid = ev->name_iid;
			assert_string_equal(event_name(p, iid), "wait");
		} else {
			/* repeats cost only the id */
			assert_int_equal(ev->name_iid, iid);
			assert_null(p->interned_data);
		}
		assert_int_equal(ev->n_debug_annotations, 2);
		for (j = 0; j < 2; j++)
			assert_int_equal(ev->debug_annotations[j]->name_field_case,
					 PERFETTO__PROTOS__DEBUG_ANNOTATION__NAME_FIELD_NAME_IID);
		assert_int_equal(ev->debug_annotations[0]->pointer_value, 0xdead);
		assert_string_equal(ev->debug_annotations[1]->string_value, "main");
	}
	assert_int_equal(events, 3);
	assert_int_equal(iid, 1);
	assert_int_equal(names, 2); /* "wait" once, "other" once */
	assert_int_equal(annot_names, 2);
	tw_free(&t);
}

/* Every argument type, as protobuf-c reads back what the writer encodes by hand. */
static void test_annotation_types(void **state)
{
	char long_text[300];
	struct pf_arg args[] = {
		{ .name = "neg", .type = PF_ARG_INT, .i = -5 },
		{ .name = "big", .type = PF_ARG_UINT, .u = UINT64_MAX },
		{ .name = "ratio", .type = PF_ARG_DOUBLE, .d = -2.25 },
		{ .name = "text", .type = PF_ARG_STRING, .s = long_text },
		{ .name = "none", .type = PF_ARG_STRING, .s = NULL },
		{ .name = NULL, .type = PF_ARG_POINTER, .u = 0x7fff12345678 },
	};
	Perfetto__Protos__TrackEvent *ev = NULL;
	Packet *begin = NULL;
	uint64_t track;
	struct tw t;

	memset(long_text, 'x', sizeof(long_text) - 1); /* a length that takes two varint bytes */
	long_text[sizeof(long_text) - 1] = 0;
	tw_open(&t);
	track = pf_track_thread(t.w, 1, 2, "t");
	assert_int_equal(pf_slice_begin(t.w, track, 1ULL << 40, "all", args, 6, NULL, 0, NULL, 0),
			 0);
	assert_int_equal(pf_slice_end(t.w, track, (1ULL << 40) + 1), 0);
	tw_close(&t);
	for (size_t i = 0; i < t.trace->n_packet; i++)
		if (t.trace->packet[i]->data_case == PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_EVENT &&
		    !begin)
			begin = t.trace->packet[i];
	assert_non_null(begin);
	ev = begin->track_event;
	assert_int_equal(begin->timestamp, 1ULL << 40);
	assert_int_equal(begin->trusted_packet_sequence_id, 1);
	assert_int_equal(ev->track_uuid, track);
	assert_int_equal(ev->n_debug_annotations, 6);
	assert_int_equal(ev->debug_annotations[0]->int_value, -5);
	assert_true(ev->debug_annotations[1]->uint_value == UINT64_MAX);
	assert_true(ev->debug_annotations[2]->double_value == -2.25);
	assert_string_equal(ev->debug_annotations[3]->string_value, long_text);
	assert_string_equal(ev->debug_annotations[4]->string_value, "");
	assert_int_equal(ev->debug_annotations[5]->value_case,
			 PERFETTO__PROTOS__DEBUG_ANNOTATION__VALUE_POINTER_VALUE);
	assert_int_equal(ev->debug_annotations[5]->pointer_value, 0x7fff12345678);
	/* names by iid, the unnamed one as "?" */
	assert_int_equal(begin->interned_data->n_debug_annotation_names, 6);
	for (size_t i = 0; i < 6; i++) {
		Perfetto__Protos__DebugAnnotationName *n =
			begin->interned_data->debug_annotation_names[i];

		assert_int_equal(n->iid, ev->debug_annotations[i]->name_iid);
		assert_string_equal(n->name, args[i].name ? args[i].name : "?");
	}
	tw_free(&t);
}

/* --- scheduling ------------------------------------------------------------------------------- */

/* A comm as the writer takes it: a PF_COMM_LEN-byte buffer, zero-padded as in the kernel. */
#define COMM(name) ((const char[PF_COMM_LEN]){ name })

struct sw {
	uint32_t cpu;
	uint64_t ts;
	int64_t state;
	int32_t pid;
	char comm[PF_COMM_LEN];
};

static void test_compact_sched(void **state)
{
	static const struct sw sws[] = {
		{ 0, 1000, 0, 10, "a" },	{ 1, 1100, 0, 20, "b" },
		{ 0, 1500, 1, 11, "c" },	{ 0, 1600, 0x100, 10, "a" },
		{ 1, 1700, 2, 0, "swapper/1" }, { 0, 2600, 1, 0, "swapper/0" },
	};
	size_t i, k, seen = 0, wakings = 0;
	struct tw t;

	tw_open(&t);
	for (i = 0; i < sizeof(sws) / sizeof(sws[0]); i++)
		assert_int_equal(pf_sched_switch(t.w, sws[i].cpu, sws[i].ts, sws[i].state,
						 sws[i].pid, 120, sws[i].comm),
				 0);
	assert_int_equal(pf_sched_waking(t.w, 0, 1200, 11, 0, 120, COMM("c")), 0);
	assert_int_equal(pf_sched_waking(t.w, 0, 1550, 12, 1, 100, COMM("d")), 0);
	/* nothing is written before the flush */
	assert_int_equal(pf_writer_bytes(t.w), 0);
	assert_int_equal(pf_sched_flush(t.w), 0);
	tw_close(&t);

	assert_int_equal(t.trace->n_packet, 2);
	for (i = 0; i < t.trace->n_packet; i++) {
		Perfetto__Protos__FtraceEventBundle *b = t.trace->packet[i]->ftrace_events;
		Perfetto__Protos__FtraceEventBundle__CompactSched *cs;
		uint64_t ts = 0;

		assert_non_null(b);
		assert_true(b->has_cpu);
		cs = b->compact_sched;
		assert_non_null(cs);
		assert_int_equal(cs->n_switch_prev_state, cs->n_switch_timestamp);
		assert_int_equal(cs->n_switch_next_pid, cs->n_switch_timestamp);
		assert_int_equal(cs->n_switch_next_prio, cs->n_switch_timestamp);
		assert_int_equal(cs->n_switch_next_comm_index, cs->n_switch_timestamp);
		/* delta decoding gives back this CPU's switches in order */
		for (k = 0; k < cs->n_switch_timestamp; k++) {
			const struct sw *s = NULL;
			size_t m, nth = 0;

			ts += cs->switch_timestamp[k];
			for (m = 0; m < sizeof(sws) / sizeof(sws[0]); m++)
				if (sws[m].cpu == b->cpu && nth++ == k)
					s = &sws[m];
			assert_non_null(s);
			assert_int_equal(ts, s->ts);
			assert_int_equal(cs->switch_prev_state[k], s->state);
			assert_int_equal(cs->switch_next_pid[k], s->pid);
			assert_int_equal(cs->switch_next_prio[k], 120);
			assert_true(cs->switch_next_comm_index[k] < cs->n_intern_table);
			assert_string_equal(cs->intern_table[cs->switch_next_comm_index[k]],
					    s->comm);
			seen++;
		}
		/* the comm table has no duplicates */
		for (k = 0; k < cs->n_intern_table; k++) {
			size_t m;

			for (m = k + 1; m < cs->n_intern_table; m++)
				assert_string_not_equal(cs->intern_table[k], cs->intern_table[m]);
		}
		if (b->cpu == 0) {
			assert_int_equal(cs->n_waking_timestamp, 2);
			assert_int_equal(cs->waking_timestamp[0], 1200);
			assert_int_equal(cs->waking_timestamp[0] + cs->waking_timestamp[1], 1550);
			assert_int_equal(cs->waking_pid[1], 12);
			assert_int_equal(cs->waking_target_cpu[1], 1);
			assert_int_equal(cs->waking_prio[1], 100);
			assert_string_equal(cs->intern_table[cs->waking_comm_index[0]], "c");
			assert_string_equal(cs->intern_table[cs->waking_comm_index[1]], "d");
			/* no interrupt-context flags: "unknown" beats a guess */
			assert_int_equal(cs->n_waking_common_flags, 0);
			/* "a" and "c" are shared by switches and wakings of the bundle */
			assert_int_equal(cs->n_intern_table, 4);
			wakings += 2;
		} else {
			assert_int_equal(cs->n_waking_timestamp, 0);
		}
	}
	assert_int_equal(seen, 6);
	assert_int_equal(wakings, 2);
	tw_free(&t);
}

static void test_compact_sched_full_bundle(void **state)
{
	size_t i, total = 0, bundles = 0;
	uint64_t ts = 0, last = 0;
	struct tw t;

	tw_open(&t);
	for (i = 0; i < 5000; i++)
		assert_int_equal(pf_sched_switch(t.w, 3, 1000 + i * 7, 1, (int32_t)(i % 3), 120,
						 i % 3 ? COMM("x") : COMM("y")),
				 0);
	/* a full bundle went out on its own */
	assert_true(pf_writer_bytes(t.w) > 0);
	tw_close(&t); /* close flushes the rest */

	for (i = 0; i < t.trace->n_packet; i++) {
		Perfetto__Protos__FtraceEventBundle__CompactSched *cs =
			t.trace->packet[i]->ftrace_events->compact_sched;
		size_t k;

		assert_int_equal(t.trace->packet[i]->ftrace_events->cpu, 3);
		assert_true(cs->n_switch_timestamp <= 4096);
		assert_int_equal(cs->n_intern_table, 2);
		/* each bundle starts with an absolute timestamp */
		ts = 0;
		for (k = 0; k < cs->n_switch_timestamp; k++) {
			ts += cs->switch_timestamp[k];
			assert_int_equal(ts, 1000 + (total + k) * 7);
			last = ts;
		}
		total += cs->n_switch_timestamp;
		bundles++;
	}
	assert_int_equal(total, 5000);
	assert_int_equal(bundles, 2);
	assert_int_equal(last, 1000 + 4999 * 7);
	tw_free(&t);
}

/* A comm is its bytes up to the NUL: what follows it (a longer old name) does not matter, and
 * a name filling all PF_COMM_LEN bytes has no NUL at all. */
static void test_compact_sched_comm_bytes(void **state)
{
	static const char renamed[PF_COMM_LEN] = { 'a', 0, 'o', 'l', 'd' };
	static const char full[PF_COMM_LEN] = { '0', '1', '2', '3', '4', '5', '6', '7',
						'8', '9', 'a', 'b', 'c', 'd', 'e', 'f' };
	Perfetto__Protos__FtraceEventBundle__CompactSched *cs;
	struct tw t;

	tw_open(&t);
	assert_int_equal(pf_sched_switch(t.w, 0, 100, 1, 10, 120, COMM("a")), 0);
	assert_int_equal(pf_sched_switch(t.w, 0, 200, 1, 10, 120, renamed), 0);
	assert_int_equal(pf_sched_waking(t.w, 0, 250, 10, 0, 120, renamed), 0);
	assert_int_equal(pf_sched_switch(t.w, 0, 300, 1, 11, 120, full), 0);
	assert_int_equal(pf_sched_switch(t.w, 0, 400, 1, 11, 120, full), 0);
	tw_close(&t);

	assert_int_equal(t.trace->n_packet, 1);
	cs = t.trace->packet[0]->ftrace_events->compact_sched;
	assert_int_equal(cs->n_intern_table, 2);
	assert_string_equal(cs->intern_table[cs->switch_next_comm_index[0]], "a");
	assert_int_equal(cs->switch_next_comm_index[1], cs->switch_next_comm_index[0]);
	assert_int_equal(cs->waking_comm_index[0], cs->switch_next_comm_index[0]);
	assert_string_equal(cs->intern_table[cs->switch_next_comm_index[2]], "0123456789abcdef");
	assert_int_equal(cs->switch_next_comm_index[3], cs->switch_next_comm_index[2]);
	tw_free(&t);
}

/* Switches and wakings interleaved past many growths of their arrays: every event is kept. */
static void test_compact_sched_grows(void **state)
{
	size_t i, switches = 0, wakings = 0;
	struct tw t;

	tw_open(&t);
	for (i = 0; i < 3000; i++) {
		/* large pids and timestamps: varints of several bytes */
		assert_int_equal(pf_sched_switch(t.w, 1, (1ULL << 40) + i * 100000, 0x100,
						 (int32_t)(4000000 + i), 120, COMM("s")),
				 0);
		if (i % 2)
			assert_int_equal(pf_sched_waking(t.w, 1, (1ULL << 40) + i * 100000 + 1,
							 -(int32_t)i, 1, 120, COMM("w")),
					 0);
	}
	tw_close(&t);

	for (i = 0; i < t.trace->n_packet; i++) {
		Perfetto__Protos__FtraceEventBundle__CompactSched *cs =
			t.trace->packet[i]->ftrace_events->compact_sched;
		size_t k;

		for (k = 0; k < cs->n_switch_timestamp; k++)
			assert_int_equal(cs->switch_next_pid[k], 4000000 + switches + k);
		for (k = 0; k < cs->n_waking_timestamp; k++)
			assert_int_equal(cs->waking_pid[k], -(int32_t)(2 * (wakings + k) + 1));
		switches += cs->n_switch_timestamp;
		wakings += cs->n_waking_timestamp;
	}
	assert_int_equal(switches, 3000);
	assert_int_equal(wakings, 1500);
	tw_free(&t);
}

static void test_blocked_reason(void **state)
{
	Perfetto__Protos__FtraceEvent *ev;
	Packet *p;
	struct tw t;

	tw_open(&t);
	assert_int_equal(pf_sched_switch(t.w, 2, 500, 0, 42, 120, COMM("blocker")), 0);
	assert_int_equal(pf_sched_switch(t.w, 2, 1000, 2, 0, 120, COMM("swapper/2")), 0);
	assert_int_equal(pf_sched_blocked_reason(t.w, 2, 1001, 42, "io_schedule", true), 0);
	assert_int_equal(pf_sched_switch(t.w, 2, 2000, 0, 42, 120, COMM("blocker")), 0);
	assert_int_equal(pf_sched_switch(t.w, 2, 3000, 2, 0, 120, COMM("swapper/2")), 0);
	assert_int_equal(pf_sched_blocked_reason(t.w, 2, 3001, 42, "io_schedule", false), 0);
	tw_close(&t);

	/* compact(2 switches), blocked, compact(2 switches), blocked: order kept */
	assert_int_equal(t.trace->n_packet, 4);
	assert_non_null(t.trace->packet[0]->ftrace_events->compact_sched);
	assert_int_equal(t.trace->packet[0]->ftrace_events->compact_sched->n_switch_timestamp, 2);
	p = t.trace->packet[1];
	assert_int_equal(p->ftrace_events->cpu, 2);
	assert_null(p->ftrace_events->compact_sched);
	assert_int_equal(p->ftrace_events->n_event, 1);
	ev = p->ftrace_events->event[0];
	assert_int_equal(ev->timestamp, 1001);
	assert_int_equal(ev->pid, 42);
	assert_int_equal(ev->event_case,
			 PERFETTO__PROTOS__FTRACE_EVENT__EVENT_SCHED_BLOCKED_REASON);
	assert_int_equal(ev->sched_blocked_reason->pid, 42);
	assert_int_equal(ev->sched_blocked_reason->io_wait, 1);
	assert_int_equal(p->sequence_flags & SEQ_NEEDS, SEQ_NEEDS);
	assert_non_null(p->interned_data);
	assert_int_equal(p->interned_data->n_kernel_symbols, 1);
	assert_int_equal(p->interned_data->kernel_symbols[0]->iid,
			 ev->sched_blocked_reason->caller);
	assert_memory_equal(p->interned_data->kernel_symbols[0]->str.data, "io_schedule", 11);
	/* the second one reuses the symbol */
	assert_int_equal(t.trace->packet[2]->ftrace_events->compact_sched->n_switch_timestamp, 2);
	p = t.trace->packet[3];
	assert_null(p->interned_data);
	assert_int_equal(p->ftrace_events->event[0]->sched_blocked_reason->caller,
			 ev->sched_blocked_reason->caller);
	assert_int_equal(p->ftrace_events->event[0]->sched_blocked_reason->io_wait, 0);
	tw_free(&t);
}

/* --- tracks, flows, counters ------------------------------------------------------------------ */

static void test_tracks_flows_counters(void **state)
{
	uint64_t thr, thr2, proc, child, ctr, flows[2] = { 42, 43 }, term[1] = { 7 };
	size_t i, descriptors = 0;
	struct tw t;

	tw_open(&t);
	proc = pf_track_process(t.w, 100, "app");
	thr = pf_track_thread(t.w, 100, 101, "worker");
	thr2 = pf_track_thread(t.w, 100, 101, "worker"); /* same: no new descriptor */
	assert_int_equal(thr, thr2);
	child = pf_track_child(t.w, thr, "lock waits");
	ctr = pf_track_counter(t.w, proc, "queue depth");
	assert_true(proc && thr && child && ctr);
	assert_true(proc != thr && thr != child && child != ctr);
	assert_int_equal(pf_slice_begin(t.w, child, 10, "a", NULL, 0, flows, 2, term, 1), 0);
	assert_int_equal(pf_slice_end(t.w, child, 20), 0);
	assert_int_equal(pf_counter(t.w, ctr, 30, 1.5), 0);
	assert_int_equal(pf_track_thread(t.w, 100, 101, "renamed"), thr);
	assert_int_equal(pf_slice_begin(t.w, 0, 10, "a", NULL, 0, NULL, 0, NULL, 0), -EINVAL);
	tw_close(&t);

	for (i = 0; i < t.trace->n_packet; i++) {
		Packet *p = t.trace->packet[i];
		Perfetto__Protos__TrackDescriptor *td = p->track_descriptor;
		Perfetto__Protos__TrackEvent *ev = p->track_event;

		if (p->data_case == PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_DESCRIPTOR) {
			descriptors++;
			if (td->uuid == proc) {
				assert_int_equal(td->process->pid, 100);
				assert_string_equal(td->process->process_name, "app");
			} else if (td->uuid == thr) {
				assert_int_equal(td->thread->pid, 100);
				assert_int_equal(td->thread->tid, 101);
				assert_string_equal(td->thread->thread_name,
						    descriptors == 2 ? "worker" : "renamed");
			} else if (td->uuid == child) {
				assert_int_equal(td->parent_uuid, thr);
				assert_string_equal(td->name, "lock waits");
				assert_null(td->counter);
			} else {
				assert_int_equal(td->uuid, ctr);
				assert_int_equal(td->parent_uuid, proc);
				assert_non_null(td->counter);
				assert_string_equal(td->name, "queue depth");
			}
		} else if (ev->type == PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN) {
			assert_int_equal(ev->track_uuid, child);
			assert_int_equal(ev->n_flow_ids, 2);
			assert_int_equal(ev->flow_ids[1], 43);
			assert_int_equal(ev->n_terminating_flow_ids, 1);
			assert_int_equal(ev->terminating_flow_ids[0], 7);
			assert_int_equal(p->timestamp, 10);
		} else if (ev->type == PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END) {
			assert_int_equal(ev->track_uuid, child);
			assert_int_equal(ev->name_field_case,
					 PERFETTO__PROTOS__TRACK_EVENT__NAME_FIELD__NOT_SET);
			assert_int_equal(p->timestamp, 20);
		} else {
			assert_int_equal(ev->type,
					 PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER);
			assert_int_equal(ev->track_uuid, ctr);
			assert_int_equal(
				ev->counter_value_field_case,
				PERFETTO__PROTOS__TRACK_EVENT__COUNTER_VALUE_FIELD_DOUBLE_COUNTER_VALUE);
			assert_true(ev->double_counter_value == 1.5);
			assert_int_equal(p->timestamp, 30);
		}
	}
	assert_int_equal(descriptors, 5); /* process, thread, child, counter, renamed thread */
	tw_free(&t);
}

/* --- stacks ----------------------------------------------------------------------------------- */

/* The interned entries seen so far (no reset in these tests): resolve ids to strings. */
struct idx {
	const Perfetto__Protos__InternedString *fn[64], *path[64];
	const Perfetto__Protos__Frame *frame[64];
	const Perfetto__Protos__Mapping *map[64];
	const Perfetto__Protos__Callstack *cs[64];
};

static void idx_add(struct idx *x, const Perfetto__Protos__InternedData *d)
{
	size_t i;

	for (i = 0; i < d->n_function_names; i++) {
		assert_null(x->fn[d->function_names[i]->iid]); /* written once */
		x->fn[d->function_names[i]->iid] = d->function_names[i];
	}
	for (i = 0; i < d->n_mapping_paths; i++)
		x->path[d->mapping_paths[i]->iid] = d->mapping_paths[i];
	for (i = 0; i < d->n_mappings; i++)
		x->map[d->mappings[i]->iid] = d->mappings[i];
	for (i = 0; i < d->n_frames; i++) {
		assert_null(x->frame[d->frames[i]->iid]);
		x->frame[d->frames[i]->iid] = d->frames[i];
	}
	for (i = 0; i < d->n_callstacks; i++) {
		assert_null(x->cs[d->callstacks[i]->iid]);
		x->cs[d->callstacks[i]->iid] = d->callstacks[i];
	}
}

static void assert_str(const Perfetto__Protos__InternedString *s, const char *want)
{
	assert_non_null(s);
	assert_int_equal(s->str.len, strlen(want));
	assert_memory_equal(s->str.data, want, s->str.len);
}

/* A mapping's path the way readers rebuild it: "/" before every component. */
static void assert_map_path(const struct idx *x, uint64_t mapping_id, const char *want)
{
	const Perfetto__Protos__Mapping *m = x->map[mapping_id];
	char path[256] = "";
	size_t i;

	assert_non_null(m);
	for (i = 0; i < m->n_path_string_ids; i++) {
		const Perfetto__Protos__InternedString *c = x->path[m->path_string_ids[i]];

		assert_non_null(c);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%.*s", (int)c->str.len,
			 (const char *)c->str.data);
	}
	assert_string_equal(path, want);
}

static void test_callstack(void **state)
{
	/* innermost first, as the unwinder produces them */
	const struct pf_frame a[] = {
		{ "leaf", "/lib/libc.so.6", 0x10 },
		{ "mid", "/usr/bin/app", 0x20 },
		{ NULL, NULL, 0x30 },
	};
	const struct pf_frame b[] = {
		{ "other_leaf", "/lib/libc.so.6", 0x40 },
		{ "mid", "/usr/bin/app", 0x20 },
		{ NULL, NULL, 0x30 },
	};
	const Perfetto__Protos__Frame *f;
	const Perfetto__Protos__Callstack *cs;
	uint64_t ia, ia2, ib;
	size_t i, samples = 0;
	struct idx x = { 0 };
	struct tw t;

	tw_open(&t);
	ia = pf_callstack(t.w, a, 3);
	ia2 = pf_callstack(t.w, a, 3);
	ib = pf_callstack(t.w, b, 3);
	assert_true(ia > 0);
	assert_int_equal(ia, ia2);
	assert_true(ib > 0 && ib != ia);
	assert_int_equal(pf_perf_sample(t.w, 5000, 1, 100, 101, ia, PF_MODE_USER), 0);
	assert_int_equal(pf_perf_sample(t.w, 6000, 2, 100, 102, ib, PF_MODE_KERNEL), 0);
	assert_int_equal(pf_perf_sample(t.w, 6000, 2, 100, 102, 99, PF_MODE_KERNEL), -EINVAL);
	assert_int_equal(pf_callstack(t.w, NULL, 0), 0);
	tw_close(&t);

	/* ia2 wrote nothing: 2 interning packets + 2 samples */
	assert_int_equal(t.trace->n_packet, 4);
	for (i = 0; i < t.trace->n_packet; i++) {
		Packet *p = t.trace->packet[i];

		if (p->interned_data)
			idx_add(&x, p->interned_data);
		if (p->data_case != PERFETTO__PROTOS__TRACE_PACKET__DATA_PERF_SAMPLE)
			continue;
		samples++;
		assert_int_equal(p->sequence_flags & SEQ_NEEDS, SEQ_NEEDS);
		assert_true(p->has_timestamp);
		assert_non_null(x.cs[p->perf_sample->callstack_iid]);
		if (p->timestamp == 5000) {
			assert_int_equal(p->perf_sample->callstack_iid, ia);
			assert_int_equal(p->perf_sample->cpu_mode,
					 PERFETTO__PROTOS__PROFILING__CPU_MODE__MODE_USER);
			assert_int_equal(p->perf_sample->tid, 101);
		} else {
			assert_int_equal(p->perf_sample->callstack_iid, ib);
			assert_int_equal(p->perf_sample->cpu, 2);
		}
	}
	assert_int_equal(samples, 2);

	/* frame_ids are outermost first: the unknown frame, then mid, then leaf */
	cs = x.cs[ia];
	assert_int_equal(cs->n_frame_ids, 3);
	f = x.frame[cs->frame_ids[0]];
	assert_false(f->has_function_name_id && f->function_name_id);
	assert_int_equal(f->rel_pc, 0x30);
	assert_map_path(&x, f->mapping_id, "/[unknown]");
	f = x.frame[cs->frame_ids[1]];
	assert_str(x.fn[f->function_name_id], "mid");
	assert_map_path(&x, f->mapping_id, "/usr/bin/app");
	f = x.frame[cs->frame_ids[2]];
	assert_str(x.fn[f->function_name_id], "leaf");
	assert_int_equal(f->rel_pc, 0x10);
	assert_map_path(&x, f->mapping_id, "/lib/libc.so.6");
	/* b shares its two outer frames with a */
	assert_int_equal(x.cs[ib]->frame_ids[0], cs->frame_ids[0]);
	assert_int_equal(x.cs[ib]->frame_ids[1], cs->frame_ids[1]);
	assert_true(x.cs[ib]->frame_ids[2] != cs->frame_ids[2]);
	tw_free(&t);
}

/* --- bounded memory: clearing incremental state ----------------------------------------------- */

static void test_intern_reset(void **state)
{
	const struct pf_frame fr[] = { { "f", "/bin/x", 1 } };
	char names[40][16];
	const char *iid_name[64], *ever[64];
	size_t i, k = 0, clears = 0;
	uint64_t track, cs;
	struct tw t;

	tw_open(&t);
	assert_int_equal(pf_writer_set_intern_limit(t.w, 5), 0);
	track = pf_track_thread(t.w, 1, 1, "main");
	cs = pf_callstack(t.w, fr, 1); /* 4 entries: name, path, mapping, frame + stack = 5 */
	assert_int_equal(cs, 1);
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "slice-%zu", i);
		assert_int_equal(pf_instant(t.w, track, 100 + i, names[i], NULL, 0), 0);
	}
	/* the stack's handle went stale with the first clear; interning again gives a fresh one */
	assert_int_equal(pf_perf_sample(t.w, 500, 0, 1, 1, cs, PF_MODE_USER), -ESTALE);
	cs = pf_callstack(t.w, fr, 1);
	assert_int_equal(cs, 2);
	assert_int_equal(pf_perf_sample(t.w, 500, 0, 1, 1, cs, PF_MODE_USER), 0);
	tw_close(&t);

	/* replay as a reader: a clear forgets every id; every event must resolve to its name */
	memset(iid_name, 0, sizeof(iid_name));
	memset(ever, 0, sizeof(ever));
	for (i = 0; i < t.trace->n_packet; i++) {
		Packet *p = t.trace->packet[i];
		size_t j;

		if (p->sequence_flags & SEQ_CLEARED) {
			memset(iid_name, 0, sizeof(iid_name));
			clears++;
		}
		if (p->interned_data) {
			for (j = 0; j < p->interned_data->n_event_names; j++) {
				uint64_t iid = p->interned_data->event_names[j]->iid;

				assert_true(iid > 0 && iid < 64);
				assert_null(iid_name[iid]);
				/* ids go on across clears: one id never names two strings */
				assert_null(ever[iid]);
				iid_name[iid] = ever[iid] = p->interned_data->event_names[j]->name;
			}
		}
		if (p->data_case == PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_EVENT) {
			assert_true(p->track_event->name_iid < 64);
			assert_non_null(iid_name[p->track_event->name_iid]);
			assert_string_equal(iid_name[p->track_event->name_iid], names[k]);
			k++;
		}
		if (p->data_case == PERFETTO__PROTOS__TRACE_PACKET__DATA_PERF_SAMPLE)
			assert_int_equal(p->perf_sample->callstack_iid, cs);
	}
	assert_int_equal(k, 40);
	/* the first packet, one clear per 5 entries (stack, 8 x 5 names), then the new stack's */
	assert_int_equal(clears, 1 + 8 + 1);
	tw_free(&t);
}

/* --- truncation and errors -------------------------------------------------------------------- */

static void test_truncated(void **state)
{
	size_t ends[256], n, k;
	uint64_t track;
	Trace *tr;
	struct tw t;

	tw_open(&t);
	track = pf_track_thread(t.w, 1, 2, "t");
	for (k = 0; k < 20; k++) {
		assert_int_equal(pf_slice_begin(t.w, track, k * 10, k % 2 ? "odd" : "even", NULL, 0,
						NULL, 0, NULL, 0),
				 0);
		assert_int_equal(pf_slice_end(t.w, track, k * 10 + 5), 0);
		assert_int_equal(pf_sched_switch(t.w, 0, k * 10, 1, 2, 120, COMM("t")), 0);
	}
	tw_close(&t);
	n = frame_ends(t.data, t.len, ends, 256);
	assert_true(n > 3 && n < 256);
	/* a file cut after any whole packet is a trace of exactly those packets */
	for (k = 0; k < n; k++) {
		tr = perfetto__protos__trace__unpack(NULL, ends[k], t.data);
		assert_non_null(tr);
		assert_int_equal(tr->n_packet, k + 1);
		perfetto__protos__trace__free_unpacked(tr, NULL);
	}
	/* and cut inside a packet it is not (a reader drops the tail) */
	assert_null(perfetto__protos__trace__unpack(NULL, ends[1] - 1, t.data));
	tw_free(&t);
}

static void test_write_error_sticks(void **state)
{
	struct pf_writer *w;
	uint64_t track;
	int fd, i, err = 0;

	fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		skip();
	w = pf_writer_new(fd);
	assert_non_null(w);
	track = pf_track_thread(w, 1, 1, "t");
	assert_true(track > 0); /* still buffered */
	/* past the 64 KiB buffer the write fails */
	for (i = 0; i < 100000 && !err; i++)
		err = pf_slice_begin(w, track, (uint64_t)i, "a", NULL, 0, NULL, 0, NULL, 0);
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(pf_slice_end(w, track, 1), -ENOSPC);
	assert_int_equal(pf_counter(w, track, 1, 1.0), -ENOSPC);
	assert_int_equal(pf_sched_switch(w, 0, 1, 0, 1, 120, COMM("x")), -ENOSPC);
	assert_int_equal(pf_track_thread(w, 1, 2, "u"), 0);
	assert_int_equal(pf_callstack(w, &(struct pf_frame){ "f", "m", 1 }, 1), 0);
	assert_int_equal(pf_writer_close(w), -ENOSPC);
	close(fd);
}

/* --- a realistic small trace, left for the trace processor ------------------------------------ */

/*
 * Two threads of one process hand a lock back and forth on two CPUs; the file stays at
 * $WEFT_WRITER_TRACE (default /tmp/weft-test-writer.pftrace) for tests/tp checks.
 */
static void test_sample_trace(void **state)
{
	const char *path = getenv("WEFT_WRITER_TRACE");
	const struct pf_frame stack[] = {
		{ "futex_wait", "[kernel.kallsyms]", 0xffffffff81000000 },
		{ "pthread_mutex_lock", "/lib/x86_64-linux-gnu/libc.so.6", 0x9a0f0 },
		{ "worker", "/usr/bin/app", 0x1234 },
		{ "main", "/usr/bin/app", 0x1100 },
	};
	struct pf_arg arg = { .name = "lock", .type = PF_ARG_POINTER, .u = 0x7f0010 };
	uint64_t t1, t2, wait2, ctr, cs, base = 1000000000ULL, us = 1000;
	struct pf_writer *w;
	uint64_t flow = 1;
	int fd;

	if (!path)
		path = "/tmp/weft-test-writer.pftrace";
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	w = pf_writer_new(fd);
	assert_non_null(w);
	assert_int_equal(pf_system_info(w, "Linux", "6.8.0-weft", "x86_64"), 0);
	assert_int_equal(pf_process(w, 100, 1, "app", "/usr/bin/app --threads 2"), 0);
	assert_int_equal(pf_thread(w, 100, 100, "app"), 0);
	assert_int_equal(pf_thread(w, 101, 100, "worker-1"), 0);
	assert_int_equal(pf_thread(w, 102, 100, "worker-2"), 0);
	t1 = pf_track_thread(w, 100, 101, "worker-1");
	t2 = pf_track_thread(w, 100, 102, "worker-2");
	wait2 = pf_track_child(w, t2, "lock waits");
	ctr = pf_track_counter(w, pf_track_process(w, 100, "app"), "lock waiters");
	assert_true(t1 && t2 && wait2 && ctr);

	/*
	 * Both CPUs start idle: a reader takes the first switch of a CPU only as who is running.
	 * Then cpu0 runs 101; cpu1 runs 102, which blocks on the lock 101 holds.
	 */
	assert_int_equal(pf_sched_switch(w, 0, base - 10 * us, 0, 0, 120, COMM("swapper/0")), 0);
	assert_int_equal(pf_sched_switch(w, 1, base - 10 * us, 0, 0, 120, COMM("swapper/1")), 0);
	assert_int_equal(pf_sched_switch(w, 0, base, 0, 101, 120, COMM("worker-1")), 0);
	assert_int_equal(pf_sched_switch(w, 1, base + 1 * us, 0, 102, 120, COMM("worker-2")), 0);
	assert_int_equal(
		pf_slice_begin(w, t1, base + 2 * us, "hold lock", &arg, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(
		pf_slice_begin(w, wait2, base + 3 * us, "wait lock", &arg, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(pf_counter(w, ctr, base + 3 * us, 1), 0);
	assert_int_equal(pf_sched_switch(w, 1, base + 4 * us, 1, 0, 120, COMM("swapper/1")), 0);
	assert_int_equal(
		pf_sched_blocked_reason(w, 1, base + 4 * us, 102, "futex_wait_queue", false), 0);
	cs = pf_callstack(w, stack, 4);
	assert_true(cs > 0);
	assert_int_equal(pf_perf_sample(w, base + 4 * us, 1, 100, 102, cs, PF_MODE_KERNEL), 0);
	/* 101 releases and wakes 102 (from cpu0, running 101) */
	assert_int_equal(pf_slice_end(w, t1, base + 50 * us), 0);
	assert_int_equal(pf_instant(w, t1, base + 50 * us, "unlock", NULL, 0), 0);
	assert_int_equal(pf_slice_begin(w, t1, base + 50 * us, "wake", NULL, 0, &flow, 1, NULL, 0),
			 0);
	assert_int_equal(pf_slice_end(w, t1, base + 51 * us), 0);
	assert_int_equal(pf_sched_waking(w, 0, base + 50 * us, 102, 1, 120, COMM("worker-2")), 0);
	assert_int_equal(pf_sched_switch(w, 1, base + 55 * us, 0, 102, 120, COMM("worker-2")), 0);
	assert_int_equal(pf_slice_end(w, wait2, base + 56 * us), 0);
	assert_int_equal(pf_counter(w, ctr, base + 56 * us, 0), 0);
	assert_int_equal(
		pf_slice_begin(w, t2, base + 56 * us, "got lock", NULL, 0, NULL, 0, &flow, 1), 0);
	assert_int_equal(pf_slice_end(w, t2, base + 80 * us), 0);
	assert_int_equal(pf_sched_switch(w, 1, base + 90 * us, 1, 0, 120, COMM("swapper/1")), 0);
	assert_int_equal(pf_sched_switch(w, 0, base + 95 * us, 1, 0, 120, COMM("swapper/0")), 0);
	assert_int_equal(pf_sched_switch(w, 1, base + 99 * us, 0, 102, 120, COMM("worker-2")), 0);
	assert_int_equal(pf_writer_close(w), 0);
	close(fd);
}

/* Scheduling data, names, stacks and slices: enough packets for several compressed batches. */
static void write_mixed(struct pf_writer *w)
{
	struct pf_frame frames[2] = { { "leaf", "/usr/lib/libc.so.6", 0x10 },
				      { "main", "/usr/bin/app", 0x20 } };
	uint64_t track, iid;

	assert_int_equal(pf_system_info(w, "Linux", "6.8.0", "x86_64"), 0);
	assert_int_equal(pf_process(w, 100, 1, "app", "/usr/bin/app"), 0);
	assert_int_equal(pf_thread(w, 101, 100, "worker"), 0);
	track = pf_track_thread(w, 100, 101, "worker");
	for (int i = 0; i < 30000; i++) {
		assert_int_equal(pf_sched_switch(w, i % 2, 1000 + i * 3000, 1, i % 3 ? 101 : 0, 120,
						 i % 3 ? COMM("worker") : COMM("swapper")),
				 0);
		if (i % 3 == 1)
			assert_int_equal(pf_sched_waking(w, i % 2, 1000 + i * 3000 + 5, 101, 0, 120,
							 COMM("worker")),
					 0);
		if (i % 1000 == 0) {
			iid = pf_callstack(w, frames, 2);
			assert_int_equal(pf_perf_sample(w, 1000 + i * 3000, 0, 100, 101, iid,
							PF_MODE_USER),
					 0);
			assert_int_equal(pf_slice_begin(w, track, 1000 + i * 3000, "wait", NULL, 0,
							NULL, 0, NULL, 0),
					 0);
			assert_int_equal(pf_slice_end(w, track, 2000 + i * 3000), 0);
		}
	}
}

/*
 * Compressed, the trace is a few packets whose compressed_packets (50) inflate to exactly the
 * packets the writer writes uncompressed, in the same order; and much smaller.
 */
static void test_compressed_packets(void **state)
{
	struct tw plain, packed;
	uint8_t *inflated = NULL;
	size_t len = 0;

	tw_open(&plain);
	write_mixed(plain.w);
	tw_close(&plain);
	tw_open(&packed);
	assert_int_equal(pf_writer_set_compression(packed.w, true), 0);
	write_mixed(packed.w);
	tw_close(&packed);

	assert_true(packed.trace->n_packet > 1);
	assert_true(packed.len * 2 < plain.len);
	for (size_t i = 0; i < packed.trace->n_packet; i++) {
		Packet *p = packed.trace->packet[i];
		uLongf n = plain.len - len;

		assert_int_equal(p->data_case, PERFETTO__PROTOS__TRACE_PACKET__DATA_COMPRESSED_PACKETS);
		assert_true(n > 0);
		inflated = realloc(inflated, plain.len);
		assert_non_null(inflated);
		assert_int_equal(uncompress(inflated + len, &n, p->compressed_packets.data,
					    p->compressed_packets.len),
				 Z_OK);
		len += n;
	}
	assert_int_equal(len, plain.len);
	assert_memory_equal(inflated, plain.data, len);
	free(inflated);
	tw_free(&plain);
	tw_free(&packed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_and_flags),
		cmocka_unit_test(test_bytes_counted),
		cmocka_unit_test(test_interning),
		cmocka_unit_test(test_compact_sched),
		cmocka_unit_test(test_compact_sched_full_bundle),
		cmocka_unit_test(test_compact_sched_comm_bytes),
		cmocka_unit_test(test_compact_sched_grows),
		cmocka_unit_test(test_blocked_reason),
		cmocka_unit_test(test_annotation_types),
		cmocka_unit_test(test_tracks_flows_counters),
		cmocka_unit_test(test_callstack),
		cmocka_unit_test(test_intern_reset),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_write_error_sticks),
		cmocka_unit_test(test_sample_trace),
		cmocka_unit_test(test_compressed_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
