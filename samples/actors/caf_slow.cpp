// SPDX-License-Identifier: MIT
/*
 * CAF (0.17) actors with a slow one: three producers send to "slow" (2 ms per message) and to
 * "quick" (no work), two messages to slow for each to quick, so that slow's mailbox is the
 * deepest whichever way the two scheduler threads run them (with one each, quick's could reach
 * slow's depth whenever the producers ran before it). Prints the actor ids CAF gave them and
 * what slow handled:
 *   weft-sample: actor=slow id=N handled=H     weft-sample: actor=quick id=M
 * Usage: caf_slow [messages-per-producer] [ms-to-wait-first]
 */
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <caf/all.hpp>

using namespace caf;

static std::atomic<int> slow_handled{0};

behavior slow_actor(event_based_actor *)
{
	return {
		[](int) {
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
			slow_handled++;
		},
	};
}

behavior quick_actor(event_based_actor *)
{
	return {
		[](int) {},
	};
}

void producer(event_based_actor *self, actor slow, actor quick, int n)
{
	for (int i = 0; i < n; i++) {
		self->send(slow, i);
		self->send(slow, i);
		self->send(quick, i);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int wait_ms = argc > 2 ? atoi(argv[2]) : 0;

	std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
	{
		actor_system_config cfg;
		cfg.set("scheduler.max-threads", 2);
		actor_system sys{cfg};
		auto slow = sys.spawn(slow_actor);
		auto quick = sys.spawn(quick_actor);
		for (int i = 0; i < 3; i++)
			sys.spawn(producer, slow, quick, n);
		while (slow_handled < 2 * 3 * n)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		printf("weft-sample: actor=slow id=%llu handled=%d\n",
		       (unsigned long long)slow.id(), slow_handled.load());
		printf("weft-sample: actor=quick id=%llu\n", (unsigned long long)quick.id());
		fflush(stdout);
		anon_send_exit(slow, exit_reason::user_shutdown);
		anon_send_exit(quick, exit_reason::user_shutdown);
	}
	return 0;
}
