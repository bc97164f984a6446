# SPDX-License-Identifier: MIT
"""Go (CSP): overhead of goroutine/channel attribution on a channel-heavy sample (800k channel
operations through buffered channels, goroutines blocking when a buffer runs full or empty).
The sample times its own work phase, so weft's start-up and the attach delay are left out.
Three interleaved configurations: untraced; weft on a stripped copy (scheduler capture only,
the Go probes cannot attach); weft on the real binary (scheduler + Go uprobes)."""
import json
import os
import statistics
import sys
import tempfile

from benchlib import BUILD, WEFT, run

SAMPLE = os.path.join(BUILD, "samples", "csp", "chan_heavy")
RUNS = 7
GOAL = 1.3


def work_us(cmd):
    p = run(cmd, capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        if line.startswith("weft-sample:") and "elapsed_us=" in line:
            return int(line.split("elapsed_us=")[1].split()[0])
    raise RuntimeError(f"no elapsed_us from {cmd}: {p.stdout} {p.stderr[-500:]}")


def main():
    d = tempfile.mkdtemp(prefix="weft-bench-go-")
    stripped = os.path.join(d, "chan_heavy-stripped")
    run(["strip", "-o", stripped, SAMPLE], check=True)
    trace, js = os.path.join(d, "g.pftrace"), os.path.join(d, "g.json")
    base, sched, full, hits = [], [], [], []
    for _ in range(RUNS):
        base.append(work_us([SAMPLE]))
        sched.append(work_us([WEFT, "run", "-f", "-o", trace, "--", stripped]))
        full.append(work_us([WEFT, "run", "-f", "-o", trace, "--summary-json", js, "--",
                             SAMPLE]))
        with open(js) as f:
            hits.append(json.load(f)["go"]["probe_hits"])
    b, s, g = (statistics.median(x) for x in (base, sched, full))
    h = statistics.median(hits)
    ratio = g / b
    print(f"channel-heavy (chan_heavy, 800k items through buffered channels): untraced "
          f"{b / 1000:.0f} ms, scheduler only {s / 1000:.0f} ms, scheduler + Go "
          f"{g / 1000:.0f} ms (work phase, median of {RUNS} interleaved runs)")
    print(f"  overhead ratio {ratio:.3f}x (goal <= {GOAL}x), best runs "
          f"{min(full) / min(base):.3f}x; Go probes alone {g / s:.3f}x over scheduler capture")
    print(f"  uprobe hits: {h:.0f} per run ({h / (g / 1e6):.0f}/s), estimated "
          f"{h * 10 / 1000:.1f} ms of target time at ~10 us/hit")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
