// SPDX-License-Identifier: MIT
/* The shim's core: ring set-up per process image, fork and exec, thread start and end, names. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "preload/shim.h"
#include "clock.h"

/*
 * Rules for everything here (uftrace's, and the issue's): never write to the target's stdout or
 * stderr; never block it (a full ring drops and counts); the recording path is lock-free and
 * async-signal-safe (TLS is initial-exec, the ring is atomics only, clock_gettime is vDSO);
 * re-entry (a signal handler interrupting the recording path) passes straight through.
 */

TLS struct shim_thread shim_self;
struct weft_ring shim_ring;
volatile int shim_active;
uint32_t shim_pid;

static char ring_dir[512];
static uint32_t ring_data_size = WEFT_RING_DEFAULT_DATA;
static size_t ring_map_len;

uint64_t shim_now(void)
{
	return boottime_ns();
}

uint32_t shim_tid(void)
{
	if (unlikely(!shim_self.tid))
		shim_self.tid = syscall(SYS_gettid);
	return shim_self.tid;
}

void shim_lose(unsigned reason)
{
	if (shim_ring.hdr)
		weft_ring_lose(&shim_ring, reason);
}

void *shim_rec_begin(uint32_t type, uint32_t size, uint64_t ts, uint32_t tid, uint64_t *pos)
{
	struct weft_event_header *h;

	if (!shim_active)
		return NULL;
	h = weft_ring_reserve(&shim_ring, size, pos);
	if (!h)
		return NULL;
	h->type = type;
	h->size = size;
	h->cpu = sched_getcpu();
	h->ts = ts;
	h->pid = shim_pid;
	h->tid = tid;
	return h;
}

void shim_rec_end(uint64_t pos, uint32_t size)
{
	weft_ring_commit(&shim_ring, pos, size);
}

void shim_comm_self(char comm[WEFT_COMM_LEN])
{
	memset(comm, 0, WEFT_COMM_LEN);
	prctl(PR_GET_NAME, comm, 0, 0, 0);
}

/* dlsym(RTLD_NEXT) once per function. A call that arrives while a resolution is under way on
 * this thread (dlsym using something we interpose) gets NULL: callers fall back safely. */
void *shim_real(const char *name, const char *version)
{
	static TLS int resolving;
	void *p = NULL;

	if (resolving)
		return NULL;
	resolving = 1;
	if (version)
		p = dlvsym(RTLD_NEXT, name, version);
	if (!p)
		p = dlsym(RTLD_NEXT, name);
	resolving = 0;
	return p;
}

/* --- the ring ----------------------------------------------------------------------------- */

static char *put_dec(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Async-signal-safe (runs in the child after fork): open, ftruncate, mmap only. */
static int ring_create(uint32_t ppid)
{
	char path[sizeof(ring_dir) + 64], *p;
	uint64_t now = shim_now();
	size_t len = strlen(ring_dir);
	struct rlimit lim;
	void *base;
	int fd;

	memcpy(path, ring_dir, len);
	p = path + len;
	*p++ = '/';
	p = put_dec(p, shim_pid);
	*p++ = '-';
	p = put_dec(p, now);
	memcpy(p, ".ring", 6);
	ring_map_len = WEFT_RING_HDR_SIZE + ring_data_size;
	/* ftruncate past RLIMIT_FSIZE would raise SIGXFSZ in the target: ask first. */
	if (!getrlimit(RLIMIT_FSIZE, &lim) && lim.rlim_cur != RLIM_INFINITY &&
	    lim.rlim_cur < ring_map_len)
		return -EFBIG;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, ring_map_len)) {
		close(fd);
		unlink(path);
		return -ENOSPC;
	}
	base = mmap(NULL, ring_map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		unlink(path);
		return -ENOMEM;
	}
	weft_ring_init(&shim_ring, base, ring_data_size, shim_pid, ppid, now);
	return 0;
}

/* The shim could not set up its ring: it stays out of the way (every call passes through) and
 * leaves "<pid>-<errno>.failed" for the collector to count, if even that is possible. */
static void ring_failed(int err)
{
	char path[sizeof(ring_dir) + 64], *p;
	size_t len = strlen(ring_dir);
	int fd;

	memcpy(path, ring_dir, len);
	p = path + len;
	*p++ = '/';
	p = put_dec(p, shim_pid);
	*p++ = '-';
	p = put_dec(p, err < 0 ? -err : err);
	memcpy(p, ".failed", 8);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static void emit_exec(void)
{
	struct weft_exec_event *e;
	uint64_t pos;
	ssize_t n;

	e = shim_rec_begin(WEFT_EV_EXEC, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (!e)
		return;
	e->old_tid = shim_tid();
	e->pad = 0;
	shim_comm_self(e->comm);
	memset(e->filename, 0, sizeof(e->filename));
	n = readlink("/proc/self/exe", e->filename, sizeof(e->filename) - 1);
	if (n < 0)
		e->filename[0] = 0;
	shim_rec_end(pos, sizeof(*e));
}

static void emit_fork(uint32_t parent_pid, uint32_t parent_tid, uint32_t child_tid)
{
	struct weft_fork_event *e;
	uint64_t pos;

	e = shim_rec_begin(WEFT_EV_FORK, sizeof(*e), shim_now(), parent_tid, &pos);
	if (!e)
		return;
	e->hdr.pid = parent_pid;
	e->child_pid = shim_pid;
	e->child_tid = child_tid;
	shim_comm_self(e->child_comm);
	shim_rec_end(pos, sizeof(*e));
}

static void after_fork_child(void)
{
	uint32_t parent_pid = shim_pid, parent_tid = shim_self.tid;
	int err;

	/* The parent's ring stays the parent's: forget it, make our own, announce ourselves. */
	shim_active = 0;
	if (shim_ring.hdr)
		munmap(shim_ring.hdr, ring_map_len);
	memset(&shim_ring, 0, sizeof(shim_ring));
	shim_pid = getpid();
	shim_self.tid = syscall(SYS_gettid);
	memset(shim_self.edge_cache, 0, sizeof(shim_self.edge_cache));
	shim_edges_reset();
	if (!ring_dir[0])
		return;
	err = ring_create(parent_pid);
	if (err) {
		ring_failed(err);
		return;
	}
	shim_active = 1;
	emit_fork(parent_pid, parent_tid ? parent_tid : parent_pid, shim_self.tid);
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *dir = getenv(WEFT_RING_ENV_DIR), *sz = getenv(WEFT_RING_ENV_SIZE);
	int err;

	shim_pid = getpid();
	shim_resolve_all();
	pthread_atfork(NULL, NULL, after_fork_child);
	if (!dir || strlen(dir) >= sizeof(ring_dir))
		return; /* preloaded without a collector: pass everything through */
	strcpy(ring_dir, dir);
	if (sz) {
		unsigned long v = strtoul(sz, NULL, 0);

		if (v >= 65536 && v <= (1ul << 30) && !(v & (v - 1)))
			ring_data_size = v;
	}
	err = ring_create(getppid());
	if (err) {
		ring_failed(err);
		return;
	}
	shim_active = 1;
	emit_exec();
}

/* --- threads ------------------------------------------------------------------------------ */

/* pthread_t -> tid, so pthread_setname_np on another thread can name it. */
#define TID_SLOTS 4096
static struct {
	uint64_t thread;
	uint32_t tid;
} tid_map[TID_SLOTS];

static void tid_map_set(uint64_t thread, uint32_t tid)
{
	for (unsigned i = 0, h = (thread >> 12) * 2654435761u; i < 64; i++) {
		unsigned slot = (h + i) % TID_SLOTS;
		uint64_t cur = __atomic_load_n(&tid_map[slot].thread, __ATOMIC_ACQUIRE);

		if (cur != thread && (cur || !__atomic_compare_exchange_n(&tid_map[slot].thread,
									   &cur, thread, 0,
									   __ATOMIC_ACQ_REL,
									   __ATOMIC_ACQUIRE)))
			if (cur != thread)
				continue;
		__atomic_store_n(&tid_map[slot].tid, tid, __ATOMIC_RELEASE);
		return;
	}
}

static uint32_t tid_map_get(uint64_t thread)
{
	for (unsigned i = 0, h = (thread >> 12) * 2654435761u; i < 64; i++) {
		unsigned slot = (h + i) % TID_SLOTS;
		uint64_t cur = __atomic_load_n(&tid_map[slot].thread, __ATOMIC_ACQUIRE);

		if (!cur)
			return 0;
		if (cur == thread)
			return __atomic_load_n(&tid_map[slot].tid, __ATOMIC_ACQUIRE);
	}
	return 0;
}

static void emit_exit(void)
{
	struct weft_exit_event *e;
	uint64_t pos;

	if (shim_self.busy)
		return;
	shim_self.busy = 1;
	e = shim_rec_begin(WEFT_EV_EXIT, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (e) {
		e->exit_code = 0;
		e->group_dead = 0;
		memset(e->pad, 0, sizeof(e->pad));
		shim_comm_self(e->comm);
		shim_rec_end(pos, sizeof(*e));
	}
	shim_self.busy = 0;
}

struct start_arg {
	void *(*fn)(void *);
	void *arg;
	uint32_t parent_tid;
};

static void *thread_start(void *p)
{
	struct start_arg a = *(struct start_arg *)p;
	struct weft_fork_event *e;
	uint64_t pos;
	void *ret;

	free(p);
	shim_self.busy = 1;
	tid_map_set((uint64_t)pthread_self(), shim_tid());
	e = shim_rec_begin(WEFT_EV_FORK, sizeof(*e), shim_now(), a.parent_tid, &pos);
	if (e) {
		e->child_pid = shim_pid;
		e->child_tid = shim_tid();
		shim_comm_self(e->child_comm);
		shim_rec_end(pos, sizeof(*e));
	}
	shim_self.busy = 0;
	ret = a.fn(a.arg);
	emit_exit();
	return ret;
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static create_fn real_create;
typedef void (*exit_fn)(void *) __attribute__((noreturn));
static exit_fn real_exit;
typedef int (*setname_fn)(pthread_t, const char *);
static setname_fn real_setname;

__attribute__((visibility("default"))) int pthread_create(pthread_t *t, const pthread_attr_t *attr,
							  void *(*fn)(void *), void *arg)
{
	struct start_arg *a;
	int ret;

	if (unlikely(!real_create))
		real_create = (create_fn)shim_real("pthread_create", "GLIBC_2.34");
	if (unlikely(!real_create))
		return EAGAIN;
	if (!shim_active || shim_self.busy || !(a = malloc(sizeof(*a))))
		return real_create(t, attr, fn, arg);
	a->fn = fn;
	a->arg = arg;
	a->parent_tid = shim_tid();
	ret = real_create(t, attr, thread_start, a);
	if (ret)
		free(a);
	return ret;
}

__attribute__((visibility("default"), noreturn)) void pthread_exit(void *retval)
{
	if (unlikely(!real_exit))
		real_exit = (exit_fn)shim_real("pthread_exit", "GLIBC_2.34");
	emit_exit();
	if (!real_exit)
		syscall(SYS_exit, 0);
	real_exit(retval);
	__builtin_unreachable();
}

__attribute__((visibility("default"))) int pthread_setname_np(pthread_t t, const char *name)
{
	struct weft_comm_event *e;
	uint32_t tid;
	uint64_t pos;
	int ret;

	if (unlikely(!real_setname))
		real_setname = (setname_fn)shim_real("pthread_setname_np", "GLIBC_2.34");
	if (unlikely(!real_setname))
		return ENOSYS;
	ret = real_setname(t, name);
	if (ret || shim_self.busy)
		return ret;
	shim_self.busy = 1;
	tid = pthread_equal(t, pthread_self()) ? shim_tid() : tid_map_get((uint64_t)t);
	if (tid) {
		e = shim_rec_begin(WEFT_EV_COMM, sizeof(*e), shim_now(), tid, &pos);
		if (e) {
			memset(e->comm, 0, sizeof(e->comm));
			strncpy(e->comm, name, sizeof(e->comm) - 1);
			shim_rec_end(pos, sizeof(*e));
		}
	}
	shim_self.busy = 0;
	return ret;
}

void shim_resolve_locks(void) HIDDEN;
void shim_resolve_poll(void) HIDDEN;

void shim_resolve_all(void)
{
	real_create = (create_fn)shim_real("pthread_create", "GLIBC_2.34");
	real_exit = (exit_fn)shim_real("pthread_exit", "GLIBC_2.34");
	real_setname = (setname_fn)shim_real("pthread_setname_np", "GLIBC_2.34");
	shim_resolve_locks();
	shim_resolve_poll();
}
