// SPDX-License-Identifier: MIT
/* Streaming Perfetto trace writer: packet framing, sequence state, interning and tracks. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "perfetto/compact_sched.h"
#include "perfetto/deflate.h"
#include "perfetto/intern.h"
#include "perfetto/wire.h"
#include "perfetto/writer.h"
#include "perfetto_trace.pb-c.h"

#define PF_BUF_SIZE (64 * 1024)
/* Interned entries kept before incremental state is cleared: bounds the writer's memory. */
#define PF_INTERN_LIMIT 200000
/* Switches + wakings per compact_sched bundle: at most ~230 KiB of arrays per CPU. */
#define PF_SCHED_BUNDLE_MAX 4096
#define PF_MAX_CPUS	    4096
#define PF_SCRATCH_CHUNK    (16 * 1024)
/* One writer is one packet sequence; any non-zero id will do, it only has to be stable. */
#define PF_SEQ_ID 1
/* Field numbers for the packets written by hand (perfetto_trace.proto). */
#define TRACE_PACKET 1
#define PACKET_FTRACE_EVENTS 1
#define PACKET_TIMESTAMP 8
#define PACKET_SEQUENCE_ID 10
#define PACKET_TRACK_EVENT 11
#define PACKET_INTERNED_DATA 12
#define PACKET_SEQUENCE_FLAGS 13
#define PACKET_COMPRESSED 50
#define TE_DEBUG_ANNOTATIONS 4
#define TE_TYPE 9
#define TE_NAME_IID 10
#define TE_TRACK_UUID 11
#define TE_FLOW_IDS 36
#define TE_TERMINATING_FLOW_IDS 42
#define TE_DOUBLE_COUNTER_VALUE 44
#define DA_NAME_IID 1
#define DA_UINT_VALUE 3
#define DA_INT_VALUE 4
#define DA_DOUBLE_VALUE 5
#define DA_STRING_VALUE 6
#define DA_POINTER_VALUE 7
#define INTERNED_EVENT_NAMES 2
#define INTERNED_ANNOTATION_NAMES 3
#define NAME_IID 1 /* EventName and DebugAnnotationName */
#define NAME_NAME 2
/* Packets deflated together: big enough for the window to find repeats across bundles. */
#define PF_COMPRESS_BATCH (64 * 1024)

#define SEQ_CLEARED PERFETTO__PROTOS__TRACE_PACKET__SEQUENCE_FLAGS__SEQ_INCREMENTAL_STATE_CLEARED
#define SEQ_NEEDS   PERFETTO__PROTOS__TRACE_PACKET__SEQUENCE_FLAGS__SEQ_NEEDS_INCREMENTAL_STATE

typedef Perfetto__Protos__TracePacket Packet;
typedef Perfetto__Protos__InternedData InternedData;
typedef Perfetto__Protos__InternedString InternedString;

struct pf_scratch_chunk {
	struct pf_scratch_chunk *next;
	size_t len, cap;
	char data[] __attribute__((aligned(16)));
};

struct pf_track {
	uint64_t uuid;
	char *name; /* what the descriptor said, to re-describe a renamed thread */
};

enum pf_track_kind { PF_TRACK_THREAD = 1, PF_TRACK_PROCESS = 2 };

struct pf_track_key {
	uint32_t kind;
	int32_t pid;
	int32_t tid;
};

struct pf_writer {
	int fd;
	int err; /* first failure to write, sticky */
	uint64_t bytes;
	uint8_t *buf;
	size_t buf_len;

	/* incremental state of the sequence: the interning tables, one id space each */
	bool clear_pending; /* next packet says SEQ_INCREMENTAL_STATE_CLEARED */
	size_t intern_limit;
	struct pf_intern event_names, annot_names, function_names, mapping_paths, mappings, frames,
		callstacks, kernel_symbols;

	struct pf_csched **cpus;
	size_t ncpus;
	struct pf_bytes bundle; /* one CPU's bundle, being written */

	/* tracks are not incremental state: their uuids stay valid for the whole trace */
	uint64_t next_uuid;
	struct pf_intern track_keys;
	struct pf_track *tracks; /* tracks[key id - 1] */
	size_t tracks_cap;

	/* compression (off unless asked for): whole packets wait in batch, deflated into zout */
	struct pf_deflate *z;
	struct pf_bytes batch, zout;

	struct pf_scratch_chunk *scratch;
	uint8_t *pack;      /* one packet, packed contiguously */
	size_t pack_cap;

	/* a track event being encoded by hand: the packet, its TrackEvent, its InternedData and
	 * one DebugAnnotation */
	struct pf_bytes te_packet, te_event, te_interned, te_annotation;
};

/* --- scratch memory for one packet's messages ------------------------------------------------- */

static void *scratch_alloc(struct pf_writer *w, size_t size)
{
	struct pf_scratch_chunk *c = w->scratch;
	size_t cap;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->cap - c->len < size) {
		cap = size > PF_SCRATCH_CHUNK ? size : PF_SCRATCH_CHUNK;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = w->scratch;
		c->len = 0;
		c->cap = cap;
		w->scratch = c;
	}
	p = c->data + c->len;
	c->len += size;
	memset(p, 0, size);
	return p;
}

/* Keeps one standard chunk so that the common packet allocates nothing. */
static void scratch_reset(struct pf_writer *w)
{
	struct pf_scratch_chunk *c = w->scratch, *next, *keep = NULL;

	for (; c; c = next) {
		next = c->next;
		if (!keep && c->cap == PF_SCRATCH_CHUNK) {
			keep = c;
			continue;
		}
		free(c);
	}
	if (keep) {
		keep->next = NULL;
		keep->len = 0;
	}
	w->scratch = keep;
}

/* --- output: 64 KiB buffer in front of the fd ------------------------------------------------- */

static int buf_flush(struct pf_writer *w)
{
	size_t off = 0;
	ssize_t n;

	while (!w->err && off < w->buf_len) {
		n = write(w->fd, w->buf + off, w->buf_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			w->err = -errno;
		else if (n == 0)
			w->err = -EIO;
		else
			off += (size_t)n;
	}
	w->buf_len = 0;
	return w->err;
}

static void buf_put(struct pf_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	while (len && !w->err) {
		n = PF_BUF_SIZE - w->buf_len;
		if (n > len)
			n = len;
		memcpy(w->buf + w->buf_len, p, n);
		w->buf_len += n;
		w->bytes += n;
		p += n;
		len -= n;
		if (w->buf_len == PF_BUF_SIZE)
			buf_flush(w);
	}
}

/* --- compression: packets batched into TracePacket.compressed_packets ------------------------ */

/* Bytes of a packet being written: to the output, or to the batch to compress. */
static void packet_put(struct pf_writer *w, const void *data, size_t len)
{
	int err;

	if (!w->z) {
		buf_put(w, data, len);
		return;
	}
	err = pf_bytes_put(&w->batch, data, len);
	if (err && !w->err)
		w->err = err;
}

/*
 * The batch goes out as one packet whose compressed_packets field holds its packets, framed
 * as in a Trace and deflated; the trace processor inflates them and reads them in order:
 *
 *   0x0A varint(len) | 0x92 0x03 varint(zlen) | zlib stream of (0x0A varint(len) packet)...
 */
static int batch_flush(struct pf_writer *w)
{
	uint8_t hdr[3 * PF_VARINT_MAX];
	size_t n = 0, inner;
	int err;

	if (w->err || !w->z || !w->batch.len)
		return w->err;
	w->zout.len = 0;
	err = pf_deflate(w->z, w->batch.p, w->batch.len, &w->zout);
	w->batch.len = 0;
	if (err)
		return w->err = err;
	inner = pf_varint_len(PACKET_COMPRESSED << 3 | 2) + pf_varint_len(w->zout.len) + w->zout.len;
	hdr[n++] = PF_TAG_BYTES(TRACE_PACKET);
	n += pf_varint_put(hdr + n, inner);
	n += pf_varint_put(hdr + n, PACKET_COMPRESSED << 3 | 2); /* length-delimited, 2-byte key */
	n += pf_varint_put(hdr + n, w->zout.len);
	buf_put(w, hdr, n);
	buf_put(w, w->zout.p, w->zout.len);
	return w->err;
}

/* A whole packet has been put: a full batch is compressed now. */
static int packet_end(struct pf_writer *w)
{
	if (w->z && w->batch.len >= PF_COMPRESS_BATCH)
		batch_flush(w);
	return w->err;
}

int pf_writer_set_compression(struct pf_writer *w, bool on)
{
	if (!w)
		return -EINVAL;
	if (!on) {
		batch_flush(w);
		free(w->z);
		w->z = NULL;
		return w->err;
	}
	if (!w->z) {
		w->z = malloc(sizeof(*w->z));
		if (!w->z)
			return -ENOMEM;
		pf_deflate_init(w->z);
	}
	return 0;
}

static bool interned_empty(const InternedData *d)
{
	return !(d->n_event_names || d->n_debug_annotation_names || d->n_function_names ||
		 d->n_frames || d->n_callstacks || d->n_mapping_paths || d->n_mappings ||
		 d->n_kernel_symbols);
}

/*
 * Frames one packet as a Trace.packet field, so packets simply concatenate:
 *
 *   0x0A | varint(len) | TracePacket bytes      (0x0A = field 1, length-delimited)
 *
 * The packet is streamed through the buffer, so its size is not limited by the buffer's.
 * needs_state: the packet refers to interned data (or a reader must see the state as valid).
 */
/* The packet's sequence_flags (0: none): the first packet after a clear announces it. */
static uint32_t sequence_flags(struct pf_writer *w, bool needs_state)
{
	if (w->clear_pending) {
		w->clear_pending = false;
		return SEQ_CLEARED | SEQ_NEEDS;
	}
	return needs_state ? SEQ_NEEDS : 0;
}

/* The Trace.packet key and length in front of a packet of len bytes. */
static void frame_put(struct pf_writer *w, size_t len)
{
	uint8_t hdr[1 + PF_VARINT_MAX];

	hdr[0] = PF_TAG_BYTES(TRACE_PACKET);
	packet_put(w, hdr, 1 + pf_varint_put(hdr + 1, len));
}

static int emit(struct pf_writer *w, Packet *pkt, bool needs_state)
{
	uint32_t flags;
	size_t len;

	if (w->err)
		return w->err;
	pkt->optional_trusted_packet_sequence_id_case =
		PERFETTO__PROTOS__TRACE_PACKET__OPTIONAL_TRUSTED_PACKET_SEQUENCE_ID_TRUSTED_PACKET_SEQUENCE_ID;
	pkt->trusted_packet_sequence_id = PF_SEQ_ID;
	flags = sequence_flags(w, needs_state);
	if (flags) {
		pkt->has_sequence_flags = 1;
		pkt->sequence_flags = flags;
	}
	if (pkt->interned_data && interned_empty(pkt->interned_data))
		pkt->interned_data = NULL;

	len = protobuf_c_message_get_packed_size(&pkt->base);
	/* Packing into one buffer and copying once is several times faster than protobuf-c's
	 * streaming packer, which calls back for every element of the packed arrays. */
	if (len > w->pack_cap) {
		size_t cap = w->pack_cap ? w->pack_cap : 4096;
		uint8_t *p;

		while (cap < len)
			cap *= 2;
		p = realloc(w->pack, cap);
		if (!p)
			return w->err = -ENOMEM;
		w->pack = p;
		w->pack_cap = cap;
	}
	protobuf_c_message_pack(&pkt->base, w->pack);
	frame_put(w, len);
	packet_put(w, w->pack, len);
	return packet_end(w);
}

/* The sequence id and flags that end every packet written by hand; returns their bytes. */
static size_t packet_tail(struct pf_writer *w, bool needs_state,
			  uint8_t tail[2 * (1 + PF_VARINT_MAX)])
{
	uint32_t flags = sequence_flags(w, needs_state);
	size_t n = 0;

	tail[n++] = PF_TAG_VARINT(PACKET_SEQUENCE_ID);
	n += pf_varint_put(tail + n, PF_SEQ_ID);
	if (flags) {
		tail[n++] = PF_TAG_VARINT(PACKET_SEQUENCE_FLAGS);
		n += pf_varint_put(tail + n, flags);
	}
	return n;
}

/* A TracePacket holding an already encoded FtraceEventBundle, written without protobuf-c. */
static int emit_ftrace_bundle(struct pf_writer *w, const struct pf_bytes *bundle)
{
	uint8_t head[1 + PF_VARINT_MAX], tail[2 * (1 + PF_VARINT_MAX)];
	size_t nhead = 0, ntail = packet_tail(w, false, tail);

	head[nhead++] = PF_TAG_BYTES(PACKET_FTRACE_EVENTS);
	nhead += pf_varint_put(head + nhead, bundle->len);
	frame_put(w, nhead + bundle->len + ntail);
	packet_put(w, head, nhead);
	packet_put(w, bundle->p, bundle->len);
	packet_put(w, tail, ntail);
	return packet_end(w);
}

/* A TracePacket whose other fields are encoded in body already. */
static int emit_encoded(struct pf_writer *w, const struct pf_bytes *body, bool needs_state)
{
	uint8_t tail[2 * (1 + PF_VARINT_MAX)];
	size_t ntail = packet_tail(w, needs_state, tail);

	frame_put(w, body->len + ntail);
	packet_put(w, body->p, body->len);
	packet_put(w, tail, ntail);
	return packet_end(w);
}

/* --- interning -------------------------------------------------------------------------------- */

static struct pf_intern *intern_tables(struct pf_writer *w, size_t i)
{
	struct pf_intern *t[] = { &w->event_names,   &w->annot_names,	&w->function_names,
				  &w->mapping_paths, &w->mappings,	&w->frames,
				  &w->callstacks,    &w->kernel_symbols };

	return i < sizeof(t) / sizeof(t[0]) ? t[i] : NULL;
}

/*
 * Ids are not reused after a clear: the schema forbids one iid naming two values even across
 * clears, and Perfetto v20.1 keeps frames and callstacks by iid for the whole trace (reusing
 * ids there gave every sample the first stack ever written with that id).
 */
static void intern_reset(struct pf_writer *w)
{
	struct pf_intern *t;
	size_t i;

	for (i = 0; (t = intern_tables(w, i)); i++)
		pf_intern_retire(t);
	w->clear_pending = true;
}

/* Called before a packet interns anything, so the clear is announced by that very packet. */
static void intern_maybe_reset(struct pf_writer *w)
{
	struct pf_intern *t;
	size_t i, n = 0;

	for (i = 0; (t = intern_tables(w, i)); i++)
		n += pf_intern_count(t);
	if (n >= w->intern_limit)
		intern_reset(w);
}

/*
 * After a failure between interning an entry and writing it out, the tables would claim
 * entries the reader never saw: start over instead.
 */
static int intern_fail(struct pf_writer *w, int err)
{
	if (err && !w->err)
		intern_reset(w);
	return err;
}

/* Interns s[0..len) in t; a new entry joins the packet's list (room reserved by the caller). */
static int intern_bytes(struct pf_writer *w, struct pf_intern *t, const char *s, size_t len,
			InternedString **list, size_t *n, uint64_t *iid)
{
	InternedString *is;
	int ret;

	ret = pf_intern_get(t, s, len, iid);
	if (ret <= 0)
		return ret;
	is = scratch_alloc(w, sizeof(*is));
	if (!is)
		return -ENOMEM;
	perfetto__protos__interned_string__init(is);
	is->has_iid = 1;
	is->iid = *iid;
	is->has_str = 1;
	is->str.len = len;
	is->str.data = (uint8_t *)s;
	list[(*n)++] = is;
	return 0;
}

static int intern_string(struct pf_writer *w, struct pf_intern *t, const char *s,
			 InternedString **list, size_t *n, uint64_t *iid)
{
	return intern_bytes(w, t, s, strlen(s), list, n, iid);
}

/* --- writer lifetime -------------------------------------------------------------------------- */

struct pf_writer *pf_writer_new(int fd)
{
	struct pf_writer *w;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->buf = malloc(PF_BUF_SIZE);
	if (!w->buf) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->fd = fd;
	w->clear_pending = true;
	w->intern_limit = PF_INTERN_LIMIT;
	w->next_uuid = 1;
	return w;
}

uint64_t pf_writer_bytes(const struct pf_writer *w)
{
	return w ? w->bytes : 0;
}

int pf_writer_set_intern_limit(struct pf_writer *w, size_t max_entries)
{
	if (!w || !max_entries)
		return -EINVAL;
	w->intern_limit = max_entries;
	return 0;
}

int pf_writer_flush(struct pf_writer *w)
{
	int err;

	if (!w)
		return -EINVAL;
	err = pf_sched_flush(w);
	err = err ?: batch_flush(w);
	if (err)
		return err;
	return buf_flush(w);
}

int pf_writer_close(struct pf_writer *w)
{
	struct pf_intern *t;
	size_t i;
	int err;

	if (!w)
		return -EINVAL;
	err = pf_writer_flush(w);
	for (i = 0; (t = intern_tables(w, i)); i++)
		pf_intern_free(t);
	for (i = 0; i < w->ncpus; i++) {
		if (w->cpus[i])
			pf_csched_free(w->cpus[i]);
		free(w->cpus[i]);
	}
	free(w->cpus);
	pf_bytes_free(&w->bundle);
	pf_bytes_free(&w->batch);
	pf_bytes_free(&w->zout);
	pf_bytes_free(&w->te_packet);
	pf_bytes_free(&w->te_event);
	pf_bytes_free(&w->te_interned);
	pf_bytes_free(&w->te_annotation);
	free(w->z);
	for (i = 0; i < pf_intern_count(&w->track_keys); i++)
		free(w->tracks[i].name);
	free(w->tracks);
	pf_intern_free(&w->track_keys);
	scratch_reset(w);
	free(w->scratch);
	free(w->pack);
	free(w->buf);
	free(w);
	return err;
}

/* --- metadata --------------------------------------------------------------------------------- */

int pf_system_info(struct pf_writer *w, const char *sysname, const char *release,
		   const char *machine)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;
	Perfetto__Protos__SystemInfo si = PERFETTO__PROTOS__SYSTEM_INFO__INIT;
	Perfetto__Protos__Utsname uts = PERFETTO__PROTOS__UTSNAME__INIT;

	if (w->err)
		return w->err;
	/* the trace processor reads release to decode prev_state (e.g. R+ from 4.14 on) */
	uts.sysname = (char *)sysname;
	uts.release = (char *)release;
	uts.machine = (char *)machine;
	si.utsname = &uts;
	pkt.data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_SYSTEM_INFO;
	pkt.system_info = &si;
	return emit(w, &pkt, false);
}

/*
 * The trace processor names a process after cmdline[0] and shows the joined cmdline, so the
 * command line goes in split at spaces; without one, the name stands in as argv[0].
 */
int pf_process(struct pf_writer *w, int32_t pid, int32_t ppid, const char *name,
	       const char *cmdline)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;
	Perfetto__Protos__ProcessTree tree = PERFETTO__PROTOS__PROCESS_TREE__INIT;
	Perfetto__Protos__ProcessTree__Process proc = PERFETTO__PROTOS__PROCESS_TREE__PROCESS__INIT;
	Perfetto__Protos__ProcessTree__Process *procs[1] = { &proc };
	char *copy = NULL, *tok, *save = NULL;
	size_t len;
	int err;

	if (w->err)
		return w->err;
	proc.has_pid = 1;
	proc.pid = pid;
	proc.has_ppid = 1;
	proc.ppid = ppid;
	if (cmdline && *cmdline) {
		len = strlen(cmdline);
		copy = scratch_alloc(w, len + 1);
		/* at most one argument per two bytes ("a b c") */
		proc.cmdline = scratch_alloc(w, (len / 2 + 1) * sizeof(char *));
		err = -ENOMEM;
		if (!copy || !proc.cmdline)
			goto out;
		memcpy(copy, cmdline, len + 1);
		for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			proc.cmdline[proc.n_cmdline++] = tok;
	} else if (name) {
		proc.cmdline = scratch_alloc(w, sizeof(char *));
		err = -ENOMEM;
		if (!proc.cmdline)
			goto out;
		proc.cmdline[proc.n_cmdline++] = (char *)name;
	}
	tree.n_processes = 1;
	tree.processes = procs;
	pkt.data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_PROCESS_TREE;
	pkt.process_tree = &tree;
	err = emit(w, &pkt, false);
out:
	scratch_reset(w);
	return err;
}

int pf_thread(struct pf_writer *w, int32_t tid, int32_t pid, const char *name)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;
	Perfetto__Protos__ProcessTree tree = PERFETTO__PROTOS__PROCESS_TREE__INIT;
	Perfetto__Protos__ProcessTree__Thread th = PERFETTO__PROTOS__PROCESS_TREE__THREAD__INIT;
	Perfetto__Protos__ProcessTree__Thread *threads[1] = { &th };

	if (w->err)
		return w->err;
	th.has_tid = 1;
	th.tid = tid;
	th.has_tgid = 1;
	th.tgid = pid;
	th.name = (char *)name;
	tree.n_threads = 1;
	tree.threads = threads;
	pkt.data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_PROCESS_TREE;
	pkt.process_tree = &tree;
	return emit(w, &pkt, false);
}

/* --- scheduling ------------------------------------------------------------------------------- */

/* cpu_sched() for a CPU without a bundle yet, or a writer in error: out of line (cold). */
__attribute__((noinline, cold)) static int cpu_sched_make(struct pf_writer *w, uint32_t cpu,
							  struct pf_csched **out)
{
	struct pf_csched **cpus;
	size_t n;

	if (w->err)
		return w->err;
	if (cpu >= PF_MAX_CPUS)
		return -EINVAL;
	if (cpu >= w->ncpus) {
		n = cpu < 64 ? 64 : (size_t)cpu + 1;
		cpus = realloc(w->cpus, n * sizeof(*cpus));
		if (!cpus)
			return -ENOMEM;
		memset(cpus + w->ncpus, 0, (n - w->ncpus) * sizeof(*cpus));
		w->cpus = cpus;
		w->ncpus = n;
	}
	if (!w->cpus[cpu]) {
		w->cpus[cpu] = calloc(1, sizeof(**w->cpus));
		if (!w->cpus[cpu])
			return -ENOMEM;
	}
	*out = w->cpus[cpu];
	return 0;
}

/*
 * The pending bundle of `cpu` (made on first use); fails with the writer's sticky error. Every
 * switch and waking comes through here: the common case is inlined.
 */
static inline int cpu_sched(struct pf_writer *w, uint32_t cpu, struct pf_csched **out)
{
	if (!w->err && cpu < w->ncpus && w->cpus[cpu]) {
		*out = w->cpus[cpu];
		return 0;
	}
	return cpu_sched_make(w, cpu, out);
}

static int sched_flush_cpu(struct pf_writer *w, uint32_t cpu)
{
	struct pf_csched *c = cpu < w->ncpus ? w->cpus[cpu] : NULL;
	int err;

	if (w->err)
		return w->err;
	if (!c || !pf_csched_count(c))
		return 0;
	w->bundle.len = 0;
	err = pf_csched_encode(c, cpu, &w->bundle);
	pf_csched_reset(c);
	return err ? (w->err = err) : emit_ftrace_bundle(w, &w->bundle);
}

/* A bundle that reached its size goes out now: memory stays bounded between flushes. */
static int sched_appended(struct pf_writer *w, uint32_t cpu, struct pf_csched *c)
{
	return pf_csched_count(c) >= PF_SCHED_BUNDLE_MAX ? sched_flush_cpu(w, cpu) : 0;
}

int pf_sched_switch(struct pf_writer *w, uint32_t cpu, uint64_t ts, int64_t prev_state,
		    int32_t next_pid, int32_t next_prio, const char *next_comm)
{
	struct pf_csched *c;
	int err;

	err = cpu_sched(w, cpu, &c);
	if (err)
		return err;
	err = pf_csched_switch(c, ts, prev_state, next_pid, next_prio, next_comm);
	return err ? err : sched_appended(w, cpu, c);
}

int pf_sched_waking(struct pf_writer *w, uint32_t cpu, uint64_t ts, int32_t pid, int32_t target_cpu,
		    int32_t prio, const char *comm)
{
	struct pf_csched *c;
	int err;

	err = cpu_sched(w, cpu, &c);
	if (err)
		return err;
	err = pf_csched_waking(c, ts, pid, target_cpu, prio, comm);
	return err ? err : sched_appended(w, cpu, c);
}

/*
 * A plain FtraceEvent in its own bundle. The trace processor attaches the blocked function to
 * the sleep that the last switch of pid opened, so that switch must be out first: flush the
 * CPU's compact data before.
 */
int pf_sched_blocked_reason(struct pf_writer *w, uint32_t cpu, uint64_t ts, int32_t pid,
			    const char *caller, bool io_wait)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;
	InternedData idata = PERFETTO__PROTOS__INTERNED_DATA__INIT;
	InternedString *ksyms[1];
	Perfetto__Protos__FtraceEventBundle bundle = PERFETTO__PROTOS__FTRACE_EVENT_BUNDLE__INIT;
	Perfetto__Protos__FtraceEvent ev = PERFETTO__PROTOS__FTRACE_EVENT__INIT;
	Perfetto__Protos__FtraceEvent *events[1] = { &ev };
	Perfetto__Protos__SchedBlockedReasonFtraceEvent br =
		PERFETTO__PROTOS__SCHED_BLOCKED_REASON_FTRACE_EVENT__INIT;
	int err;

	if (w->err)
		return w->err;
	if (cpu >= PF_MAX_CPUS)
		return -EINVAL;
	err = sched_flush_cpu(w, cpu);
	if (err)
		return err;
	intern_maybe_reset(w);
	br.has_pid = 1;
	br.pid = pid;
	br.has_io_wait = 1;
	br.io_wait = io_wait;
	if (caller) {
		idata.kernel_symbols = ksyms;
		err = intern_string(w, &w->kernel_symbols, caller, ksyms, &idata.n_kernel_symbols,
				    &br.caller);
		if (err)
			goto out;
		br.has_caller = 1;
	}
	ev.has_timestamp = 1;
	ev.timestamp = ts;
	ev.has_pid = 1;
	ev.pid = (uint32_t)pid;
	ev.event_case = PERFETTO__PROTOS__FTRACE_EVENT__EVENT_SCHED_BLOCKED_REASON;
	ev.sched_blocked_reason = &br;
	bundle.has_cpu = 1;
	bundle.cpu = cpu;
	bundle.n_event = 1;
	bundle.event = events;
	pkt.data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_FTRACE_EVENTS;
	pkt.ftrace_events = &bundle;
	pkt.interned_data = &idata;
	err = emit(w, &pkt, true);
out:
	scratch_reset(w);
	return intern_fail(w, err);
}

int pf_sched_flush(struct pf_writer *w)
{
	size_t cpu;
	int err = w->err;

	for (cpu = 0; !err && cpu < w->ncpus; cpu++)
		err = sched_flush_cpu(w, (uint32_t)cpu);
	return err;
}

/* --- stacks ----------------------------------------------------------------------------------- */

/* The Frame index key: equal frames (same function, mapping and pc) share one iid. */
struct pf_frame_key {
	uint64_t function_iid;
	uint64_t mapping_iid;
	uint64_t rel_pc;
};

/* Upper bound of the components of a mapping path ("/usr/bin/app": 3). */
static size_t path_components(const char *path)
{
	size_t n = 1;

	for (; *path; path++)
		n += *path == '/';
	return n;
}

static const char *frame_mapping(const struct pf_frame *f)
{
	return f->mapping ? f->mapping : "[unknown]";
}

/* Room in idata for the new entries that n frames can bring. */
static int stack_reserve(struct pf_writer *w, InternedData *d, const struct pf_frame *frames,
			 size_t n)
{
	size_t i, ncomp = 0;

	for (i = 0; i < n; i++)
		ncomp += path_components(frame_mapping(&frames[i]));
	d->function_names = scratch_alloc(w, n * sizeof(*d->function_names));
	d->mapping_paths = scratch_alloc(w, ncomp * sizeof(*d->mapping_paths));
	d->mappings = scratch_alloc(w, n * sizeof(*d->mappings));
	d->frames = scratch_alloc(w, n * sizeof(*d->frames));
	d->callstacks = scratch_alloc(w, sizeof(*d->callstacks));
	if (!d->function_names || !d->mapping_paths || !d->mappings || !d->frames || !d->callstacks)
		return -ENOMEM;
	return 0;
}

/*
 * One mapping per path: weft symbolizes itself, so rel_pc is all the reader needs. The path
 * goes out as components ("usr", "bin", "app"), which readers join as "/usr/bin/app"; a
 * path without a slash ("[kernel.kallsyms]") is one component and reads as "/[kernel.kallsyms]".
 */
static int intern_mapping(struct pf_writer *w, InternedData *d, const char *path, uint64_t *iid)
{
	Perfetto__Protos__Mapping *m;
	const char *p, *end;
	int ret;

	ret = pf_intern_get(&w->mappings, path, strlen(path), iid);
	if (ret <= 0)
		return ret;
	m = scratch_alloc(w, sizeof(*m));
	if (!m)
		return -ENOMEM;
	perfetto__protos__mapping__init(m);
	m->has_iid = 1;
	m->iid = *iid;
	m->path_string_ids = scratch_alloc(w, path_components(path) * sizeof(uint64_t));
	if (!m->path_string_ids)
		return -ENOMEM;
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, '/');
		if (end == p)
			continue;
		ret = intern_bytes(w, &w->mapping_paths, p, (size_t)(end - p), d->mapping_paths,
				   &d->n_mapping_paths,
				   &m->path_string_ids[m->n_path_string_ids++]);
		if (ret)
			return ret;
	}
	if (!m->n_path_string_ids) {
		/* "/" or "": keep it as it is */
		ret = intern_string(w, &w->mapping_paths, path, d->mapping_paths,
				    &d->n_mapping_paths,
				    &m->path_string_ids[m->n_path_string_ids++]);
		if (ret)
			return ret;
	}
	d->mappings[d->n_mappings++] = m;
	return 0;
}

static int intern_frame(struct pf_writer *w, InternedData *d, const struct pf_frame *f,
			uint64_t *iid)
{
	struct pf_frame_key key = { .rel_pc = f->rel_pc };
	Perfetto__Protos__Frame *fr;
	int ret;

	if (f->function) {
		ret = intern_string(w, &w->function_names, f->function, d->function_names,
				    &d->n_function_names, &key.function_iid);
		if (ret)
			return ret;
	}
	ret = intern_mapping(w, d, frame_mapping(f), &key.mapping_iid);
	if (ret)
		return ret;
	ret = pf_intern_get(&w->frames, &key, sizeof(key), iid);
	if (ret <= 0)
		return ret;
	fr = scratch_alloc(w, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	perfetto__protos__frame__init(fr);
	fr->has_iid = 1;
	fr->iid = *iid;
	fr->has_function_name_id = !!key.function_iid;
	fr->function_name_id = key.function_iid;
	fr->has_mapping_id = 1;
	fr->mapping_id = key.mapping_iid;
	fr->has_rel_pc = 1;
	fr->rel_pc = key.rel_pc;
	d->frames[d->n_frames++] = fr;
	return 0;
}

/*
 * New entries go out at once in a packet of their own, so the returned iid can be used by any
 * later packet of the sequence (a PerfSample, or anything else that will refer to stacks).
 */
uint64_t pf_callstack(struct pf_writer *w, const struct pf_frame *frames, size_t n)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;
	InternedData idata = PERFETTO__PROTOS__INTERNED_DATA__INIT;
	Perfetto__Protos__Callstack *cs;
	uint64_t *frame_ids, iid = 0;
	size_t i;
	int err;

	if (w->err || !frames || !n || n > SIZE_MAX / (4 * sizeof(void *)))
		return 0;
	intern_maybe_reset(w);
	frame_ids = scratch_alloc(w, n * sizeof(*frame_ids));
	err = frame_ids ? stack_reserve(w, &idata, frames, n) : -ENOMEM;
	if (err)
		goto out;
	/* pf_frame arrays are innermost first, Callstack.frame_ids outermost first */
	for (i = 0; i < n; i++) {
		err = intern_frame(w, &idata, &frames[n - 1 - i], &frame_ids[i]);
		if (err)
			goto out;
	}
	err = pf_intern_get(&w->callstacks, frame_ids, n * sizeof(*frame_ids), &iid);
	if (err < 0)
		goto out;
	if (err == 1) {
		cs = scratch_alloc(w, sizeof(*cs));
		err = -ENOMEM;
		if (!cs)
			goto out;
		perfetto__protos__callstack__init(cs);
		cs->has_iid = 1;
		cs->iid = iid;
		cs->n_frame_ids = n;
		cs->frame_ids = frame_ids;
		idata.callstacks[idata.n_callstacks++] = cs;
	}
	err = 0;
	/* a known stack has only known frames: nothing to write */
	if (!interned_empty(&idata)) {
		pkt.interned_data = &idata;
		err = emit(w, &pkt, true);
	}
out:
	scratch_reset(w);
	if (intern_fail(w, err))
		return 0;
	return iid;
}

int pf_perf_sample(struct pf_writer *w, uint64_t ts, uint32_t cpu, int32_t pid, int32_t tid,
		   uint64_t callstack_iid, enum pf_cpu_mode mode)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;
	Perfetto__Protos__PerfSample ps = PERFETTO__PROTOS__PERF_SAMPLE__INIT;
	uint64_t iid = callstack_iid;

	if (w->err)
		return w->err;
	/* interned before the last clear of incremental state: the reader has forgotten it */
	if (iid && iid <= w->callstacks.base)
		return -ESTALE;
	if (iid > w->callstacks.base + pf_intern_count(&w->callstacks))
		return -EINVAL;
	ps.has_cpu = 1;
	ps.cpu = cpu;
	ps.has_pid = 1;
	ps.pid = (uint32_t)pid;
	ps.has_tid = 1;
	ps.tid = (uint32_t)tid;
	ps.has_callstack_iid = !!iid;
	ps.callstack_iid = iid;
	ps.has_cpu_mode = 1;
	switch (mode) {
	case PF_MODE_KERNEL:
		ps.cpu_mode = PERFETTO__PROTOS__PROFILING__CPU_MODE__MODE_KERNEL;
		break;
	case PF_MODE_USER:
		ps.cpu_mode = PERFETTO__PROTOS__PROFILING__CPU_MODE__MODE_USER;
		break;
	default:
		ps.cpu_mode = PERFETTO__PROTOS__PROFILING__CPU_MODE__MODE_UNKNOWN;
		break;
	}
	pkt.has_timestamp = 1;
	pkt.timestamp = ts;
	pkt.data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_PERF_SAMPLE;
	pkt.perf_sample = &ps;
	return emit(w, &pkt, true);
}

/* --- tracks ----------------------------------------------------------------------------------- */

static int emit_track(struct pf_writer *w, Perfetto__Protos__TrackDescriptor *td)
{
	Packet pkt = PERFETTO__PROTOS__TRACE_PACKET__INIT;

	pkt.data_case = PERFETTO__PROTOS__TRACE_PACKET__DATA_TRACK_DESCRIPTOR;
	pkt.track_descriptor = td;
	return emit(w, &pkt, false);
}

static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * Thread and process tracks: one uuid per (pid, tid), described once, and again only if the
 * name changes (a renamed thread), so callers may ask for the uuid at every event.
 */
static uint64_t track_keyed(struct pf_writer *w, uint32_t kind, int32_t pid, int32_t tid,
			    const char *name)
{
	Perfetto__Protos__TrackDescriptor td = PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
	Perfetto__Protos__ThreadDescriptor thd = PERFETTO__PROTOS__THREAD_DESCRIPTOR__INIT;
	Perfetto__Protos__ProcessDescriptor pd = PERFETTO__PROTOS__PROCESS_DESCRIPTOR__INIT;
	struct pf_track_key key = { .kind = kind, .pid = pid, .tid = tid };
	size_t n = pf_intern_count(&w->track_keys), cap;
	struct pf_track *tracks, *t;
	char *copy = NULL;
	uint64_t id;
	int ret;

	if (w->err)
		return 0;
	/* grow first: a key must never be in the table without its track */
	if (n == w->tracks_cap) {
		cap = w->tracks_cap ? w->tracks_cap * 2 : 64;
		tracks = realloc(w->tracks, cap * sizeof(*tracks));
		if (!tracks)
			return 0;
		w->tracks = tracks;
		w->tracks_cap = cap;
	}
	if (name) {
		copy = strdup(name);
		if (!copy)
			return 0;
	}
	ret = pf_intern_get(&w->track_keys, &key, sizeof(key), &id);
	if (ret < 0)
		goto fail;
	t = &w->tracks[id - 1];
	if (ret == 1) {
		t->uuid = w->next_uuid++;
		t->name = NULL;
	} else if (same_name(t->name, name)) {
		free(copy);
		return t->uuid;
	}
	free(t->name);
	t->name = copy;

	td.has_uuid = 1;
	td.uuid = t->uuid;
	if (kind == PF_TRACK_THREAD) {
		/* pid + tid make the trace processor merge this track with the scheduled thread */
		thd.has_pid = 1;
		thd.pid = pid;
		thd.has_tid = 1;
		thd.tid = tid;
		thd.thread_name = (char *)name;
		td.thread = &thd;
	} else {
		pd.has_pid = 1;
		pd.pid = pid;
		pd.process_name = (char *)name;
		td.process = &pd;
	}
	return emit_track(w, &td) ? 0 : t->uuid;
fail:
	free(copy);
	return 0;
}

uint64_t pf_track_thread(struct pf_writer *w, int32_t pid, int32_t tid, const char *name)
{
	return track_keyed(w, PF_TRACK_THREAD, pid, tid, name);
}

uint64_t pf_track_process(struct pf_writer *w, int32_t pid, const char *name)
{
	return track_keyed(w, PF_TRACK_PROCESS, pid, 0, name);
}

static uint64_t track_named(struct pf_writer *w, uint64_t parent_uuid, const char *name,
			    bool counter)
{
	Perfetto__Protos__TrackDescriptor td = PERFETTO__PROTOS__TRACK_DESCRIPTOR__INIT;
	Perfetto__Protos__CounterDescriptor cd = PERFETTO__PROTOS__COUNTER_DESCRIPTOR__INIT;
	uint64_t uuid;

	if (w->err)
		return 0;
	uuid = w->next_uuid++;
	td.has_uuid = 1;
	td.uuid = uuid;
	td.has_parent_uuid = !!parent_uuid;
	td.parent_uuid = parent_uuid;
	td.name = (char *)name;
	if (counter)
		td.counter = &cd;
	return emit_track(w, &td) ? 0 : uuid;
}

uint64_t pf_track_child(struct pf_writer *w, uint64_t parent_uuid, const char *name)
{
	return track_named(w, parent_uuid, name, false);
}

uint64_t pf_track_counter(struct pf_writer *w, uint64_t parent_uuid, const char *name)
{
	return track_named(w, parent_uuid, name, true);
}

/* --- track events ----------------------------------------------------------------------------- */

/*
 * Track events are encoded by hand, as scheduling is: they are the packets of every lock wait,
 * goroutine block and actor message, and protobuf-c's sizing and packing walk took half of
 * weft's CPU on a contended lock convoy.
 */

/* The iid of name in t (EventName and DebugAnnotationName have the same shape); a new entry
 * goes into the packet's InternedData as field `field`. */
static int intern_te_name(struct pf_writer *w, struct pf_intern *t, uint32_t field,
			  const char *name, uint64_t *iid)
{
	size_t len = strlen(name);
	uint8_t head[2 * (1 + PF_VARINT_MAX)];
	size_t n = 0;
	int ret;

	ret = pf_intern_get(t, name, len, iid);
	if (ret <= 0)
		return ret;
	head[n++] = PF_TAG_VARINT(NAME_IID);
	n += pf_varint_put(head + n, *iid);
	head[n++] = PF_TAG_BYTES(NAME_NAME);
	n += pf_varint_put(head + n, len);
	if (pf_bytes_reserve(&w->te_interned, 3 * PF_VARINT_MAX + n + len))
		return -ENOMEM;
	pf_bytes_varint(&w->te_interned, (uint64_t)field << 3 | PF_WIRE_BYTES);
	pf_bytes_varint(&w->te_interned, n + len);
	memcpy(w->te_interned.p + w->te_interned.len, head, n);
	memcpy(w->te_interned.p + w->te_interned.len + n, name, len);
	w->te_interned.len += n + len;
	return 0;
}

/* One DebugAnnotation, its name interned, into the TrackEvent being encoded. */
static int put_annotation(struct pf_writer *w, const struct pf_arg *arg)
{
	struct pf_bytes *a = &w->te_annotation;
	uint64_t iid;
	int err;

	err = intern_te_name(w, &w->annot_names, INTERNED_ANNOTATION_NAMES,
			     arg->name ? arg->name : "?", &iid);
	if (err)
		return err;
	a->len = 0;
	err = pf_put_varint_field(a, DA_NAME_IID, iid);
	if (err)
		return err;
	switch (arg->type) {
	case PF_ARG_INT:
		err = pf_put_varint_field(a, DA_INT_VALUE, (uint64_t)arg->i);
		break;
	case PF_ARG_UINT:
		err = pf_put_varint_field(a, DA_UINT_VALUE, arg->u);
		break;
	case PF_ARG_DOUBLE:
		err = pf_put_double_field(a, DA_DOUBLE_VALUE, arg->d);
		break;
	case PF_ARG_STRING:
		err = pf_put_bytes_field(a, DA_STRING_VALUE, arg->s ? arg->s : "",
					 arg->s ? strlen(arg->s) : 0);
		break;
	case PF_ARG_POINTER:
		err = pf_put_varint_field(a, DA_POINTER_VALUE, arg->u);
		break;
	default:
		return -EINVAL;
	}
	return err ?: pf_put_bytes_field(&w->te_event, TE_DEBUG_ANNOTATIONS, a->p, a->len);
}

/* The packet around the TrackEvent (and InternedData) encoded so far. */
static int emit_track_event(struct pf_writer *w, uint64_t ts)
{
	struct pf_bytes *pkt = &w->te_packet;
	int err;

	pkt->len = 0;
	err = pf_put_varint_field(pkt, PACKET_TIMESTAMP, ts);
	err = err ?: pf_put_bytes_field(pkt, PACKET_TRACK_EVENT, w->te_event.p, w->te_event.len);
	if (!err && w->te_interned.len)
		err = pf_put_bytes_field(pkt, PACKET_INTERNED_DATA, w->te_interned.p,
					 w->te_interned.len);
	if (err)
		return err;
	return emit_encoded(w, pkt, true);
}

static int track_event(struct pf_writer *w, uint32_t type, uint64_t track, uint64_t ts,
		       const char *name, const struct pf_arg *args, size_t nargs,
		       const uint64_t *flows, size_t nflows, const uint64_t *term, size_t nterm)
{
	struct pf_bytes *ev = &w->te_event;
	uint64_t iid;
	int err;

	if (w->err)
		return w->err;
	if (!track || (nargs && !args) || (nflows && !flows) || (nterm && !term))
		return -EINVAL;
	/* only when interning: a clear in between would needlessly stale callstack handles */
	if (name || nargs)
		intern_maybe_reset(w);
	ev->len = 0;
	w->te_interned.len = 0;
	err = pf_put_varint_field(ev, TE_TYPE, type);
	err = err ?: pf_put_varint_field(ev, TE_TRACK_UUID, track);
	if (!err && name) {
		err = intern_te_name(w, &w->event_names, INTERNED_EVENT_NAMES, name, &iid);
		err = err ?: pf_put_varint_field(ev, TE_NAME_IID, iid);
	}
	for (size_t i = 0; !err && i < nargs; i++)
		err = put_annotation(w, &args[i]);
	for (size_t i = 0; !err && i < nflows; i++)
		err = pf_put_varint_field(ev, TE_FLOW_IDS, flows[i]);
	for (size_t i = 0; !err && i < nterm; i++)
		err = pf_put_varint_field(ev, TE_TERMINATING_FLOW_IDS, term[i]);
	err = err ?: emit_track_event(w, ts);
	return intern_fail(w, err);
}

int pf_slice_begin(struct pf_writer *w, uint64_t track, uint64_t ts, const char *name,
		   const struct pf_arg *args, size_t nargs, const uint64_t *flows, size_t nflows,
		   const uint64_t *terminating_flows, size_t nterm)
{
	return track_event(w, PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_BEGIN, track, ts,
			   name, args, nargs, flows, nflows, terminating_flows, nterm);
}

int pf_slice_end(struct pf_writer *w, uint64_t track, uint64_t ts)
{
	return track_event(w, PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_SLICE_END, track, ts, NULL,
			   NULL, 0, NULL, 0, NULL, 0);
}

int pf_instant(struct pf_writer *w, uint64_t track, uint64_t ts, const char *name,
	       const struct pf_arg *args, size_t nargs)
{
	return track_event(w, PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_INSTANT, track, ts, name,
			   args, nargs, NULL, 0, NULL, 0);
}

int pf_counter(struct pf_writer *w, uint64_t track, uint64_t ts, double value)
{
	struct pf_bytes *ev = &w->te_event;
	int err;

	if (w->err)
		return w->err;
	if (!track)
		return -EINVAL;
	ev->len = 0;
	w->te_interned.len = 0;
	err = pf_put_varint_field(ev, TE_TYPE, PERFETTO__PROTOS__TRACK_EVENT__TYPE__TYPE_COUNTER);
	err = err ?: pf_put_varint_field(ev, TE_TRACK_UUID, track);
	err = err ?: pf_put_double_field(ev, TE_DOUBLE_COUNTER_VALUE, value);
	return err ?: emit_track_event(w, ts);
}
