// SPDX-License-Identifier: MIT
/* Interposed poll calls: the event-loop records (WEFT_EV_POLL_ENTER/EXIT) the loops area reads. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#include "preload/shim.h"

#define EXPORT __attribute__((visibility("default")))

typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);
typedef int (*epoll_pwait2_fn)(int, struct epoll_event *, int, const struct timespec *,
			       const sigset_t *);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
			  const sigset_t *);

static epoll_wait_fn real_epoll_wait;
static epoll_pwait_fn real_epoll_pwait;
static epoll_pwait2_fn real_epoll_pwait2;
static poll_fn real_poll;
static ppoll_fn real_ppoll;
static select_fn real_select;
static pselect_fn real_pselect;

void shim_resolve_poll(void) HIDDEN;
void shim_resolve_poll(void)
{
	if (!real_epoll_wait)
		real_epoll_wait = (epoll_wait_fn)shim_real("epoll_wait", NULL);
	if (!real_epoll_pwait)
		real_epoll_pwait = (epoll_pwait_fn)shim_real("epoll_pwait", NULL);
	if (!real_epoll_pwait2)
		real_epoll_pwait2 = (epoll_pwait2_fn)shim_real("epoll_pwait2", NULL);
	if (!real_poll)
		real_poll = (poll_fn)shim_real("poll", NULL);
	if (!real_ppoll)
		real_ppoll = (ppoll_fn)shim_real("ppoll", NULL);
	if (!real_select)
		real_select = (select_fn)shim_real("select", NULL);
	if (!real_pselect)
		real_pselect = (pselect_fn)shim_real("pselect", NULL);
}

#define REAL(name) (likely(real_##name) ? real_##name : (shim_resolve_poll(), real_##name))

static bool poll_enter(uint32_t kind, int fd, int64_t timeout_ns)
{
	struct weft_poll_enter_event *e;
	uint64_t pos;

	if (!shim_active || shim_self.busy)
		return false;
	shim_self.busy = 1;
	e = shim_rec_begin(WEFT_EV_POLL_ENTER, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (e) {
		e->kind = kind;
		e->fd = fd;
		e->timeout_ns = timeout_ns;
		shim_rec_end(pos, sizeof(*e));
	}
	shim_self.busy = 0;
	return true;
}

static void poll_exit(uint32_t kind, int ret)
{
	struct weft_poll_exit_event *e;
	int err = errno;
	uint64_t pos;

	if (shim_self.busy)
		return;
	shim_self.busy = 1;
	e = shim_rec_begin(WEFT_EV_POLL_EXIT, sizeof(*e), shim_now(), shim_tid(), &pos);
	if (e) {
		e->kind = kind;
		e->ret = ret < 0 ? -err : ret;
		shim_rec_end(pos, sizeof(*e));
	}
	shim_self.busy = 0;
	errno = err;
}

static int64_t ms_ns(int ms)
{
	return ms < 0 ? -1 : ms * 1000000LL;
}

static int64_t ts_ns(const struct timespec *t)
{
	return t ? t->tv_sec * 1000000000LL + t->tv_nsec : -1;
}

static int64_t tv_ns(const struct timeval *t)
{
	return t ? t->tv_sec * 1000000000LL + t->tv_usec * 1000LL : -1;
}

#define WRAP(kind, fd, timeout, call)                                                      \
	do {                                                                               \
		bool rec = poll_enter(kind, fd, timeout);                                  \
		int ret = call;                                                            \
		if (rec)                                                                   \
			poll_exit(kind, ret);                                              \
		return ret;                                                                \
	} while (0)

EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	if (!REAL(epoll_wait))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_EPOLL_WAIT, epfd, ms_ns(timeout), real_epoll_wait(epfd, ev, max, timeout));
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
		       const sigset_t *mask)
{
	if (!REAL(epoll_pwait))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_EPOLL_WAIT, epfd, ms_ns(timeout),
	     real_epoll_pwait(epfd, ev, max, timeout, mask));
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *t,
			const sigset_t *mask)
{
	if (!REAL(epoll_pwait2))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_EPOLL_WAIT, epfd, ts_ns(t), real_epoll_pwait2(epfd, ev, max, t, mask));
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!REAL(poll))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_POLL, -1, ms_ns(timeout), real_poll(fds, n, timeout));
}

/* _FORTIFY_SOURCE builds call these instead. */
EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	return poll(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
	if (!REAL(ppoll))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_POLL, -1, ts_ns(t), real_ppoll(fds, n, t, mask));
}

EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t,
		       const sigset_t *mask, size_t fdslen)
{
	return ppoll(fds, n, t, mask);
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *t)
{
	if (!REAL(select))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_SELECT, -1, tv_ns(t), real_select(n, r, w, x, t));
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t,
		   const sigset_t *mask)
{
	if (!REAL(pselect))
		return errno = ENOSYS, -1;
	WRAP(WEFT_POLL_SELECT, -1, ts_ns(t), real_pselect(n, r, w, x, t, mask));
}
