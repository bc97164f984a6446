// SPDX-License-Identifier: MIT
/*
 * Sample (event loops): a libuv loop with a 1 ms repeating timer.
 *   libuv_loop stalls   ~2.2 s with the seeded stalls of stall.h, run from the timer callback
 *   libuv_loop calm     ~1 s, no stall
 * Prints one line per seeded stall (stall.h) and  weft-sample: thread=loop tid=TID iterations=N
 */
#include <string.h>
#include <uv.h>

#include "stall.h"

static uint64_t t0, ticks;
static int stalls;

static void on_tick(uv_timer_t *timer)
{
	ticks++;
	if (stall_schedule(stalls, (boot_ns() - t0) / 1000000, stalls ? 2200 : 1000))
		uv_stop(timer->loop);
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	uv_timer_t timer;

	stalls = !(argc > 1 && !strcmp(argv[1], "calm"));
	t0 = boot_ns();
	uv_timer_init(loop, &timer);
	uv_timer_start(&timer, on_tick, 1, 1);
	uv_run(loop, UV_RUN_DEFAULT);
	printf("weft-sample: thread=loop tid=%ld iterations=%llu\n", (long)syscall(SYS_gettid),
	       (unsigned long long)ticks);
	return 0;
}
