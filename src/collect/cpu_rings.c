// SPDX-License-Identifier: MIT
/*
 * libbpf's ring_buffer__consume() hands each record to a callback and gives its space back as
 * soon as the callback returns, so a consumer that needs the record later (weft orders records
 * from all CPUs by time before analysing them) must copy it. This reader maps the rings
 * itself (the layout is the kernel's ABI: include/uapi/linux/bpf.h, kernel/bpf/ringbuf.c) and
 * moves the consumer position only when asked, so records are used where they lie. That saved
 * less than the copy's share of the profile suggested (~5% of weft's CPU per record): most of
 * the copy's time was the first read of memory another CPU wrote, which any reader pays; the
 * prefetch below is what cut that.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include <linux/bpf.h>

#include "collect/cpu_rings.h"
#include "weft/events.h"

#define RING_PREFETCH_BYTES 512

struct cpu_ring {
	uint64_t *consumer;       /* the kernel's consumer position (ours to write) */
	const uint64_t *producer; /* the kernel's producer position */
	const uint8_t *data;      /* ring_bytes, mapped twice in a row: records never wrap */
	uint64_t read;            /* handed out up to here; consumer lags until release */
	uint64_t taken;           /* bytes handed out since the last peak asked */
};

struct cpu_rings {
	struct cpu_ring *rings;
	int n;
	size_t ring_bytes;
	size_t page;
	int epfd;
};

int cpu_rings_open(struct cpu_rings **out, const int *fds, int n, size_t ring_bytes)
{
	struct cpu_rings *cr = calloc(1, sizeof(*cr));
	int ret = 0;

	*out = NULL;
	if (!cr)
		return -ENOMEM;
	cr->page = sysconf(_SC_PAGESIZE);
	cr->ring_bytes = ring_bytes;
	cr->rings = calloc(n, sizeof(*cr->rings));
	/* Edge-triggered: a ring that holds records is always readable, and weft reads on its
	 * own schedule; only a forced wakeup should end a wait. */
	cr->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!cr->rings || cr->epfd < 0) {
		ret = cr->rings ? -errno : -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < n; i++, cr->n++) {
		struct cpu_ring *r = &cr->rings[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = i };
		void *p;

		p = mmap(NULL, cr->page, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
		if (p == MAP_FAILED) {
			ret = -errno;
			goto fail;
		}
		r->consumer = p;
		p = mmap(NULL, cr->page + 2 * ring_bytes, PROT_READ, MAP_SHARED, fds[i], cr->page);
		if (p == MAP_FAILED) {
			ret = -errno;
			munmap(r->consumer, cr->page);
			goto fail;
		}
		r->producer = p;
		r->data = (const uint8_t *)p + cr->page;
		r->read = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
		if (epoll_ctl(cr->epfd, EPOLL_CTL_ADD, fds[i], &ev)) {
			ret = -errno;
			cr->n++; /* mapped: unmap it too */
			goto fail;
		}
	}
	*out = cr;
	return 0;
fail:
	cpu_rings_close(cr);
	return ret;
}

int cpu_rings_split(collector_event_fn fn, void *ctx, const void *rec, size_t len)
{
	const uint8_t *p = rec;
	int count = 0;

	while (len) {
		const struct weft_event_header *h = (const void *)p;
		size_t size = len;

		/* The records were written on another CPU, long enough ago to be out of this
		 * one's caches: ask for the ones a few lines ahead now (the ring is mapped twice
		 * in a row, so past its end is the start again). */
		__builtin_prefetch(p + RING_PREFETCH_BYTES);
		if (len >= sizeof(*h) && h->size >= sizeof(*h) && h->size <= len)
			size = h->size;
		fn(ctx, p, size);
		count++;
		p += size;
		len -= size;
	}
	return count;
}

int cpu_rings_read(struct cpu_rings *cr, collector_event_fn fn, void *ctx)
{
	uint64_t mask = cr->ring_bytes - 1;
	int count = 0;

	for (int i = 0; i < cr->n; i++) {
		struct cpu_ring *r = &cr->rings[i];
		uint64_t pos = r->read, end = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

		while (pos < end) {
			const uint32_t *hdr = (const uint32_t *)(r->data + (pos & mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

			/* Reserved but not yet submitted: what follows must wait for it. */
			if (len & BPF_RINGBUF_BUSY_BIT)
				break;
			size = (size + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
			if (!(len & BPF_RINGBUF_DISCARD_BIT))
				count += cpu_rings_split(fn, ctx,
							 (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ,
							 len & ~(BPF_RINGBUF_BUSY_BIT |
								 BPF_RINGBUF_DISCARD_BIT));
			pos += size;
			r->taken += size;
		}
		r->read = pos;
	}
	return count;
}

void cpu_rings_release(struct cpu_rings *cr)
{
	for (int i = 0; i < cr->n; i++)
		__atomic_store_n(cr->rings[i].consumer, cr->rings[i].read, __ATOMIC_RELEASE);
}

int cpu_rings_wait(struct cpu_rings *cr, int timeout_ms)
{
	struct epoll_event ev[8];
	int n = epoll_wait(cr->epfd, ev, 8, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n > 0;
}

uint64_t cpu_rings_waiting(struct cpu_rings *cr)
{
	uint64_t most = 0;

	for (int i = 0; i < cr->n; i++) {
		uint64_t end = __atomic_load_n(cr->rings[i].producer, __ATOMIC_ACQUIRE);

		if (end - cr->rings[i].read > most)
			most = end - cr->rings[i].read;
	}
	return most;
}

uint64_t cpu_rings_peak(struct cpu_rings *cr)
{
	uint64_t peak = 0;

	for (int i = 0; i < cr->n; i++) {
		if (cr->rings[i].taken > peak)
			peak = cr->rings[i].taken;
		cr->rings[i].taken = 0;
	}
	return peak;
}

void cpu_rings_close(struct cpu_rings *cr)
{
	if (!cr)
		return;
	for (int i = 0; i < cr->n; i++) {
		munmap(cr->rings[i].consumer, cr->page);
		munmap((void *)cr->rings[i].producer, cr->page + 2 * cr->ring_bytes);
	}
	if (cr->epfd >= 0)
		close(cr->epfd);
	free(cr->rings);
	free(cr);
}
