# SPDX-License-Identifier: MIT
"""Sample (async/await, Python asyncio): a ticker coroutine awaits every millisecond; one
coroutine blocks the loop with time.sleep(0.2) (a blocking call), another runs the CPU-heavy
crunch_numbers() for 150 ms. Run it with Debian's /usr/bin/python3.11.
  asyncio_sleep.py [stalls|calm]
Prints per seeded stall:  weft-sample: stall_ms=MS function=NAME tid=TID start_ns=BOOTTIME
and at the end            weft-sample: thread=loop tid=TID iterations=N"""
import asyncio
import sys
import threading
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "stalls"


def boot_ns():
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME)


def report(ms, fn, t0):
    print(f"weft-sample: stall_ms={ms} function={fn} tid={threading.get_native_id()} "
          f"start_ns={t0} dur_ns={boot_ns() - t0}", flush=True)


def crunch_numbers(ms):
    end = time.perf_counter() + ms / 1000
    x = 0
    while time.perf_counter() < end:
        for i in range(2000):
            x = (x * 31 + i) % 1000003
    return x


async def blocking_sleeper():
    await asyncio.sleep(0.8)
    t0 = boot_ns()
    time.sleep(0.2)
    report(200, "time.sleep", t0)


async def cruncher():
    await asyncio.sleep(0.3)
    t0 = boot_ns()
    crunch_numbers(150)
    report(150, "crunch_numbers", t0)


async def main():
    run_s = 1.6 if MODE == "stalls" else 1.0
    tasks = [asyncio.create_task(blocking_sleeper()), asyncio.create_task(cruncher())] \
        if MODE == "stalls" else []
    start, n = time.monotonic(), 0
    while time.monotonic() - start < run_s:
        await asyncio.sleep(0.001)
        n += 1
    for t in tasks:
        await t
    print(f"weft-sample: thread=loop tid={threading.get_native_id()} iterations={n}", flush=True)


asyncio.run(main())
