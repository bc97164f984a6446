# SPDX-License-Identifier: MIT
"""Helpers for weft's benchmarks: interleaved traced/untraced runs, medians, ratios.
Numbers are only compared within one run of one benchmark: the machines are shared."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("WEFT_BUILD", os.path.join(ROOT, "build"))
WEFT = os.path.join(BUILD, "weft")


def wall(cmd, env=None):
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=env)
    return time.monotonic() - t0


def traced_cmd(cmd, extra=(), out=None):
    out = out or os.path.join(tempfile.mkdtemp(prefix="weft-bench-"), "b.pftrace")
    return [WEFT, "run", "-f", "-o", out, *extra, "--", *cmd]


def compare(name, cmd, runs=5, extra=(), setup=None):
    """Runs cmd untraced and under `weft run`, interleaved, `runs` times each; prints and
    returns the ratio of the medians. The traced time includes weft's start-up (loading BPF),
    measured separately as `weft run -- true` and subtracted."""
    base, traced, startup = [], [], []
    for _ in range(runs):
        startup.append(wall(traced_cmd(["true"], extra)))
        base.append(wall(cmd))
        traced.append(wall(traced_cmd(cmd, extra)))
    b, t, s = (statistics.median(x) for x in (base, traced, startup))
    ratio = (t - s) / b
    print(f"{name}: untraced {b * 1000:.0f} ms, traced {t * 1000:.0f} ms "
          f"(start-up {s * 1000:.0f} ms), overhead ratio {ratio:.3f}x "
          f"(median of {runs} interleaved runs)")
    sys.stdout.flush()
    return ratio
