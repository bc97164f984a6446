// SPDX-License-Identifier: MIT
/* Drains the shim's shared-memory rings (include/weft/preload_ring.h) into the session. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/preload_ring.h"
#include "weft/preload_ring.h"
#include "sigbus_guard.h"

#define RINGS_MAX 4096

struct ring_slot {
	char name[64];
	struct weft_ring r;
	size_t map_len;
	uint32_t pid;
	uint64_t created;
	bool ready;      /* header initialised (magic seen) */
	bool retired;
};

struct preload_rings {
	char dir[256];
	size_t ring_bytes;
	struct ring_slot *slots;
	unsigned n, cap;
	unsigned seen;
	unsigned failed;   /* "<pid>-<errno>.failed" markers seen */
	unsigned cut;      /* rings whose file was cut short under us */
	/* losses of rings already retired */
	uint64_t lost[WEFT_LOSS_REASON_MAX];
};

/* The ring can no longer be read: unmapped without another look, its name removed. */
static void drop_cut_ring(struct preload_rings *pr, struct ring_slot *s)
{
	char path[512];

	munmap(s->r.hdr, s->map_len);
	snprintf(path, sizeof(path), "%s/%s", pr->dir, s->name);
	unlink(path);
	s->retired = true;
	s->r.hdr = NULL;
	pr->cut++;
}

struct ring_read {
	struct preload_rings *pr;
	struct ring_slot *s;
	void (*read)(struct preload_rings *, struct ring_slot *, void *);
	void *arg;
};

static void ring_read_run(void *arg)
{
	struct ring_read *r = arg;

	r->read(r->pr, r->s, r->arg);
}

/*
 * Runs read(pr, s, arg), which reads s's memory. A ring is a file the traced program can open
 * too: if it cuts the file short, reading the mapping past the new end raises SIGBUS. Such a
 * fault drops the ring (its later records are counted lost) instead of killing weft.
 */
static void guarded(struct preload_rings *pr, struct ring_slot *s,
		    void (*read)(struct preload_rings *, struct ring_slot *, void *), void *arg)
{
	struct ring_read r = { pr, s, read, arg };

	if (sigbus_guard(ring_read_run, &r, NULL))
		drop_cut_ring(pr, s);
}

/*
 * A weft that was killed (SIGKILL) left its directory behind, and tmpfs files are memory. The
 * directory is named after the weft that made it ("weft-rings-<pid>-XXXXXX"): remove those of
 * ours whose weft is gone.
 */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base), *rd;
	struct dirent *de, *re;
	char dir[512], path[800];
	struct stat st;
	long pid;

	while (d && (de = readdir(d))) {
		if (sscanf(de->d_name, "weft-rings-%ld-", &pid) != 1 || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", base, de->d_name);
		if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		rd = opendir(dir);
		while (rd && (re = readdir(rd))) {
			if (re->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, re->d_name);
			unlink(path);
		}
		if (rd)
			closedir(rd);
		rmdir(dir);
	}
	if (d)
		closedir(d);
}

int preload_rings_open(struct preload_rings **out, size_t ring_bytes, struct collector_error *err)
{
	const char *bases[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
	struct preload_rings *pr = calloc(1, sizeof(*pr));

	*out = NULL;
	if (!pr) {
		snprintf(err->what, sizeof(err->what), "preload: out of memory");
		return -ENOMEM;
	}
	pr->ring_bytes = ring_bytes;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (!bases[i] || access(bases[i], W_OK | X_OK))
			continue;
		remove_stale(bases[i]);
		snprintf(pr->dir, sizeof(pr->dir), "%s/weft-rings-%d-XXXXXX", bases[i],
			 (int)getpid());
		if (mkdtemp(pr->dir))
			break;
		pr->dir[0] = 0;
	}
	if (!pr->dir[0]) {
		snprintf(err->what, sizeof(err->what),
			 "preload: cannot create a directory for the rings: %s", strerror(errno));
		snprintf(err->hint, sizeof(err->hint), "set TMPDIR to a writable directory");
		free(pr);
		return -EACCES;
	}
	*out = pr;
	return 0;
}

const char *preload_rings_dir(const struct preload_rings *pr)
{
	return pr->dir;
}

size_t preload_rings_size(const struct preload_rings *pr)
{
	return pr->ring_bytes;
}

unsigned preload_rings_seen(const struct preload_rings *pr)
{
	return pr->seen;
}

static struct ring_slot *find(struct preload_rings *pr, const char *name)
{
	for (unsigned i = 0; i < pr->n; i++)
		if (!strcmp(pr->slots[i].name, name))
			return &pr->slots[i];
	return NULL;
}

static void map_ring(struct preload_rings *pr, const char *name)
{
	char path[512];
	struct ring_slot *s;
	struct stat st;
	void *base;
	int fd;

	if (pr->n == pr->cap) {
		unsigned cap = pr->cap ? pr->cap * 2 : 16;
		void *p = cap <= RINGS_MAX ? realloc(pr->slots, cap * sizeof(*pr->slots)) : NULL;

		if (!p)
			return;
		pr->slots = p;
		pr->cap = cap;
	}
	snprintf(path, sizeof(path), "%s/%s", pr->dir, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || (size_t)st.st_size < WEFT_RING_HDR_SIZE + 65536) {
		close(fd); /* still being sized by the shim: next time */
		return;
	}
	base = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return;
	s = &pr->slots[pr->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->map_len = st.st_size;
	s->r.hdr = base;
	pr->seen++;
}

static bool ring_valid(struct ring_slot *s)
{
	struct weft_ring_header *h = s->r.hdr;
	size_t size;

	if (s->ready)
		return true;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != WEFT_RING_MAGIC)
		return false;
	/* The size checked is the one attached: the header is the traced program's to change. */
	weft_ring_attach(&s->r, h);
	size = (size_t)s->r.mask + 1;
	if (h->version != WEFT_RING_VERSION || h->header_size != WEFT_RING_HDR_SIZE || size < 8 ||
	    size > (1u << 30) || (size & (size - 1)) || WEFT_RING_HDR_SIZE + size > s->map_len) {
		s->retired = true; /* not ours to read: leave it */
		return false;
	}
	s->pid = h->pid;
	s->created = h->created_ts;
	s->ready = true;
	return true;
}

static void scan(struct preload_rings *pr)
{
	DIR *d = opendir(pr->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 7 && !strcmp(de->d_name + len - 7, ".failed")) {
			char path[512];

			/* counted once: the marker goes */
			snprintf(path, sizeof(path), "%s/%s", pr->dir, de->d_name);
			if (!unlink(path))
				pr->failed++;
			continue;
		}
		if (len < 6 || strcmp(de->d_name + len - 5, ".ring") || len >= 64)
			continue;
		if (!find(pr, de->d_name))
			map_ring(pr, de->d_name);
	}
	closedir(d);
}

static void retire(struct preload_rings *pr, struct ring_slot *s)
{
	char path[512];

	if (s->ready)
		for (int i = 0; i < WEFT_LOSS_REASON_MAX && i < WEFT_RING_LOST_MAX; i++)
			pr->lost[i] += s->r.hdr->lost[i];
	munmap(s->r.hdr, s->map_len);
	snprintf(path, sizeof(path), "%s/%s", pr->dir, s->name);
	unlink(path);
	s->retired = true;
	s->r.hdr = NULL;
}

/* A ring is done when nothing more can be written to it: its process is gone, or the process
 * exec'd (a newer ring with the same pid exists) and no thread of the old image is left. */
static bool ring_done(struct preload_rings *pr, struct ring_slot *s)
{
	if (kill(s->pid, 0) && errno == ESRCH)
		return true;
	for (unsigned i = 0; i < pr->n; i++) {
		struct ring_slot *o = &pr->slots[i];

		if (o != s && o->ready && o->pid == s->pid && o->created > s->created)
			return true;
	}
	return false;
}

struct drain_ctx {
	collector_event_fn fn;
	void *ctx;
	long total;
};

static void drain_ring(struct preload_rings *pr, struct ring_slot *s, void *arg)
{
	struct drain_ctx *d = arg;
	bool done;

	if (!ring_valid(s))
		return;
	/* Decide before draining, so nothing written after the drain is left behind. */
	done = ring_done(pr, s);
	d->total += weft_ring_consume(&s->r, (int (*)(void *, const void *, size_t))d->fn, d->ctx);
	if (done)
		retire(pr, s);
}

int preload_rings_drain(struct preload_rings *pr, collector_event_fn fn, void *ctx)
{
	struct drain_ctx d = { fn, ctx, 0 };
	unsigned kept = 0;

	scan(pr);
	for (unsigned i = 0; i < pr->n; i++)
		if (!pr->slots[i].retired)
			guarded(pr, &pr->slots[i], drain_ring, &d);
	for (unsigned i = 0; i < pr->n; i++) {
		if (pr->slots[i].retired && !pr->slots[i].r.hdr)
			continue;
		pr->slots[kept++] = pr->slots[i];
	}
	pr->n = kept;
	return d.total;
}

static void add_ring_losses(struct preload_rings *pr, struct ring_slot *s, void *arg)
{
	uint64_t *out = arg;

	for (int i = 0; i < WEFT_LOSS_REASON_MAX && i < WEFT_RING_LOST_MAX; i++)
		out[i] += s->r.hdr->lost[i];
}

void preload_rings_losses(struct preload_rings *pr, uint64_t out[WEFT_LOSS_REASON_MAX])
{
	for (int i = 0; i < WEFT_LOSS_REASON_MAX; i++)
		out[i] += pr->lost[i];
	for (unsigned j = 0; j < pr->n; j++)
		if (pr->slots[j].ready && pr->slots[j].r.hdr)
			guarded(pr, &pr->slots[j], add_ring_losses, out);
	out[WEFT_LOSS_PRELOAD_NO_RING] += pr->failed;
	out[WEFT_LOSS_PRELOAD_RING_CUT] += pr->cut;
}

void preload_rings_close(struct preload_rings *pr)
{
	DIR *d;
	struct dirent *de;
	char path[512];

	if (!pr)
		return;
	for (unsigned i = 0; i < pr->n; i++)
		if (pr->slots[i].r.hdr)
			munmap(pr->slots[i].r.hdr, pr->slots[i].map_len);
	/* Rings of processes still running stay mapped in them; the names go. */
	d = opendir(pr->dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pr->dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(pr->dir);
	free(pr->slots);
	free(pr);
}
