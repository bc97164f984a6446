// SPDX-License-Identifier: MIT
/* Unprivileged context switches: PERF_RECORD_SWITCH from per-CPU inherited dummy events. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collect/perf_switch.h"

#define PAGE 4096
/* Unprivileged users may lock perf_event_mlock_kb (516 KiB by default) in all: share it out. */
#define BUDGET_BYTES (448 * 1024)

struct cpu_buf {
	int fd;
	void *base;
	size_t len;       /* 1 + 2^n pages */
};

struct perf_switch {
	struct cpu_buf *cpus;
	int ncpus;
	uint64_t lost;
};

struct switch_sample {           /* sample_id_all with TID | TIME | CPU */
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
};

static int open_cpu(pid_t pid, int cpu)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
	a.sample_id_all = 1;
	a.context_switch = 1;
	a.inherit = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.disabled = 1;
	a.enable_on_exec = 1;
	a.use_clockid = 1;
	a.clockid = CLOCK_BOOTTIME;      /* the clock every weft record uses */
	a.watermark = 1;
	a.wakeup_watermark = 1 << 30;    /* never wake anyone: weft polls every 20 ms */
	return syscall(SYS_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int perf_switch_open(struct perf_switch **out, pid_t pid, struct collector_error *err)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct perf_switch *ps;
	size_t pages;
	int ret = 0;

	*out = NULL;
	if (ncpu < 1)
		ncpu = 1;
	ps = calloc(1, sizeof(*ps));
	if (!ps || !(ps->cpus = calloc(ncpu, sizeof(*ps->cpus)))) {
		free(ps);
		return -ENOMEM;
	}
	ps->ncpus = ncpu;
	for (pages = 64; pages > 1 && (pages + 1) * PAGE * ncpu > BUDGET_BYTES; pages /= 2)
		;
	for (int c = 0; c < ncpu; c++) {
		struct cpu_buf *b = &ps->cpus[c];

		b->fd = open_cpu(pid, c);
		if (b->fd < 0) {
			ret = -errno;
			if (ret == -ENODEV || ret == -EINVAL) { /* CPU offline */
				b->fd = -1;
				ret = 0;
				continue;
			}
			snprintf(err->what, sizeof(err->what),
				 "context switches: perf_event_open: %s", strerror(-ret));
			snprintf(err->hint, sizeof(err->hint),
				 "/proc/sys/kernel/perf_event_paranoid must be 2 or less for "
				 "unprivileged context-switch records");
			goto fail;
		}
		b->len = (pages + 1) * PAGE;
		b->base = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
		if (b->base == MAP_FAILED) {
			ret = -errno;
			b->base = NULL;
			snprintf(err->what, sizeof(err->what), "context switches: mmap: %s",
				 strerror(-ret));
			snprintf(err->hint, sizeof(err->hint),
				 "raise /proc/sys/kernel/perf_event_mlock_kb");
			goto fail;
		}
	}
	*out = ps;
	return 0;
fail:
	perf_switch_close(ps);
	return ret;
}

static void to_weft(const struct perf_event_header *h, const struct switch_sample *s,
		    collector_event_fn fn, void *ctx)
{
	struct weft_switch_event e;
	bool out = h->misc & PERF_RECORD_MISC_SWITCH_OUT;

	memset(&e, 0, sizeof(e));
	e.hdr.type = WEFT_EV_SWITCH;
	e.hdr.size = sizeof(e);
	e.hdr.cpu = s->cpu;
	e.hdr.ts = s->time;
	e.prev_prio = e.next_prio = 120;
	if (out) {
		e.hdr.pid = s->pid;
		e.hdr.tid = s->tid;
		e.preempt = !!(h->misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT);
		e.prev_state = e.preempt ? 0 : 1; /* voluntary: sleeping (S vs D is not told) */
		e.prev_traced = 1;
	} else {
		e.next_pid = s->pid;
		e.next_tid = s->tid;
		e.next_traced = 1;
	}
	fn(ctx, &e, sizeof(e));
}

int perf_switch_drain(struct perf_switch *ps, collector_event_fn fn, void *ctx)
{
	int n = 0;

	for (int c = 0; c < ps->ncpus; c++) {
		struct cpu_buf *b = &ps->cpus[c];
		struct perf_event_mmap_page *meta = b->base;
		uint64_t head, tail, size;
		uint8_t *data;

		if (!meta)
			continue;
		data = (uint8_t *)b->base + meta->data_offset;
		size = meta->data_size;
		head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
		tail = meta->data_tail;
		while (tail < head) {
			uint8_t rec[256];
			struct perf_event_header *h = (void *)rec;
			uint64_t off = tail % size;
			uint16_t len;

			memcpy(rec, data + off, sizeof(*h) <= size - off ? sizeof(*h) : size - off);
			if (size - off < sizeof(*h))
				memcpy(rec + (size - off), data, sizeof(*h) - (size - off));
			len = h->size;
			if (len < sizeof(*h) || len > sizeof(rec))
				break;
			for (uint16_t i = 0; i < len; i++)
				rec[i] = data[(off + i) % size];
			if (h->type == PERF_RECORD_SWITCH &&
			    len >= sizeof(*h) + sizeof(struct switch_sample)) {
				to_weft(h, (const void *)(rec + len - sizeof(struct switch_sample)),
					fn, ctx);
				n++;
			} else if (h->type == PERF_RECORD_LOST) {
				ps->lost += *(uint64_t *)(rec + sizeof(*h) + 8);
			}
			tail += len;
		}
		__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	}
	return n;
}

void perf_switch_losses(struct perf_switch *ps, uint64_t out[WEFT_LOSS_REASON_MAX])
{
	out[WEFT_LOSS_PERF_SWITCH_LOST] += ps->lost;
}

void perf_switch_close(struct perf_switch *ps)
{
	if (!ps)
		return;
	for (int c = 0; c < ps->ncpus; c++) {
		if (ps->cpus[c].base)
			munmap(ps->cpus[c].base, ps->cpus[c].len);
		if (ps->cpus[c].fd > 0)
			close(ps->cpus[c].fd);
	}
	free(ps->cpus);
	free(ps);
}
