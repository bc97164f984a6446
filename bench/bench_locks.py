# SPDX-License-Identifier: MIT
"""Lock contention capture: no cost on uncontended locks (no futex call is made), little on a
contended convoy; the rate of futex records traced, and whether any were lost.

The samples time their own locking phase (wall and process CPU), so weft's start-up (loading
BPF, symbolizing its first stacks) is not counted; traced and untraced runs are interleaved and
the medians compared, within this one run (the machines are shared: only ratios mean much)."""
import os
import statistics
import sys
import tempfile

from benchlib import BUILD, WEFT, run, traced_summary

SAMPLES = os.path.join(BUILD, "samples", "threads")


def reported(cmd):
    out = run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("weft-sample:"):
            kv = dict(x.split("=", 1) for x in line.split()[1:])
            return int(kv["elapsed_ns"]), int(kv["cpu_ns"])
    raise RuntimeError(f"{cmd[0]} printed no weft-sample line: {out}")


def compare_self_timed(name, cmd, runs=7, extra=()):
    out = os.path.join(tempfile.mkdtemp(prefix="weft-bench-"), "b.pftrace")
    base, traced = [], []
    for _ in range(runs):
        base.append(reported(cmd))
        traced.append(reported([WEFT, "run", "-f", "-o", out, *extra, "--", *cmd]))
    bw, bc = (statistics.median(x[i] for x in base) for i in (0, 1))
    tw, tc = (statistics.median(x[i] for x in traced) for i in (0, 1))
    # The fastest runs are the ones the other tenants of a shared machine disturbed least.
    best_w = min(x[0] for x in traced) / min(x[0] for x in base)
    print(f"{name}: untraced {bw / 1e6:.0f} ms wall / {bc / 1e6:.0f} ms CPU, traced "
          f"{tw / 1e6:.0f} ms / {tc / 1e6:.0f} ms: ratio {tw / bw:.3f}x wall, {tc / bc:.3f}x CPU "
          f"(median of {runs} interleaved runs); fastest vs fastest {best_w:.3f}x wall")
    sys.stdout.flush()
    return tw / bw, tc / bc


def main():
    # Runs of a second or more: weft's one-time start-up work while the target runs (loading
    # kallsyms and the first DWARF tables, ~0.1 s of CPU) must not pass for a per-lock cost.
    # 2 threads x 50M lock/unlock pairs of private mutexes: never contended.
    unc = compare_self_timed("uncontended lock/unlock (2 threads x 50M)",
                             [os.path.join(SAMPLES, "uncontended"), "50000000", "2"])
    # 4 threads queueing on one mutex held 20 us at a time.
    convoy = [os.path.join(SAMPLES, "lock_convoy"), "20000", "20", "4"]
    con = compare_self_timed("contended convoy (4 threads x 20000, 20 us held)", convoy)
    # The same without the lock probes: what the scheduler capture alone costs here.
    compare_self_timed("contended convoy, --no-locks (scheduler capture only)", convoy,
                       extra=("--no-locks",))
    s = traced_summary(convoy)
    ev = s["events"]
    secs = s["duration_ns"] / 1e9
    futex = sum(ev["by_type"].get(k, 0) for k in ("lock_begin", "lock_end", "lock_stack"))
    waits = sum(lk["waits"] for lk in s["locks"])
    print(f"convoy: {waits} contended waits, {futex} futex records in {secs:.2f} s = "
          f"{futex / secs:.0f} records/s ({waits / secs:.0f} waits/s), lost {ev['lost']}; "
          f"weft's CPU per contended wait {ev['collector_cpu_ns'] / max(waits, 1) / 1e3:.1f} us "
          f"(its records, slices, flows, counters and stacks)")
    print(f"targets: uncontended 1.00x (got {unc[0]:.3f}x wall, {unc[1]:.3f}x CPU), "
          f"convoy <= 1.05x (got {con[0]:.3f}x wall, {con[1]:.3f}x CPU)")


if __name__ == "__main__":
    main()
