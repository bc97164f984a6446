// SPDX-License-Identifier: MIT
/*
 * Sample (event loops): a libevent loop with a 1 ms persistent timer event.
 *   libevent_loop stalls   ~2.2 s with the seeded stalls of stall.h, run from the callback
 *   libevent_loop calm     ~1 s, no stall
 * Prints one line per seeded stall (stall.h) and  weft-sample: thread=loop tid=TID iterations=N
 */
#include <string.h>
#include <event2/event.h>

#include "stall.h"

static uint64_t t0, ticks;
static int stalls;
static struct event_base *base;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	ticks++;
	if (stall_schedule(stalls, (boot_ns() - t0) / 1000000, stalls ? 2200 : 1000))
		event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
	struct timeval one_ms = { 0, 1000 };
	struct event *tick;

	stalls = !(argc > 1 && !strcmp(argv[1], "calm"));
	base = event_base_new();
	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	t0 = boot_ns();
	event_add(tick, &one_ms);
	event_base_dispatch(base);
	printf("weft-sample: thread=loop tid=%ld iterations=%llu\n", (long)syscall(SYS_gettid),
	       (unsigned long long)ticks);
	event_free(tick);
	event_base_free(base);
	return 0;
}
