# SPDX-License-Identifier: MIT
"""Actors: what BEAM uprobes cost a message-heavy program, unsampled and in sampled mode
(--actor-budget), and what weft.h costs when weft is not attached."""
import os
import statistics
import sys
import tempfile

from benchlib import BUILD, WEFT, run

MSGBENCH = os.path.join(BUILD, "samples", "actors", "msgbench.erl")
NOP = os.path.join(BUILD, "samples", "actors", "annotate_cost")


def report(out):
    for line in out.splitlines():
        if line.startswith("weft-sample:"):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    raise RuntimeError(f"no report in: {out[-500:]}")


def msgbench(msgs, work_us, extra=None):
    """(wall seconds, rate, CPU seconds) of the message loop, measured inside the VM (so VM
    boot is excluded), untraced when extra is None, else under `weft run extra...`."""
    cmd = [MSGBENCH, str(msgs), str(work_us)]
    if extra is not None:
        out = os.path.join(tempfile.mkdtemp(prefix="weft-bench-"), "b.pftrace")
        cmd = [WEFT, "run", "-f", "-o", out, *extra, "--", *cmd]
    p = run(cmd, capture_output=True, text=True, check=True)
    r = report(p.stdout)
    return float(r["seconds"]), float(r["rate"]), float(r["cpu_s"])


def compare(work_us, msgs, runs, extra):
    """Interleaved untraced/traced runs; medians of wall time and of the VM's CPU time."""
    base, traced = [], []
    for _ in range(runs):
        base.append(msgbench(msgs, work_us))
        traced.append(msgbench(msgs, work_us, extra))
    b = [statistics.median(x[i] for x in base) for i in range(3)]
    t = [statistics.median(x[i] for x in traced) for i in range(3)]
    mode = " ".join(extra) if extra else "all messages"
    print(f"BEAM {b[1]:6.0f} msgs/s ({work_us:4d} us/msg), {mode:20s}: wall {b[0]:.2f} -> "
          f"{t[0]:.2f} s, ratio {t[0] / b[0]:.2f}x; VM CPU {b[2]:.2f} -> {t[2]:.2f} s, "
          f"ratio {t[2] / b[2]:.2f}x")
    sys.stdout.flush()
    return t[0] / b[0]


def main():
    runs = int(os.environ.get("WEFT_BENCH_RUNS", "5"))
    p = run([NOP, "20000000"], capture_output=True, text=True, check=True)
    # best of 5 rounds each, so load from elsewhere on the machine mostly drops out
    r = report(p.stdout)
    print(f"weft.h without weft: plain {r['plain_ns']} ns/op, annotated {r['annotated_ns']} "
          f"ns/op, ratio {r['ratio']}x")
    for work_us, msgs in ((1000, 2000), (300, 6000), (50, 20000)):
        compare(work_us, msgs, runs, [])
    compare(50, 20000, runs, ["--actor-budget", "5"])


if __name__ == "__main__":
    main()
