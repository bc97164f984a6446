// SPDX-License-Identifier: MIT
/*
 * Sample (threads, C++): contention on a global std::mutex.
 *   THREADS std::threads ("cxx-N") each take g_cxx_lock ITERS times through std::lock_guard and
 *   hold it for ~30 us in ledger_post().
 * Prints: weft-sample: lock=g_cxx_lock threads=N iters=N
 * Usage: cxx_mutex [ITERS [THREADS]]
 */
#include <pthread.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

std::mutex g_cxx_lock;
static volatile long ledger;

__attribute__((noinline)) void ledger_post(long i)
{
	std::lock_guard<std::mutex> guard(g_cxx_lock);
	auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(30);
	while (std::chrono::steady_clock::now() < end)
		;
	ledger += i;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000;
	long nthreads = argc > 2 ? atol(argv[2]) : 4;
	std::vector<std::thread> th;

	for (long t = 0; t < nthreads; t++)
		th.emplace_back([t, iters] {
			std::string name = "cxx-" + std::to_string(t);
			pthread_setname_np(pthread_self(), name.c_str());
			for (long i = 0; i < iters; i++)
				ledger_post(i);
		});
	for (auto &t : th)
		t.join();
	std::printf("weft-sample: lock=g_cxx_lock threads=%ld iters=%ld\n", nthreads, iters);
	return 0;
}
