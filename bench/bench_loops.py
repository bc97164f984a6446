# SPDX-License-Identifier: MIT
"""Event loops: overhead on a loop doing tens of thousands of short iterations per second with
stall detection and culprit sampling on; the sampling rate and the events per second."""
import os
import statistics

from benchlib import (BUILD, bpf_program_costs, compare, print_program_costs, run, traced_cmd,
                      traced_summary)

EPOLL = os.path.join(BUILD, "samples", "loops", "epoll_loop")
SAMPLE_HZ = 499  # src/collect/loops.h LOOPS_DEFAULT_SAMPLE_HZ: cpu-clock, per CPU
CMD = [EPOLL, "fast", "60000"]  # eventfd-driven: epoll_wait + read + write, ~20 us of work


def loop_elapsed(cmd):
    """The loop's own time (it prints elapsed_ns): weft's start-up and teardown excluded."""
    out = run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "elapsed_ns=" in line:
            return int(line.split("elapsed_ns=")[1].split()[0]) / 1e9
    raise RuntimeError(f"no elapsed_ns in {out!r}")


def main():
    runs = 9
    base, traced = [], []
    for _ in range(runs):
        base.append(loop_elapsed(CMD))
        traced.append(loop_elapsed(traced_cmd(CMD)))
    b, t = statistics.median(base), statistics.median(traced)
    print(f"epoll loop, 60000 short iterations: untraced {b * 1000:.0f} ms, traced "
          f"{t * 1000:.0f} ms, overhead ratio {t / b:.3f}x (loop's own time, median of {runs} "
          f"interleaved runs; goal <= 1.05x)")
    compare("same loop, wall time of the whole command (start-up subtracted)", CMD, runs=5)
    # Longer, so the statistics are read while the loop still runs.
    print_program_costs(bpf_program_costs([EPOLL, "fast", "200000"]))

    s = traced_summary(CMD)
    ev, secs = s["events"], s["duration_ns"] / 1e9
    loop_records = sum(v for k, v in ev["by_type"].items()
                       if k.startswith("loop_") or k.startswith("poll_"))
    for lt in (x for x in s["loops"]["threads"] if x["iterations"] > 1000):
        print(f"loop thread {lt['tid']}: {lt['iterations_per_s']:.0f} iterations/s, busy "
              f"{lt['busy_pct']:.1f}%, p50 {lt['iteration_p50_ns'] / 1e3:.1f} us, "
              f"p99 {lt['iteration_p99_ns'] / 1e3:.1f} us, stalls {len(lt['stalls'])}")
    print(f"culprit sampling: software cpu-clock at {SAMPLE_HZ} Hz per CPU; a sample is recorded "
          f"only on a loop thread at least 1 ms into an iteration")
    print(f"events: {ev['captured']} in {secs:.2f} s = {ev['captured'] / secs:.0f}/s, of which "
          f"event-loop records {loop_records / secs:.0f}/s; lost {ev['lost']}; "
          f"by type {ev['by_type']}")


if __name__ == "__main__":
    main()
