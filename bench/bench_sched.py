# SPDX-License-Identifier: MIT
"""Scheduler capture: overhead on a context-switch-heavy sample, collector cost per event,
events per second without loss, and trace bytes per context switch."""
import os

from benchlib import (BUILD, bpf_program_costs, compare, compare_with_floor, print_program_costs,
                      traced_summary)

PINGPONG = os.path.join(BUILD, "samples", "threads", "pingpong")


def main():
    # ~100k switches/s: two threads handing a token through pipes, plus a sleeper. Where the
    # scheduler puts the two threads decides the hand-off time (both on one CPU or not, runs
    # differ by 2x), so the sample pins them for the main numbers: first on two CPUs (every
    # hand-off wakes the other CPU), then both on one (no idle CPU to wake: the pure
    # per-switch cost, and the worst case, a hand-off takes ~4 us). Each is set beside the
    # least any tracer of these tracepoints costs here: empty programs on them.
    compare_with_floor("context-switch heavy, hand-offs across two CPUs",
                       [PINGPONG, "100000", "50", "0", "1"], runs=9,
                       variants={"weft, no off-CPU stacks": ("--stack-rate", "0")})
    compare_with_floor("context-switch heavy, both threads on one CPU",
                       ["taskset", "-c", "1", PINGPONG, "100000", "50"], runs=9)
    compare("context-switch heavy, placed by the scheduler", [PINGPONG, "100000", "50"], runs=9)
    print_program_costs(bpf_program_costs([PINGPONG, "100000", "50"]))
    # 20 us of work per hand-off: ~40k switches/s, a busy but realistic service.
    compare("busy service (pingpong, 20 us work per hand-off)", [PINGPONG, "30000", "50", "20"])
    # weft's CPU per event moves by a third with the host's load: the median of five runs,
    # and their spread, alternating plain and compressed traces.
    runs = {(): [], ("--no-compress",): []}
    for _ in range(5):
        for extra in runs:
            runs[extra].append(traced_summary([PINGPONG, "400000", "50"], extra))
    by_cost = sorted(runs[()], key=lambda s: s["events"]["collector_ns_per_event"])
    s = by_cost[len(by_cost) // 2]
    ev = s["events"]
    secs = s["duration_ns"] / 1e9
    print(f"events: {ev['captured']} in {secs:.2f} s = {ev['captured'] / secs:.0f}/s, "
          f"lost {max(r['events']['lost'] for r in runs[()])} (the most in 5 runs)")
    for extra, label in (((), "compressed trace (the default)"),
                         (("--no-compress",), "--no-compress")):
        ns = sorted(r["events"]["collector_ns_per_event"] for r in runs[extra])
        print(f"collector CPU per event, {label}: median {ns[2]:.0f} ns "
              f"(5 runs: {ns[0]:.0f}-{ns[-1]:.0f})")
    # Memory must not grow with the length of the recording.
    rss = {}
    for rounds in ("50000", "400000"):
        rss[rounds] = traced_summary([PINGPONG, rounds, "50"])["events"]["collector_max_rss_kb"]
    print(f"collector peak RSS: {rss['50000'] / 1024:.1f} MiB for 50k rounds, "
          f"{rss['400000'] / 1024:.1f} MiB for 400k rounds")
    for how, e in (("", ev), (" with --no-compress", runs[("--no-compress",)][0]["events"])):
        sw, wk = e["by_type"]["switch"], e["by_type"]["waking"]
        print(f"trace bytes per context switch{how}: {e['trace_bytes'] / sw:.2f} with the "
              f"wakeups, names and off-CPU stacks included; {e['trace_bytes'] / (sw + wk):.2f} "
              f"per scheduling event (switch or wakeup)")


if __name__ == "__main__":
    main()
