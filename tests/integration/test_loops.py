# SPDX-License-Identifier: MIT
"""Event loops: seeded stalls in the loop samples (C epoll, libuv, libevent, Node.js, Python
asyncio) are found with their duration and culprit; a calm loop has none."""
import json
import os
import subprocess
import time

import harness
from harness import (IMPORT_PROBLEMS, PYTHON, Failure, check, check_clean_import, query,
                     records_lost, sample, sample_report, test, weft, within, workdir)

SAMPLES_SRC = os.path.join(harness.SAMPLES_SRC, "loops")

STALL_SLICES_SQL = """
select s.ts, s.dur, s.name,
  (select string_value from args a where a.arg_set_id = s.arg_set_id
     and a.key = 'debug.culprit') as culprit
from slice s join track t on s.track_id = t.id
where t.name = 'event loop' and s.name = 'stall' order by s.ts"""


def run_loop(name, cmd, extra=()):
    d = workdir()
    trace, js = os.path.join(d, f"{name}.pftrace"), os.path.join(d, f"{name}.json")
    # cwd: node --perf-basic-prof leaves V8 logs (isolate-*.log) in its working directory.
    p = weft("run", "-o", trace, "--summary-json", js, *extra, "--", *cmd, cwd=d)
    check(p.returncode == 0, f"{name}: weft run failed ({p.returncode}): {p.stderr[-2000:]}")
    report = sample_report(p.stdout)
    loop = [r for r in report if "iterations" in r]
    check(loop, f"{name}: the sample did not finish: {p.stdout[-1000:]}")
    with open(js) as f:
        summary = json.load(f)
    tid = int(loop[0]["tid"])
    threads = {t["tid"]: t for t in summary["loops"]["threads"]}
    check(tid in threads, f"{name}: loop thread {tid} not found; loops: "
          f"{[(t['tid'], t['comm'], t['iterations']) for t in threads.values()]}")
    seeded = [r for r in report if "stall_ms" in r]
    return dict(trace=trace, loop=threads[tid], seeded=seeded, stderr=p.stderr,
                summary=summary, iterations=int(loop[0]["iterations"]))


def match_stalls(name, r, culprit_for=lambda s: s["function"], others_ok=False):
    """Every seeded stall has exactly one weft stall within ±20% of its duration whose culprit
    names the seeded function; no other stall (others_ok: none blaming a seeded function)."""
    stalls = list(r["loop"]["stalls"])
    check(len(r["seeded"]) >= 2, f"{name}: the sample seeded {len(r['seeded'])} stalls")
    for s in r["seeded"]:
        ms = int(s["stall_ms"])
        found = [x for x in stalls if within(x["dur_ns"] / 1e6, ms, 0.20)]
        check(found, f"{name}: no stall of ~{ms} ms ({s['function']}); weft found "
              f"{[(x['dur_ns'] / 1e6, x['culprit']) for x in r['loop']['stalls']]}")
        want = culprit_for(s)
        named = [x for x in found if want in x["culprit"] or any(want in fr for fr in x["stack"])]
        check(named, f"{name}: the {ms} ms stall blames {found[0]['culprit']!r}, stack "
              f"{found[0]['stack'][:8]}, expected {want!r}")
        x = named[0]
        stalls.remove(x)
    if others_ok:
        seeded = {culprit_for(s) for s in r["seeded"]}
        stalls = [x for x in stalls if any(f in x["culprit"] for f in seeded)]
    check(not stalls, f"{name}: stalls nobody seeded: "
          f"{[(x['dur_ns'] / 1e6, x['culprit']) for x in stalls]}")


def check_trace_stalls(name, r):
    problems, rows = query(r["trace"], IMPORT_PROBLEMS, STALL_SLICES_SQL)
    check_clean_import(problems)
    check(len(rows) == len(r["loop"]["stalls"]),
          f"{name}: {len(rows)} stall slices in the trace, summary has "
          f"{len(r['loop']['stalls'])}: {rows}")
    check(all(row["culprit"] for row in rows), f"{name}: stall slices without culprit: {rows}")


def c_sample(name, binary):
    r = run_loop(name, [sample(f"loops/{binary}"), "stalls"])
    match_stalls(name, r)
    check_trace_stalls(name, r)
    blocking = r["loop"]["blocking_calls"]
    check(any("stall_sleep_200ms" in b["name"] and within(b["max_ns"] / 1e6, 200, 0.2)
              for b in blocking), f"{name}: blocking calls {blocking}")
    check(r["loop"]["iterations"] > 300, f"{name}: only {r['loop']['iterations']} iterations")
    return r


@test
def epoll_stalls_and_culprits():
    r = c_sample("epoll", "epoll_loop")
    # Each of its iterations is one epoll_wait: the counts must agree.
    check(within(r["loop"]["iterations"], r["iterations"], 0.02),
          f"epoll: weft counted {r['loop']['iterations']} iterations, the loop "
          f"{r['iterations']}")


@test
def libuv_stalls_and_culprits():
    c_sample("libuv", "libuv_loop")


@test
def libevent_stalls_and_culprits():
    c_sample("libevent", "libevent_loop")


@test
def many_short_stalls_are_all_found():
    """Hundreds of short stalls: each is found and covers its seeded function, and each asleep
    one is blamed on its sleep. Iteration bounds come from the poll calls themselves, and a
    blocking call is kept even when its switch-in goes unseen (rare: about one switch in
    1 500 here), so none of them may go missing or be cut short."""
    n, ms = 300, 8
    r = run_loop("many", [sample("loops/epoll_loop"), "many", str(n), str(ms)],
                 ("--stall-threshold", str(ms // 2)))
    check(len(r["seeded"]) == n, f"many: the sample seeded {len(r['seeded'])} of {n} stalls")
    stalls = r["loop"]["stalls"]
    missed, misnamed = [], []
    for s in r["seeded"]:
        start, end = int(s["start_ns"]), int(s["start_ns"]) + int(s["dur_ns"])
        found = [x for x in stalls
                 if x["start_ns"] <= start and x["start_ns"] + x["dur_ns"] >= end]
        if not found:
            missed.append(start)
        elif s["function"] == "stall_sleep_short" and not (
                found[0]["blocking"] and found[0]["culprit"] == "stall_sleep_short"):
            misnamed.append((start, found[0]["culprit"]))
    check(not missed, f"many: {len(missed)} seeded stalls without a stall covering them: "
          f"{missed[:5]}")
    # A sleep whose block record the switch hook could not keep (README: about one switch in
    # 1 500) is named from samples instead: allow one in a hundred, no more.
    sleeps = sum(1 for s in r["seeded"] if s["function"] == "stall_sleep_short")
    check(len(misnamed) * 100 <= sleeps,
          f"many: {len(misnamed)} of {sleeps} sleeps not blamed on the sleep: {misnamed[:5]}")


@test
def calm_loop_has_no_stalls():
    r = run_loop("calm", [sample("loops/epoll_loop"), "calm"])
    check(r["loop"]["iterations"] > 300, f"calm: only {r['loop']['iterations']} iterations")
    # No record lost, not even the stack of the loop thread's last switch as it exits (its
    # memory is gone then, and that is not a loss).
    lost = records_lost(r["summary"]["events"])
    check(not lost, f"calm: records lost: {lost}")
    check(not r["loop"]["stalls"], f"calm: stalls reported: {r['loop']['stalls']}")
    rows = query(r["trace"], STALL_SLICES_SQL)[0]
    check(not rows, f"calm: stall slices in the trace: {rows}")


@test
def loop_stuck_at_the_end_is_an_ongoing_stall():
    """A handler that has not returned when the recording stops: no poll call ends the
    iteration, the samples show it."""
    d = workdir()
    trace, js = os.path.join(d, "hang.pftrace"), os.path.join(d, "hang.json")
    target = subprocess.Popen([sample("loops/epoll_loop"), "hang"], stdout=subprocess.PIPE,
                              text=True)
    try:
        # The loop runs 1.5 s before it hangs: weft attaches well within that (start-up
        # takes about 0.5 s), and records 1.5 s of the hang.
        time.sleep(0.1)
        p = weft("record", "-p", str(target.pid), "-d", "3", "-o", trace, "--summary-json", js)
        check(p.returncode == 0, f"weft record failed ({p.returncode}): {p.stderr[-2000:]}")
    finally:
        target.kill()
        out = target.communicate()[0]
    seeded = [r for r in sample_report(out) if r.get("function") == "stall_forever"]
    check(seeded, f"the sample did not hang: {out}")
    with open(js) as f:
        loops = json.load(f)["loops"]["threads"]
    mine = [t for t in loops if t["tid"] == int(seeded[0]["tid"])]
    check(mine, f"loop thread not found: {loops}")
    stalls = mine[0]["stalls"]
    check(len(stalls) == 1 and stalls[0]["ongoing"] and stalls[0]["culprit"] == "stall_forever"
          and stalls[0]["dur_ns"] > 1e9, f"stalls of the stuck loop: {stalls}")


@test
def node_stalls_name_the_js_function():
    r = run_loop("node", ["node", "--perf-basic-prof",
                          os.path.join(SAMPLES_SRC, "node_async.mjs")])
    # Node's start-up (compiling its own modules once the loop runs) may stall it too.
    match_stalls("node", r, others_ok=True)
    check(not r["loop"]["node_perf_map_missing"], "node: perf map reported missing")


@test
def node_without_perf_map_gets_a_hint():
    d = workdir()
    p = weft("run", "-o", os.path.join(d, "n.pftrace"), "--", "node",
             os.path.join(SAMPLES_SRC, "node_async.mjs"), "calm", cwd=d)
    check(p.returncode == 0, f"weft run failed: {p.stderr[-1000:]}")
    check("--perf-basic-prof" in p.stderr, f"no perf map hint: {p.stderr[-1500:]}")


@test
def asyncio_stalls_name_python_functions():
    if not os.path.exists(PYTHON):
        raise Failure(f"{PYTHON} missing (scripts/install-deps.sh installs it)")
    r = run_loop("asyncio", [PYTHON, os.path.join(SAMPLES_SRC, "asyncio_sleep.py")])
    # The Python function (read from CPython 3.11's frames): the coroutine that called
    # time.sleep, the function that crunched numbers.
    match_stalls("asyncio", r, culprit_for=lambda s: "blocking_sleeper"
                 if s["function"] == "time.sleep" else "crunch_numbers")
    for x in r["loop"]["stalls"]:
        native = [fr for fr in x["stack"] if fr.endswith("(python3.11)")]
        check(native, f"asyncio: no native interpreter frames in {x['stack']}")
    sleep = [x for x in r["loop"]["stalls"] if within(x["dur_ns"] / 1e6, 200, 0.2)][0]
    check(sleep["blocking"] and any(fr.startswith("clock_nanosleep ") for fr in sleep["stack"]),
          f"asyncio: time.sleep stall not blamed on the blocking call: {sleep}")
    check(any(b["name"] == "clock_nanosleep in blocking_sleeper"
              for b in r["loop"]["blocking_calls"]),
          f"asyncio: blocking calls {r['loop']['blocking_calls']}")
