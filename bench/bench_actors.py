# SPDX-License-Identifier: MIT
"""Actors: what BEAM uprobes cost a message-heavy program, unsampled and in sampled mode
(--actor-budget), and what weft.h costs when weft is not attached."""
import os
import statistics
import subprocess
import sys
import tempfile

from benchlib import BUILD, WEFT

MSGBENCH = os.path.join(BUILD, "samples", "actors", "msgbench.erl")
NOP = os.path.join(BUILD, "samples", "actors", "annotate_cost")


def report(out):
    for line in out.splitlines():
        if line.startswith("weft-sample:"):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    raise RuntimeError(f"no report in: {out[-500:]}")


def msgbench(msgs, work_us, extra=None):
    """Seconds the message loop took (measured inside the VM, so VM boot is excluded),
    untraced when extra is None, else under `weft run extra...`."""
    cmd = [MSGBENCH, str(msgs), str(work_us)]
    if extra is not None:
        out = os.path.join(tempfile.mkdtemp(prefix="weft-bench-"), "b.pftrace")
        cmd = [WEFT, "run", "-f", "-o", out, *extra, "--", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    r = report(p.stdout)
    return float(r["seconds"]), float(r["rate"])


def compare(work_us, msgs, runs, extra):
    base, traced, rates = [], [], []
    for _ in range(runs):
        b, rate = msgbench(msgs, work_us)
        base.append(b)
        rates.append(rate)
        traced.append(msgbench(msgs, work_us, extra)[0])
    b, t = statistics.median(base), statistics.median(traced)
    mode = " ".join(extra) if extra else "all messages"
    print(f"BEAM {statistics.median(rates):7.0f} msgs/s ({work_us} us/msg), {mode:20s}: "
          f"untraced {b:.2f} s, traced {t:.2f} s, ratio {t / b:.2f}x")
    sys.stdout.flush()
    return t / b


def main():
    runs = int(os.environ.get("WEFT_BENCH_RUNS", "5"))
    p = subprocess.run([NOP, "20000000"], capture_output=True, text=True, check=True)
    r = report(p.stdout)
    print(f"weft.h without weft: plain {r['plain_ns']} ns/op, annotated {r['annotated_ns']} "
          f"ns/op, ratio {r['ratio']}x")
    for work_us, msgs in ((1000, 2000), (300, 6000), (50, 20000)):
        compare(work_us, msgs, runs, [])
    compare(50, 20000, runs, ["--actor-budget", "5"])


if __name__ == "__main__":
    main()
