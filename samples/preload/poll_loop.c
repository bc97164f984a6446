// SPDX-License-Identifier: MIT
/* An event loop on epoll with one seeded stall: a handler that busy-works for STALL_MS.
 * Each iteration waits in epoll_wait (plus a poll() and a select() now and then, so every
 * poll-family call is exercised). Usage: poll_loop [iterations=200] [stall_ms=120].
 * Prints its own oracle lines. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) static void slow_handler(int ms)
{
	double end = now_ms() + ms;

	while (now_ms() < end)
		;
}

int main(int argc, char **argv)
{
	int iterations = argc > 1 ? atoi(argv[1]) : 200;
	int stall_ms = argc > 2 ? atoi(argv[2]) : 120;
	int stall_at = iterations / 2, ep, tfd, polls = 0;
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } }; /* every 1 ms */
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	uint64_t ticks;

	ep = epoll_create1(0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (ep < 0 || tfd < 0 || timerfd_settime(tfd, 0, &its, NULL))
		return 1;
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	for (int i = 0; i < iterations; i++) {
		int n;

		if (i % 10 == 5) {
			struct pollfd pfd = { tfd, POLLIN, 0 };

			n = poll(&pfd, 1, 1000);
		} else if (i % 10 == 7) {
			fd_set r;
			struct timeval tv = { 1, 0 };

			FD_ZERO(&r);
			FD_SET(tfd, &r);
			n = select(tfd + 1, &r, NULL, NULL, &tv);
		} else {
			n = epoll_wait(ep, out, 4, 1000);
		}
		polls++;
		if (n > 0 && read(tfd, &ticks, sizeof(ticks)) < 0)
			return 1;
		if (i == stall_at)
			slow_handler(stall_ms);
	}
	printf("weft-sample: loop=main iterations=%d polls=%d stall_ms=%d stall_iteration=%d "
	       "tid=%d\n", iterations, polls, stall_ms, stall_at, (int)gettid());
	return 0;
}
