// SPDX-License-Identifier: MIT
/* The only owner of the scheduler skeleton: everything libbpf happens here. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/area.h"
#include "collect/collector.h"
#include "collect/cpu_rings.h"
#include "collect/detach.h"
#include "sched.skel.h"

#define AREAS_MAX 16

struct collector {
	struct sched_bpf *skel;
	void *area_state[AREAS_MAX];
	bool area_open[AREAS_MAX];
	collector_msg_fn message;
	void *message_ctx;
	struct cpu_rings *rings; /* all the per-CPU rings, read in place */
	int *ring_fds;           /* one per possible CPU */
	size_t ring_bytes;       /* each */
	_Atomic uint64_t *traced; /* the BPF "traced" bitmap, mapped: one bit per tgid */
	struct weft_sched_batch *batches; /* each CPU's batch of switches and wakeups, mapped */
	size_t batches_bytes;
	int ncpus;
	struct injected *injected, **injected_tail; /* user-space records, in order */
	struct detach_batch links; /* being destroyed by the detacher thread */
	bool detached;             /* collector_detach() has run */
	pthread_t detacher;
	bool detaching;            /* ... and left the links to that thread */
};

struct injected {
	struct injected *next;
	size_t len;
	_Alignas(8) unsigned char data[];
};

static int libbpf_verbosity;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && libbpf_verbosity < 3)
		return 0;
	if (level == LIBBPF_INFO && libbpf_verbosity < 2)
		return 0;
	if (libbpf_verbosity < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void set_error(struct collector_error *err, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->what, sizeof(err->what), fmt, ap);
	va_end(ap);
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
}

void collector_message(struct collector *c, enum collector_msg_level level, const char *hint,
		       const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (!c->message)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->message(c->message_ctx, level, what, hint && *hint ? hint : NULL);
}

/* CAP_BPF (39) and CAP_PERFMON (38) are enough for tracing programs on kernels >= 5.8. */
static bool have_bpf_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff;

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	eff = ((uint64_t)data[1].effective << 32) | data[0].effective;
	return (eff & (1ULL << 21)) /* CAP_SYS_ADMIN */ ||
	       ((eff & (1ULL << 39)) && (eff & (1ULL << 38)));
}

static int probe_features(struct collector_error *err)
{
	if (!have_bpf_privileges()) {
		set_error(err, "run as root, or give weft CAP_BPF and CAP_PERFMON "
			  "(setcap cap_bpf,cap_perfmon+ep weft); --mode=preload needs neither",
			  "loading BPF programs: not permitted");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		set_error(err, "weft needs a kernel built with CONFIG_DEBUG_INFO_BTF=y "
			  "(most distribution kernels since 2021 are)",
			  "kernel BTF: /sys/kernel/btf/vmlinux: %s", strerror(errno));
		return -ENOENT;
	}
	return 0;
}

/* --ringbuf-size is the total: each CPU gets its share, a power of two of at least 64K. */
static size_t ring_bytes_per_cpu(size_t total, int ncpus)
{
	size_t per = 64 << 10;

	while (per * 2 * ncpus <= total)
		per *= 2;
	return per;
}

/* One ring per possible CPU, created before the programs load (the first is the template). */
static int rings_create(struct collector *c, size_t bytes)
{
	c->ring_fds = malloc(c->ncpus * sizeof(*c->ring_fds));
	if (!c->ring_fds)
		return -ENOMEM;
	for (int cpu = 0; cpu < c->ncpus; cpu++)
		c->ring_fds[cpu] = -1;
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		c->ring_fds[cpu] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "weft_cpu_ring", 0, 0, bytes,
						  NULL);
		if (c->ring_fds[cpu] < 0)
			return -errno;
	}
	return 0;
}

/* The collector reads how full each CPU's batch is, and empties an offline CPU's itself. */
static int batches_map(struct collector *c)
{
	struct bpf_map *m = c->skel->maps.sched_batches;
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;

	if (bpf_map__value_size(m) != sizeof(*c->batches))
		return -EINVAL;
	c->batches_bytes = (sizeof(*c->batches) * c->ncpus + page - 1) & ~(page - 1);
	p = mmap(NULL, c->batches_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return -errno;
	c->batches = p;
	return 0;
}

/* Puts each ring in the "events" table the programs reserve from, and under one consumer. */
static int rings_attach(struct collector *c)
{
	int table = bpf_map__fd(c->skel->maps.events);

	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		int fd = c->ring_fds[cpu];

		if (bpf_map_update_elem(table, &cpu, &fd, BPF_ANY))
			return -errno;
	}
	return cpu_rings_open(&c->rings, c->ring_fds, c->ncpus, c->ring_bytes);
}

/* The areas' opens, shared out between two threads. */
struct area_openings {
	struct collector *c;
	const struct collector_opts *opts;
	int n;
	atomic_int next; /* the next area to open */
	struct {
		void *state;
		struct collector_error err;
		int ret;
	} area[AREAS_MAX];
};

static void *areas_open_worker(void *arg)
{
	struct area_openings *o = arg;
	int i;

	while ((i = atomic_fetch_add(&o->next, 1)) < o->n)
		o->area[i].ret = collector_areas[i]->open(o->c, &o->area[i].state, o->opts,
							  &o->area[i].err);
	return NULL;
}

/*
 * The areas' objects load two at a time: each parses the kernel's BTF for itself (libbpf keeps
 * no copy between objects) and has its programs verified, ~60 ms apiece here, and they share
 * only the scheduler object's maps, which are made already. Two: as fast as four on two CPUs,
 * and each BTF being parsed holds ~10 MiB until its object is loaded. An area that cannot run
 * on this kernel is skipped with a message; the first that fails otherwise fails the open (the
 * areas that did open are closed with the collector).
 */
static int areas_open(struct collector *c, const struct collector_opts *opts,
		      struct collector_error *err)
{
	struct area_openings o = { .c = c, .opts = opts };
	pthread_t helper;
	bool helped;
	int ret = 0;

	while (collector_areas[o.n] && o.n < AREAS_MAX)
		o.n++;
	atomic_init(&o.next, 0);
	/* one helper thread, and this one */
	helped = pthread_create(&helper, NULL, areas_open_worker, &o) == 0;
	areas_open_worker(&o);
	if (helped)
		pthread_join(helper, NULL);
	/* What the parsing freed goes back to the system, not kept in the threads' arenas. */
	malloc_trim(0);
	for (int i = 0; i < o.n; i++) {
		if (!o.area[i].ret) {
			c->area_state[i] = o.area[i].state;
			c->area_open[i] = true;
		} else if (o.area[i].ret == -EOPNOTSUPP) {
			collector_message(c, COLLECTOR_MSG_VERBOSE, o.area[i].err.hint, "%s: %s",
					  collector_areas[i]->name, o.area[i].err.what);
		} else if (!ret) {
			*err = o.area[i].err;
			ret = o.area[i].ret;
		}
	}
	return ret;
}

int collector_open(struct collector **out, const struct collector_opts *opts,
		   struct collector_error *err)
{
	struct collector *c;
	int ret;

	*out = NULL;
	libbpf_verbosity = opts->verbose;
	libbpf_set_print(libbpf_print);
	ret = probe_features(err);
	if (ret)
		return ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ncpus = libbpf_num_possible_cpus();
	c->message = opts->message;
	c->message_ctx = opts->message_ctx;
	c->skel = sched_bpf__open();
	if (!c->skel) {
		ret = -errno;
		set_error(err, NULL, "opening BPF object: %s", strerror(-ret));
		goto out;
	}
	c->skel->rodata->want_stacks = opts->stack_interval_ns != 0;
	if (opts->stack_interval_ns) {
		c->skel->rodata->stack_interval_ns = opts->stack_interval_ns;
		c->skel->rodata->stack_burst = opts->stack_burst ? opts->stack_burst : 1;
		c->skel->rodata->cpu_stack_interval_ns = collector_cpu_stack_interval_ns(opts);
	}
	c->ring_bytes = ring_bytes_per_cpu(opts->ringbuf_bytes, c->ncpus);
	ret = rings_create(c, c->ring_bytes);
	if (ret) {
		set_error(err, "--ringbuf-size takes a power of two of at least 64K",
			  "creating the per-CPU ring buffers: %s", strerror(-ret));
		goto out;
	}
	/* The first ring is the table's template: older kernels accept only inner rings of the
	 * template's size. */
	ret = bpf_map__set_max_entries(c->skel->maps.events, c->ncpus);
	ret = ret ?: bpf_map__set_inner_map_fd(c->skel->maps.events, c->ring_fds[0]);
	ret = ret ?: bpf_map__set_max_entries(c->skel->maps.sched_batches, c->ncpus);
	if (ret) {
		set_error(err, NULL, "setting up the per-CPU ring buffers: %s", strerror(-ret));
		goto out;
	}
	ret = sched_bpf__load(c->skel);
	if (ret) {
		set_error(err, "run with -vv to see the verifier log",
			  "loading BPF programs: %s", strerror(-ret));
		goto out;
	}
	ret = rings_attach(c);
	if (ret) {
		set_error(err, NULL, "filling the per-CPU ring buffer table: %s", strerror(-ret));
		goto out;
	}
	c->traced = mmap(NULL, WEFT_TGID_LIMIT / 8, PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(c->skel->maps.traced), 0);
	if (c->traced == MAP_FAILED) {
		c->traced = NULL;
		ret = -errno;
		set_error(err, NULL, "mapping the process filter: %s", strerror(-ret));
		goto out;
	}
	ret = batches_map(c);
	if (ret) {
		set_error(err, NULL, "mapping the per-CPU record batches: %s", strerror(-ret));
		goto out;
	}
	ret = sched_bpf__attach(c->skel);
	if (ret) {
		set_error(err, "the kernel needs tp_btf support (5.5+) and BTF",
			  "attaching to scheduler tracepoints: %s", strerror(-ret));
		goto out;
	}
	ret = areas_open(c, opts, err);
	if (ret)
		goto out;
	*out = c;
	return 0;
out:
	collector_close(c);
	return ret;
}

int collector_add_process(struct collector *c, pid_t pid)
{
	int ret = 0;

	for (int i = 0; collector_areas[i] && i < AREAS_MAX; i++) {
		const struct collector_area *a = collector_areas[i];
		int r;

		if (!c->area_open[i] || !a->add_process)
			continue;
		r = a->add_process(c, c->area_state[i], pid);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int collector_pre_exec(struct collector *c, pid_t pid, const char *path)
{
	int ret = 0;

	for (int i = 0; collector_areas[i] && i < AREAS_MAX; i++) {
		const struct collector_area *a = collector_areas[i];
		int r;

		if (!c->area_open[i] || !a->pre_exec)
			continue;
		r = a->pre_exec(c, c->area_state[i], pid, path);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int collector_reuse_maps(struct collector *c, struct bpf_object *obj)
{
	static const char *const shared[] = {
		"events", "traced", "losses",
		"waits", "wakes", "waiting", /* the lock probes', joined at sched_waking */
		"py_runtimes", "py_threads", /* where CPython processes keep their frames */
	};
	int ret;

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *mine = bpf_object__find_map_by_name(obj, shared[i]);
		struct bpf_map *theirs = bpf_object__find_map_by_name(c->skel->obj, shared[i]);

		if (!mine || !theirs)
			continue;
		ret = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
		if (ret)
			return ret;
	}
	return 0;
}

int collector_map_fd(struct collector *c, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(c->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static void *detacher(void *arg)
{
	struct collector *c = arg;

	detach_run(&c->links);
	return NULL;
}

void collector_detach(struct collector *c)
{
	if (c->detached)
		return;
	c->detached = true;
	if (c->skel)
		detach_skeleton(&c->links, c->skel->skeleton);
	for (int i = 0; collector_areas[i] && i < AREAS_MAX; i++)
		if (c->area_open[i] && collector_areas[i]->detach)
			collector_areas[i]->detach(c->area_state[i], &c->links);
	/* The programs stay attached until the kernel has released their links: they find no
	 * process to trace meanwhile. */
	if (c->traced)
		memset((void *)c->traced, 0, WEFT_TGID_LIMIT / 8);
	if (detach_in_child(&c->links))
		return;
	c->detaching = !pthread_create(&c->detacher, NULL, detacher, c);
	if (!c->detaching)
		detach_run(&c->links);
}

void collector_close(struct collector *c)
{
	if (!c)
		return;
	collector_detach(c);
	if (c->detaching)
		pthread_join(c->detacher, NULL);
	for (int i = 0; collector_areas[i] && i < AREAS_MAX; i++)
		if (c->area_open[i] && collector_areas[i]->close)
			collector_areas[i]->close(c->area_state[i]);
	while (c->injected) {
		struct injected *next = c->injected->next;

		free(c->injected);
		c->injected = next;
	}
	cpu_rings_close(c->rings);
	for (int cpu = 0; c->ring_fds && cpu < c->ncpus; cpu++)
		if (c->ring_fds[cpu] >= 0)
			close(c->ring_fds[cpu]);
	free(c->ring_fds);
	if (c->traced)
		munmap((void *)c->traced, WEFT_TGID_LIMIT / 8);
	if (c->batches)
		munmap((void *)c->batches, c->batches_bytes);
	sched_bpf__destroy(c->skel);
	free(c);
}

/* Atomic read-modify-writes: the kernel sets bits in the same words when traced processes fork. */
int collector_trace_pid(struct collector *c, pid_t tgid)
{
	if (tgid <= 0 || tgid >= WEFT_TGID_LIMIT)
		return -EINVAL;
	atomic_fetch_or(&c->traced[tgid / 64], 1ULL << (tgid % 64));
	return 0;
}

int collector_untrace_pid(struct collector *c, pid_t tgid)
{
	if (tgid <= 0 || tgid >= WEFT_TGID_LIMIT)
		return -EINVAL;
	atomic_fetch_and(&c->traced[tgid / 64], ~(1ULL << (tgid % 64)));
	return 0;
}

/*
 * The batch of a CPU that went offline, where the flush cannot run (and where nothing writes it
 * until it comes back): its records are taken from the mapping, so they are neither held back
 * until the CPU returns nor lost at the end. The flag sends a writer on a CPU that comes back
 * meanwhile straight to the ring, as during a flush.
 */
static void take_offline_batch(struct weft_sched_batch *b, collector_event_fn fn, void *ctx)
{
	volatile struct weft_sched_batch *vb = b;
	uint32_t len;

	vb->flushing = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	len = vb->len;
	if (len > sizeof(b->buf))
		len = sizeof(b->buf);
	cpu_rings_split(fn, ctx, b->buf, len);
	vb->len = 0;
	vb->count = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vb->flushing = 0;
}

/*
 * Each CPU's batch of switches and wakeups into its ring (bpf/sched_batch.bpf.h), run on that
 * CPU: there nothing writes the batch while it is flushed. Only CPUs whose batch holds records
 * (an idle CPU is not interrupted). One whose record is being added as we look is flushed at
 * the next drain: a record that late is still held for it (cli/recording.c, REORDER_WINDOW_NS).
 * An offline CPU's records go to fn, copied.
 */
static void flush_batches(struct collector *c, collector_event_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU);
	int fd = bpf_program__fd(c->skel->progs.flush_batch);

	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		if (!((volatile struct weft_sched_batch *)&c->batches[cpu])->len)
			continue;
		opts.cpu = cpu;
		if (bpf_prog_test_run_opts(fd, &opts) == -ENXIO)
			take_offline_batch(&c->batches[cpu], fn, ctx);
	}
}

int collector_drain(struct collector *c, collector_event_fn fn, collector_event_fn kept,
		    void *ctx)
{
	flush_batches(c, fn, ctx);
	for (int i = 0; collector_areas[i] && i < AREAS_MAX; i++)
		if (c->area_open[i] && collector_areas[i]->poll)
			collector_areas[i]->poll(c, c->area_state[i]);
	while (c->injected) {
		struct injected *r = c->injected;

		c->injected = r->next;
		fn(ctx, r->data, r->len);
		free(r);
	}
	c->injected_tail = NULL;
	return cpu_rings_read(c->rings, kept, ctx);
}

void collector_release(struct collector *c)
{
	cpu_rings_release(c->rings);
}

int collector_wait(struct collector *c, int timeout_ms)
{
	return cpu_rings_wait(c->rings, timeout_ms);
}

int collector_inject(struct collector *c, const void *rec, size_t len)
{
	struct injected *r = malloc(sizeof(*r) + len);

	if (!r)
		return -ENOMEM;
	r->next = NULL;
	r->len = len;
	memcpy(r->data, rec, len);
	if (c->injected && c->injected_tail)
		*c->injected_tail = r;
	else
		c->injected = r;
	c->injected_tail = &r->next;
	return 0;
}

int collector_loss(struct collector *c, enum weft_loss_reason reason, uint64_t *out)
{
	__u32 key = reason;
	__u64 *vals;
	int ret;

	*out = 0;
	vals = calloc(c->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	ret = bpf_map__lookup_elem(c->skel->maps.losses, &key, sizeof(key), vals,
				   sizeof(*vals) * c->ncpus, 0);
	for (int i = 0; !ret && i < c->ncpus; i++)
		*out += vals[i];
	free(vals);
	return ret;
}

int collector_losses(struct collector *c, uint64_t out[WEFT_LOSS_REASON_MAX])
{
	int ret = 0;

	for (int r = 0; r < WEFT_LOSS_REASON_MAX && !ret; r++)
		ret = collector_loss(c, r, &out[r]);
	return ret;
}

uint64_t collector_ring_waiting(struct collector *c)
{
	return cpu_rings_waiting(c->rings);
}

uint64_t collector_ring_peak(struct collector *c)
{
	return cpu_rings_peak(c->rings);
}

size_t collector_ring_bytes_per_cpu(const struct collector *c)
{
	return c->ring_bytes;
}
