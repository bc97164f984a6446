# SPDX-License-Identifier: MIT
"""Helpers for weft's benchmarks: interleaved traced/untraced runs, medians, ratios.
Numbers are only compared within one run of one benchmark: the machines are shared."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("WEFT_BUILD", os.path.join(ROOT, "build"))
WEFT = os.path.join(BUILD, "weft")


def traced_cmd(cmd, extra=(), out=None):
    out = out or os.path.join(tempfile.mkdtemp(prefix="weft-bench-"), "b.pftrace")
    return [WEFT, "run", "-f", "-o", out, *extra, "--", *cmd]


def weft_alive():
    """Whether a weft process other than a zombie exists."""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm, state = stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:][:1]
        if comm == "weft" and state != "Z":
            return True
    return False


def run(cmd, **kwargs):
    """subprocess.run, and then the end of weft's release of its probes. weft leaves the links
    still to release when it exits to a child that outlives it (collect/detach.c); until that
    child is gone the programs still run their filters on every switch of the machine, a cost
    the next measurement must not carry."""
    p = subprocess.run(cmd, **kwargs)
    deadline = time.monotonic() + 10
    while weft_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    return p


def wall(cmd, env=None):
    """Wall time of a whole command, start-up included."""
    t0 = time.monotonic()
    run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.monotonic() - t0


def inner_time(cmd):
    """Runs cmd; returns the duration it reports itself (weft-sample: elapsed_us=N), which
    leaves out process start-up and the tracer's own start-up, or None if it reports none."""
    p = run(cmd, capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        if line.startswith("weft-sample:") and "elapsed_us=" in line:
            return int(line.split("elapsed_us=")[1].split()[0]) / 1e6
    return None


def compare(name, cmd, runs=5, extra=()):
    """Runs cmd untraced and under `weft run`, interleaved, `runs` times each, and prints the
    ratio of the medians. Durations are the workload's own (elapsed_us) when it reports them,
    else wall times with weft's start-up (`weft run -- true`) subtracted."""
    base, traced, startup = [], [], []
    own = inner_time(cmd) is not None
    for _ in range(runs):
        if own:
            base.append(inner_time(cmd))
            traced.append(inner_time(traced_cmd(cmd, extra)))
        else:
            startup.append(wall(traced_cmd(["true"], extra)))
            base.append(wall(cmd))
            traced.append(wall(traced_cmd(cmd, extra)))
    b, t = statistics.median(base), statistics.median(traced)
    if startup:
        t -= statistics.median(startup)
    ratio = t / b
    how = "the workload's own time" if own else "wall time less weft's start-up"
    print(f"{name}: untraced {b * 1000:.0f} ms, traced {t * 1000:.0f} ms, overhead ratio "
          f"{ratio:.3f}x ({how}, median of {runs} interleaved runs)")
    sys.stdout.flush()
    return ratio


FLOOR = os.path.join(BUILD, "bench", "tracepoint_floor")


def under_floor(kind, cmd):
    """The workload's own time (elapsed_us) while tracepoint_floor's `kind` programs (empty, or
    a clock read) are attached to sched_switch and sched_waking."""
    p = subprocess.Popen([FLOOR, kind], stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{FLOOR} {kind} did not attach")
        return inner_time(cmd)
    finally:
        p.terminate()
        p.wait()


def compare_with_floor(name, cmd, runs=7, extra=(), variants=None):
    """Like compare(), interleaving two more conditions as references: the least any tracer
    hooking the same two tracepoints costs (empty programs), and the same with one clock read
    per call (every record needs a timestamp). variants: {label: weft options}, more weft runs
    to interleave."""
    variants = variants or {}
    times = {"untraced": [], "weft": [], **{label: [] for label in variants},
             "empty programs": [], "programs reading the clock": []}
    for _ in range(runs):
        times["untraced"].append(inner_time(cmd))
        times["weft"].append(inner_time(traced_cmd(cmd, extra)))
        for label, options in variants.items():
            times[label].append(inner_time(traced_cmd(cmd, (*extra, *options))))
        times["empty programs"].append(under_floor("empty", cmd))
        times["programs reading the clock"].append(under_floor("clock", cmd))
    base = statistics.median(times["untraced"])
    print(f"{name} (median of {runs} interleaved runs, the workload's own time):")
    for what, t in times.items():
        print(f"  {what:28s} {statistics.median(t) * 1000:7.0f} ms  "
              f"{statistics.median(t) / base:.3f}x")
    sys.stdout.flush()


def bpf_program_costs(cmd, extra=(), settle=1.0):
    """Runs cmd under `weft run` with the kernel's BPF run-time statistics on, and returns
    {program name: (runs, mean ns per run)} for the programs this weft loaded, read while cmd
    still runs. The statistics add two clock reads per run, so the means are a little high."""
    def progs():
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                             check=True).stdout
        return json.loads(out)

    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        was = f.read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    try:
        newest = max([p["id"] for p in progs()] + [0])
        p = subprocess.Popen(traced_cmd(cmd, extra), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(settle)
        costs = {}
        for prog in progs():
            if prog["id"] > newest and prog.get("run_cnt", 0) > 0:
                name = prog.get("name", "?")
                n, t = costs.get(name, (0, 0))
                costs[name] = (n + prog["run_cnt"], t + prog["run_time_ns"])
        p.wait()
        run(["true"])  # weft's probes released
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(was)
    return {name: (n, t / n) for name, (n, t) in costs.items()}


def print_program_costs(costs, min_runs=1000):
    busy = sorted(((n, mean, name) for name, (n, mean) in costs.items() if n >= min_runs),
                  key=lambda x: -x[0] * x[1])
    print("BPF programs, mean cost per run (kernel bpf_stats, taken in the same run; every run "
          "counts, the traced processes' or not):")
    for n, mean, name in busy:
        print(f"  {name:<20} {n:>9} runs  {mean:6.0f} ns")


def traced_summary(cmd, extra=()):
    """Runs cmd under `weft run` and returns weft's summary (--summary-json) as a dict."""
    d = tempfile.mkdtemp(prefix="weft-bench-")
    js = os.path.join(d, "s.json")
    run(traced_cmd(cmd, ("--summary-json", js, *extra), os.path.join(d, "s.pftrace")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(js) as f:
        return json.load(f)
