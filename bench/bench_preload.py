# SPDX-License-Identifier: MIT
"""The preload shim: ns per interposed lock+unlock (goal: <= 30 ns over a plain one), the convoy's
overhead under `weft run --mode=preload` (goal <= 1.3x) and the inversion sample's (goal
<= 1.5x), beside ThreadSanitizer (gcc and clang) and Helgrind on the same programs."""
import os
import shutil
import statistics
import sys
import tempfile

from benchlib import BUILD, ROOT, WEFT, compare, run, wall

SAMPLES = os.path.join(BUILD, "samples", "preload")
SHIM = os.path.join(BUILD, "libweft-preload.so")
CONVOY = [os.path.join(SAMPLES, "convoy"), "4", "20000"]
INVERSION = [os.path.join(SAMPLES, "inversion"), "2000000", "0"]
# Helgrind runs ~300x slower: a tenth of the work, its ratio against the same tenth untraced
INVERSION_HELGRIND = ["200000", "0"]
RUNS = 5


def report(out):
    for line in out.splitlines():
        if line.startswith("weft-sample:"):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    return {}


def per_acquisition():
    """lockbench without the shim, with it (recording into a ring nobody drains, as under weft:
    the uncontended path writes nothing), and under weft run."""
    lb = os.path.join(SAMPLES, "lockbench")
    d = tempfile.mkdtemp(prefix="weft-bench-")
    env = dict(os.environ, LD_PRELOAD=SHIM, WEFT_PRELOAD_DIR=d)
    base, shim = [], []
    for _ in range(RUNS):
        # pinned to one CPU: the machine is shared, this keeps migrations out of the numbers
        cmd = ["taskset", "-c", "1", lb] if shutil.which("taskset") else [lb]
        base.append(report(run(cmd, capture_output=True, text=True).stdout))
        shim.append(report(run(cmd, capture_output=True, text=True,
                                          env=env).stdout))
    shutil.rmtree(d, ignore_errors=True)
    for key, what in (("ns_per_pair", "no lock held"),
                      ("ns_per_pair_nested", "outer+inner taken nested each time: lock-order check runs")):
        b = statistics.median(float(r[key]) for r in base)
        s = statistics.median(float(r[key]) for r in shim)
        bb = min(float(r[key]) for r in base)
        sb = min(float(r[key]) for r in shim)
        print(f"lock+unlock ({what}): plain {b:.1f} ns, under the shim {s:.1f} ns "
              f"(+{s - b:.1f} ns; best of {RUNS}: {bb:.1f} -> {sb:.1f} ns, +{sb - bb:.1f}); "
              f"goal: <= 30 ns per interposed acquisition")
    sys.stdout.flush()


def build_variant(src, cc, flags, out):
    p = run([cc, "-O2", "-g", "-pthread", *flags, src, "-o", out],
                       capture_output=True, text=True)
    return out if p.returncode == 0 else None


def others(name, src, args, helgrind_args=None):
    """Ratios of TSan (gcc, clang) and Helgrind on the same program, median of RUNS."""
    d = tempfile.mkdtemp(prefix="weft-bench-tsan-")
    plain = build_variant(src, "gcc", [], os.path.join(d, "plain"))
    base = statistics.median(wall([plain, *args]) for _ in range(RUNS))
    hg_args = helgrind_args or args
    hg_base = base if hg_args == args else statistics.median(wall([plain, *hg_args])
                                                               for _ in range(RUNS))
    variants = []
    for cc in ("gcc", "clang"):
        exe = build_variant(src, cc, ["-fsanitize=thread"], os.path.join(d, f"tsan-{cc}"))
        if exe:
            variants.append((f"TSan ({cc})", [exe, *args], dict(os.environ,
                             TSAN_OPTIONS="report_signal_unsafe=0 exitcode=0")))
        else:
            print(f"{name}: TSan ({cc}) not available")
    if shutil.which("valgrind"):
        variants.append(("Helgrind", ["valgrind", "--tool=helgrind", "-q", plain, *hg_args],
                         None))
    else:
        print(f"{name}: valgrind not installed (scripts/install-deps.sh installs it)")
    for label, cmd, env in variants:
        runs = 1 if label == "Helgrind" else RUNS
        t = statistics.median(wall(cmd, env=env) for _ in range(runs))
        b = hg_base if label == "Helgrind" else base
        note = f" (on {' '.join(hg_args)}: untraced {b * 1000:.0f} ms)" if b is not base else ""
        print(f"{name}: {label} {t * 1000:.0f} ms, ratio {t / b:.2f}x{note}")
        sys.stdout.flush()
    shutil.rmtree(d, ignore_errors=True)


def main():
    per_acquisition()
    compare("convoy (4 threads x 20000, one global mutex) --mode=preload", CONVOY, runs=RUNS,
            extra=("--mode=preload",))
    others("convoy", os.path.join(ROOT, "samples", "preload", "convoy.c"), CONVOY[1:])
    compare("inversion sample (2000000 rounds) --mode=preload", INVERSION, runs=RUNS,
            extra=("--mode=preload",))
    others("inversion", os.path.join(ROOT, "samples", "preload", "inversion.c"), INVERSION[1:],
           INVERSION_HELGRIND)


if __name__ == "__main__":
    main()
