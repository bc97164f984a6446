// SPDX-License-Identifier: MIT
/* Interposed locks: waits with their holder, releases with waiters, lock-order edges. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "preload/shim.h"
#include "weft/hash.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * The uncontended path records nothing with a timestamp: a trylock that succeeds costs the
 * trylock, a push on the thread's held set and, when other locks are held, one hash probe per
 * held lock for the lock-order edge. Only a failed first attempt (a real wait) reads the clock
 * and writes a record; an unlock writes one only when the lock word says someone waits.
 */

/* --- real functions --------------------------------------------------------------------- */
#define REALS(X)                                                                          \
	X(pthread_mutex_lock, int, (pthread_mutex_t *), NULL)                             \
	X(pthread_mutex_trylock, int, (pthread_mutex_t *), NULL)                          \
	X(pthread_mutex_timedlock, int, (pthread_mutex_t *, const struct timespec *), NULL) \
	X(pthread_mutex_clocklock, int, (pthread_mutex_t *, clockid_t, const struct timespec *), \
	  NULL)                                                                           \
	X(pthread_mutex_unlock, int, (pthread_mutex_t *), NULL)                           \
	X(pthread_rwlock_rdlock, int, (pthread_rwlock_t *), NULL)                         \
	X(pthread_rwlock_wrlock, int, (pthread_rwlock_t *), NULL)                         \
	X(pthread_rwlock_tryrdlock, int, (pthread_rwlock_t *), NULL)                      \
	X(pthread_rwlock_trywrlock, int, (pthread_rwlock_t *), NULL)                      \
	X(pthread_rwlock_timedrdlock, int, (pthread_rwlock_t *, const struct timespec *), NULL) \
	X(pthread_rwlock_timedwrlock, int, (pthread_rwlock_t *, const struct timespec *), NULL) \
	X(pthread_rwlock_clockrdlock, int,                                                \
	  (pthread_rwlock_t *, clockid_t, const struct timespec *), NULL)                 \
	X(pthread_rwlock_clockwrlock, int,                                                \
	  (pthread_rwlock_t *, clockid_t, const struct timespec *), NULL)                 \
	X(pthread_rwlock_unlock, int, (pthread_rwlock_t *), NULL)                         \
	X(pthread_cond_wait, int, (pthread_cond_t *, pthread_mutex_t *), "GLIBC_2.3.2")   \
	X(pthread_cond_timedwait, int,                                                    \
	  (pthread_cond_t *, pthread_mutex_t *, const struct timespec *), "GLIBC_2.3.2")  \
	X(pthread_cond_clockwait, int,                                                    \
	  (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *), NULL) \
	X(pthread_cond_signal, int, (pthread_cond_t *), "GLIBC_2.3.2")                    \
	X(pthread_cond_broadcast, int, (pthread_cond_t *), "GLIBC_2.3.2")                 \
	X(sem_wait, int, (sem_t *), NULL)                                                 \
	X(sem_trywait, int, (sem_t *), NULL)                                              \
	X(sem_timedwait, int, (sem_t *, const struct timespec *), NULL)                   \
	X(sem_clockwait, int, (sem_t *, clockid_t, const struct timespec *), NULL)        \
	X(sem_post, int, (sem_t *), NULL)

#define DECL(name, ret, args, ver) static ret(*real_##name) args;
REALS(DECL)
#undef DECL

static void resolve_locks(void)
{
#define RES(name, ret, args, ver)                                                          \
	if (!real_##name)                                                                  \
		real_##name = (ret(*) args)shim_real(#name, ver);
	REALS(RES)
#undef RES
}

/* Callers run before the constructor (another library's constructor) resolve here; if that
 * fails (a resolution already under way on this thread) they pass, which is only possible
 * single-threaded at start-up. */
#define REAL(name) (likely(real_##name) ? real_##name : (resolve_locks(), real_##name))

/* --- held locks and lock-order edges ------------------------------------------------------ */

/* Edges seen by this process: a set of 64-bit hashes of (from, to, generation), insert-only,
 * lock-free. A fork child bumps the generation so it reports its own edges afresh. */
#define EDGE_SLOTS (1u << 15)
#define EDGE_PROBES 64
static uint64_t edges[EDGE_SLOTS];
static uint64_t edge_gen = 1;
static volatile int edges_full;

void shim_edges_reset(void)
{
	edge_gen++;
	edges_full = 0;
	memset(edges, 0, sizeof(edges));
}

/* 1: new edge (this caller reports it), 0: known, -1: table full. */
static int edge_insert(uint64_t from, uint64_t to)
{
	uint64_t h = weft_mix64(from ^ weft_mix64(to + edge_gen)) | 1;

	for (unsigned i = 0; i < EDGE_PROBES; i++) {
		uint64_t *slot = &edges[(h + i) & (EDGE_SLOTS - 1)];
		uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);

		if (cur == h)
			return 0;
		if (!cur) {
			if (__atomic_compare_exchange_n(slot, &cur, h, 0, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
				return 1;
			if (cur == h)
				return 0;
		}
	}
	return -1;
}

/*
 * The stack snapshot: registers as the DWARF unwinder needs them to start, at one instruction
 * of this function (the asm block leaves rsp alone, so the CFI at the lea describes the frame),
 * then the bytes from rsp upwards, read with process_vm_readv so that an unmapped page above a
 * short stack ends the copy instead of faulting. Writes into the ring record, not the stack.
 */
__attribute__((noinline)) static void snapshot(struct weft_lock_edge_event *e)
{
	struct iovec local, remote;
	ssize_t n;

	__asm__ volatile("lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, 0(%0)\n\t"
			 "mov %%rsp, 8(%0)\n\t"
			 "mov %%rbp, 16(%0)\n\t"
			 "mov %%rbx, 24(%0)\n\t"
			 "mov %%r12, 32(%0)\n\t"
			 "mov %%r13, 40(%0)\n\t"
			 "mov %%r14, 48(%0)\n\t"
			 "mov %%r15, 56(%0)\n\t"
			 :
			 : "r"(e->uregs)
			 : "rax", "memory");
	e->ustack_len = 0;
	/* Whole pages at most: a partial read stops at the first unreadable page. */
	for (uint64_t sp = e->uregs[WEFT_UREG_SP], got = 0; got < WEFT_USTACK_BYTES;) {
		uint64_t chunk = 4096 - ((sp + got) & 4095);

		if (chunk > WEFT_USTACK_BYTES - got)
			chunk = WEFT_USTACK_BYTES - got;
		local = (struct iovec){ e->ustack + got, chunk };
		remote = (struct iovec){ (void *)(sp + got), chunk };
		n = syscall(SYS_process_vm_readv, shim_pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			break;
		got += n;
		e->ustack_len = got;
	}
}

static void emit_edge(const struct held_lock *from, uint64_t to, uint32_t kind, uint64_t caller)
{
	struct weft_lock_edge_event *e;
	int err = errno;
	uint64_t pos;

	e = shim_rec_begin(WEFT_EV_LOCK_EDGE, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (!e)
		return;
	e->from = from->lock;
	e->to = to;
	e->from_caller = from->caller;
	e->to_caller = caller;
	e->from_kind = from->kind;
	e->to_kind = kind;
	e->pad = 0;
	snapshot(e);
	shim_rec_end(pos, sizeof(*e));
	errno = err;
}

/* Held locks, innermost last. The common cases (nothing else held; one lock held and this
 * edge checked before; releasing the lock taken last) stay inline; the rest is out of line. */
static inline struct edge_cache_entry *edge_cached(struct shim_thread *t, uint64_t from,
						  uint64_t to)
{
	return &t->edge_cache[((from >> 4) ^ (to >> 3) ^ (to >> 9)) & (EDGE_CACHE - 1)];
}

__attribute__((noinline)) static void check_edges(struct shim_thread *t, uint64_t lock,
						  uint32_t kind, uint64_t caller)
{
	if (edges_full)
		return;
	for (uint32_t i = 0; i < t->nheld; i++) {
		struct held_lock *h = &t->held[i];
		struct edge_cache_entry *c;
		int r;

		if (h->lock == lock)
			continue; /* recursive mutex, or a reader again */
		c = edge_cached(t, h->lock, lock);
		if (c->from == h->lock && c->to == lock)
			continue;
		r = edge_insert(h->lock, lock);
		if (unlikely(r > 0)) {
			emit_edge(h, lock, kind, caller);
		} else if (unlikely(r < 0)) {
			edges_full = 1;
			shim_lose(WEFT_LOSS_PRELOAD_EDGES_FULL);
			return;
		}
		c->from = h->lock;
		c->to = lock;
	}
}

static inline void shim_acquired(uint64_t lock, uint32_t kind, uint64_t caller, bool blocking)
{
	struct shim_thread *t = &shim_self;
	uint32_t n = t->nheld;

	if (unlikely(n)) {
		if (blocking) {
			const struct edge_cache_entry *c = edge_cached(t, t->held[0].lock, lock);

			if (!(n == 1 && ((c->from == t->held[0].lock && c->to == lock) ||
					 t->held[0].lock == lock)))
				check_edges(t, lock, kind, caller);
		}
		if (unlikely(n >= HELD_MAX)) {
			shim_lose(WEFT_LOSS_PRELOAD_HELD_FULL);
			return;
		}
	}
	t->held[n] = (struct held_lock){ lock, caller, kind, 0 };
	t->nheld = n + 1;
}

__attribute__((noinline)) static void release_out_of_order(struct shim_thread *t, uint64_t lock)
{
	for (uint32_t i = t->nheld; i-- > 0;) {
		if (t->held[i].lock == lock) {
			memmove(&t->held[i], &t->held[i + 1],
				(t->nheld - i - 1) * sizeof(t->held[0]));
			t->nheld--;
			return;
		}
	}
}

static inline void shim_released(uint64_t lock)
{
	struct shim_thread *t = &shim_self;
	uint32_t n = t->nheld;

	if (likely(n && t->held[n - 1].lock == lock))
		t->nheld = n - 1;
	else if (n)
		release_out_of_order(t, lock);
}

static void emit_wait(uint64_t lock, uint64_t aux, uint32_t kind, uint64_t start, uint32_t holder,
		      int ret, uint64_t caller)
{
	struct weft_lock_wait_event *e;
	uint64_t pos;

	e = shim_rec_begin(WEFT_EV_LOCK_WAIT, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (!e)
		return;
	e->lock = lock;
	e->aux = aux;
	e->wait_start = start;
	e->caller = caller;
	e->kind = kind;
	e->holder_tid = holder;
	e->ret = ret;
	e->flags = ret == ETIMEDOUT ? WEFT_LOCK_F_TIMEOUT : 0;
	shim_rec_end(pos, sizeof(*e));
}

static void emit_release(uint64_t lock, uint32_t kind, uint32_t flags, uint64_t caller)
{
	struct weft_lock_release_event *e;
	uint64_t pos;

	e = shim_rec_begin(WEFT_EV_LOCK_RELEASE, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (!e)
		return;
	e->lock = lock;
	e->caller = caller;
	e->kind = kind;
	e->flags = flags;
	shim_rec_end(pos, sizeof(*e));
}

/* Enter the recording path, or say the call must pass straight through. */
static inline bool enter(void)
{
	if (unlikely(!shim_active))
		return false;
	if (unlikely(shim_self.busy)) {
		shim_lose(WEFT_LOSS_PRELOAD_REENTRY);
		return false;
	}
	shim_self.busy = 1;
	return true;
}

static inline void leave(void)
{
	shim_self.busy = 0;
}

#define CALLER ((uint64_t)__builtin_return_address(0))

/* glibc's lock words (x86-64 layouts, stable since 2.25): who holds it, does anyone wait. */
static inline uint32_t mutex_owner(pthread_mutex_t *m)
{
	return (uint32_t)__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
}

static inline bool mutex_has_waiters(pthread_mutex_t *m)
{
	int kind = m->__data.__kind;
	uint32_t v = (uint32_t)__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);

	/* PI and robust mutexes keep the owner tid in the word and FUTEX_WAITERS on top;
	 * the others use 0 free / 1 locked / 2 locked with waiters. */
	if (kind & (0x10 /* robust */ | 0x20 /* priority inheritance */))
		return v & 0x80000000u;
	return v > 1;
}

/* --- mutexes ------------------------------------------------------------------------------ */

static int mutex_wait(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs, int which,
		      uint64_t caller)
{
	uint32_t holder;
	uint64_t t0;
	int ret;

	ret = REAL(pthread_mutex_trylock)(m);
	if (ret != EBUSY)
		goto done;
	holder = mutex_owner(m);
	t0 = shim_now();
	leave();
	if (which == 0)
		ret = REAL(pthread_mutex_lock)(m);
	else if (which == 1)
		ret = REAL(pthread_mutex_timedlock)(m, abs);
	else
		ret = REAL(pthread_mutex_clocklock)(m, clk, abs);
	shim_self.busy = 1;
	emit_wait((uint64_t)m, 0, WEFT_LOCK_MUTEX, t0, holder, ret, caller);
done:
	if (!ret)
		shim_acquired((uint64_t)m, WEFT_LOCK_MUTEX, caller, true);
	leave();
	return ret;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (!enter())
		return REAL(pthread_mutex_lock) ? real_pthread_mutex_lock(m) : 0;
	/* The fast path, inline: an uncontended lock records nothing. */
	if (likely(real_pthread_mutex_trylock) && likely(real_pthread_mutex_trylock(m) == 0)) {
		shim_acquired((uint64_t)m, WEFT_LOCK_MUTEX, CALLER, true);
		leave();
		return 0;
	}
	return mutex_wait(m, 0, NULL, 0, CALLER);
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	if (!enter())
		return REAL(pthread_mutex_timedlock)(m, abs);
	return mutex_wait(m, 0, abs, 1, CALLER);
}

EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs)
{
	if (!enter())
		return REAL(pthread_mutex_clocklock)(m, clk, abs);
	return mutex_wait(m, clk, abs, 2, CALLER);
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int ret;

	if (!REAL(pthread_mutex_trylock))
		return 0;
	ret = real_pthread_mutex_trylock(m);
	if (ret == 0 && enter()) {
		shim_acquired((uint64_t)m, WEFT_LOCK_MUTEX, CALLER, false);
		leave();
	}
	return ret;
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (!enter())
		return REAL(pthread_mutex_unlock) ? real_pthread_mutex_unlock(m) : 0;
	shim_released((uint64_t)m);
	if (unlikely(mutex_has_waiters(m)))
		emit_release((uint64_t)m, WEFT_LOCK_MUTEX, 0, CALLER);
	leave();
	return real_pthread_mutex_unlock(m);
}

/* --- rwlocks ------------------------------------------------------------------------------ */

static inline uint32_t rw_writer(pthread_rwlock_t *l)
{
	return (uint32_t)__atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
}

static inline bool rw_has_waiters(pthread_rwlock_t *l)
{
	/* __readers bit 2: readers wait (PTHREAD_RWLOCK_RWAITING); the futex words' top bit:
	 * writers wait for the lock or for the write phase. */
	return (__atomic_load_n(&l->__data.__readers, __ATOMIC_RELAXED) & 4) ||
	       (__atomic_load_n(&l->__data.__writers_futex, __ATOMIC_RELAXED) & 0x80000000u) ||
	       (__atomic_load_n(&l->__data.__wrphase_futex, __ATOMIC_RELAXED) & 0x80000000u);
}

static int rw_wait(pthread_rwlock_t *l, bool wr, clockid_t clk, const struct timespec *abs,
		   int which, uint64_t caller)
{
	uint32_t kind = wr ? WEFT_LOCK_RWLOCK_WRITE : WEFT_LOCK_RWLOCK_READ, holder;
	uint64_t t0;
	int ret;

	ret = wr ? REAL(pthread_rwlock_trywrlock)(l) : REAL(pthread_rwlock_tryrdlock)(l);
	if (ret != EBUSY)
		goto done;
	holder = rw_writer(l);
	t0 = shim_now();
	leave();
	if (which == 0)
		ret = wr ? REAL(pthread_rwlock_wrlock)(l) : REAL(pthread_rwlock_rdlock)(l);
	else if (which == 1)
		ret = wr ? REAL(pthread_rwlock_timedwrlock)(l, abs)
			 : REAL(pthread_rwlock_timedrdlock)(l, abs);
	else
		ret = wr ? REAL(pthread_rwlock_clockwrlock)(l, clk, abs)
			 : REAL(pthread_rwlock_clockrdlock)(l, clk, abs);
	shim_self.busy = 1;
	emit_wait((uint64_t)l, 0, kind, t0, holder, ret, caller);
done:
	if (!ret)
		shim_acquired((uint64_t)l, kind, caller, true);
	leave();
	return ret;
}

#define RW_ENTRY(fname, wr, args, call_args, which, clk, abs)                             \
	EXPORT int fname args                                                              \
	{                                                                                  \
		if (!enter())                                                              \
			return REAL(fname) call_args;                                      \
		return rw_wait(l, wr, clk, abs, which, CALLER);                            \
	}
RW_ENTRY(pthread_rwlock_rdlock, false, (pthread_rwlock_t * l), (l), 0, 0, NULL)
RW_ENTRY(pthread_rwlock_wrlock, true, (pthread_rwlock_t * l), (l), 0, 0, NULL)
RW_ENTRY(pthread_rwlock_timedrdlock, false, (pthread_rwlock_t * l, const struct timespec *a),
	 (l, a), 1, 0, a)
RW_ENTRY(pthread_rwlock_timedwrlock, true, (pthread_rwlock_t * l, const struct timespec *a),
	 (l, a), 1, 0, a)
RW_ENTRY(pthread_rwlock_clockrdlock, false,
	 (pthread_rwlock_t * l, clockid_t c, const struct timespec *a), (l, c, a), 2, c, a)
RW_ENTRY(pthread_rwlock_clockwrlock, true,
	 (pthread_rwlock_t * l, clockid_t c, const struct timespec *a), (l, c, a), 2, c, a)

EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	int ret = REAL(pthread_rwlock_tryrdlock)(l);

	if (ret == 0 && enter()) {
		shim_acquired((uint64_t)l, WEFT_LOCK_RWLOCK_READ, CALLER, false);
		leave();
	}
	return ret;
}

EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	int ret = REAL(pthread_rwlock_trywrlock)(l);

	if (ret == 0 && enter()) {
		shim_acquired((uint64_t)l, WEFT_LOCK_RWLOCK_WRITE, CALLER, false);
		leave();
	}
	return ret;
}

EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	if (!enter())
		return REAL(pthread_rwlock_unlock)(l);
	shim_released((uint64_t)l);
	if (unlikely(rw_has_waiters(l)))
		emit_release((uint64_t)l, rw_writer(l) ? WEFT_LOCK_RWLOCK_WRITE
						       : WEFT_LOCK_RWLOCK_READ, 0, CALLER);
	leave();
	return real_pthread_rwlock_unlock(l);
}

/* --- condition variables ------------------------------------------------------------------ */

static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
		     const struct timespec *abs, int which, uint64_t caller)
{
	uint64_t t0 = shim_now();
	int ret;

	leave();
	if (which == 0)
		ret = REAL(pthread_cond_wait)(c, m);
	else if (which == 1)
		ret = REAL(pthread_cond_timedwait)(c, m, abs);
	else
		ret = REAL(pthread_cond_clockwait)(c, m, clk, abs);
	if (enter()) {
		emit_wait((uint64_t)c, (uint64_t)m, WEFT_LOCK_COND, t0, 0, ret, caller);
		leave();
	}
	return ret;
}

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (!enter())
		return REAL(pthread_cond_wait)(c, m);
	return cond_wait(c, m, 0, NULL, 0, CALLER);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *a)
{
	if (!enter())
		return REAL(pthread_cond_timedwait)(c, m, a);
	return cond_wait(c, m, 0, a, 1, CALLER);
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				  const struct timespec *a)
{
	if (!enter())
		return REAL(pthread_cond_clockwait)(c, m, clk, a);
	return cond_wait(c, m, clk, a, 2, CALLER);
}

static int cond_wake(pthread_cond_t *c, bool all, uint64_t caller)
{
	/* __wrefs counts waiters from bit 3 up (glibc >= 2.25). */
	if (enter()) {
		if (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) >> 3)
			emit_release((uint64_t)c, WEFT_LOCK_COND, all ? WEFT_LOCK_F_BROADCAST : 0,
				     caller);
		leave();
	}
	return all ? REAL(pthread_cond_broadcast)(c) : REAL(pthread_cond_signal)(c);
}

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	return cond_wake(c, false, CALLER);
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	return cond_wake(c, true, CALLER);
}

/* --- semaphores --------------------------------------------------------------------------- */

/* glibc's 64-bit sem: value in the low half of the first word, waiters in the high half. */
static inline uint64_t sem_word(sem_t *s)
{
	return __atomic_load_n((uint64_t *)s, __ATOMIC_RELAXED);
}

static int sem_block(sem_t *s, clockid_t clk, const struct timespec *abs, int which,
		     uint64_t caller)
{
	uint64_t t0;
	int ret, err;

	ret = REAL(sem_trywait)(s);
	if (ret == 0 || errno != EAGAIN) {
		leave();
		return ret;
	}
	t0 = shim_now();
	leave();
	if (which == 0)
		ret = REAL(sem_wait)(s);
	else if (which == 1)
		ret = REAL(sem_timedwait)(s, abs);
	else
		ret = REAL(sem_clockwait)(s, clk, abs);
	err = errno;
	if (enter()) {
		emit_wait((uint64_t)s, 0, WEFT_LOCK_SEM, t0, 0, ret ? err : 0, caller);
		leave();
	}
	errno = err;
	return ret;
}

EXPORT int sem_wait(sem_t *s)
{
	if (!enter())
		return REAL(sem_wait)(s);
	return sem_block(s, 0, NULL, 0, CALLER);
}

EXPORT int sem_timedwait(sem_t *s, const struct timespec *a)
{
	if (!enter())
		return REAL(sem_timedwait)(s, a);
	return sem_block(s, 0, a, 1, CALLER);
}

EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *a)
{
	if (!enter())
		return REAL(sem_clockwait)(s, clk, a);
	return sem_block(s, clk, a, 2, CALLER);
}

EXPORT int sem_post(sem_t *s)
{
	if (enter()) {
		if (sem_word(s) >> 32)
			emit_release((uint64_t)s, WEFT_LOCK_SEM, 0, CALLER);
		leave();
	}
	return REAL(sem_post)(s);
}

void shim_resolve_locks(void) HIDDEN;
void shim_resolve_locks(void)
{
	resolve_locks();
}
