// SPDX-License-Identifier: MIT
/* The library cut_library loads: a function that sleeps inside it, so that the caller's
 * off-CPU stacks have a frame here. */
#include <time.h>

__attribute__((noinline)) void napping_sleep(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
	__asm__ volatile("" ::: "memory"); /* not a tail call: this frame stays on the stack */
}
