# SPDX-License-Identifier: MIT
"""Shared pieces of weft's integration tests: running weft, reading traces back with
Perfetto's own trace processor (tests/tp), and a tiny test registry with property checks."""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("WEFT_BUILD", os.path.join(ROOT, "build"))
WEFT = os.path.join(BUILD, "weft")
SAMPLES = os.path.join(BUILD, "samples")
SAMPLES_SRC = os.path.join(ROOT, "samples")  # the samples that need no build (Python, ...)
PYTHON = "/usr/bin/python3.11"  # Debian's, not a pyenv one: the CPython weft reads frames of
TP_QUERY = os.path.join(ROOT, "tests", "tp", "tp_query.mjs")
TP_DIR = os.path.join(BUILD, "tp")

TESTS = []


class Failure(Exception):
    pass


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, what):
    if not cond:
        raise Failure(what)


def workdir():
    return tempfile.mkdtemp(prefix="weft-it-")


def weft(*args, timeout=120, user=None, **kw):
    """Runs weft; returns CompletedProcess with text stdout/stderr."""
    cmd = [WEFT, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def sample(path):
    return os.path.join(SAMPLES, path)


def query(trace, *sqls):
    """Runs SQL against a trace in Perfetto's trace processor; returns a list of row lists
    (each row a dict column -> value), one per query."""
    p = subprocess.run(["node", TP_QUERY, "--tp-dir", TP_DIR, trace, *sqls],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise Failure(f"trace processor failed ({p.returncode}): {p.stderr.strip()}")
    out = []
    for line in p.stdout.splitlines():
        doc = json.loads(line)
        out.append([dict(zip(doc["columns"], r)) for r in doc["rows"]])
    return out


IMPORT_PROBLEMS = ("select name, idx, severity, value from stats where value > 0 and "
                   "(severity in ('error', 'data_loss') or name like 'compact_sched_%' and "
                   "name != 'compact_sched_switch_skipped' or name like '%intern%' or "
                   "name like 'mismatched_sched_switch_tids%' or "
                   "name = 'packet_skipped_seq_needs_incremental_state_invalid')")


def check_clean_import(rows):
    check(not rows, f"trace processor reports import problems: {rows}")


def sample_report(stdout):
    """Parses the 'weft-sample: k=v ...' lines samples print about themselves."""
    out = []
    for line in stdout.splitlines():
        if line.startswith("weft-sample:"):
            out.append(dict(kv.split("=", 1) for kv in line.split()[1:]))
    return out


def records_lost(events):
    """The summary's losses that mean records went missing, {reason: count}: all but the rate
    limit's refusals."""
    return {k: v for k, v in events["lost_by_reason"].items() if v and "rate limit" not in k}


def within(value, expected, rel):
    return abs(value - expected) <= rel * max(abs(expected), 1)


def live_wefts():
    """Pids of weft processes that are not zombies."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.find("(") + 1:stat.rfind(")")] == "weft" and stat[stat.rfind(")") + 2] != "Z":
            pids.append(int(pid))
    return pids


def settle(timeout=10):
    """Waits for the child that releases a finished weft's probes (src/collect/detach.c): it
    holds the kernel's event_mutex link after link, and a weft starting meanwhile waits for it
    to attach its own, which shifts the timing of the next test."""
    deadline = time.monotonic() + timeout
    while live_wefts() and time.monotonic() < deadline:
        time.sleep(0.02)


def main():
    if os.geteuid() != 0:
        msg = "integration tests need root (BPF)"
        if os.environ.get("CI"):
            print(f"FAIL: {msg}, and CI must run them", file=sys.stderr)
            sys.exit(1)
        print(f"skip: {msg}", file=sys.stderr)
        sys.exit(77)
    only = sys.argv[1:]
    passed = failed = 0
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        settle()
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print(f"ok    {fn.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
        except Exception as e:  # a crash in a test is a failure of that test
            failed += 1
            print(f"FAIL  {fn.__name__}: {type(e).__name__}: {e}", flush=True)
    print(f"integration: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)
