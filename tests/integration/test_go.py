# SPDX-License-Identifier: MIT
"""Go (CSP): goroutines and channels of unmodified Go programs, checked on the samples in
samples/csp against their own reports and Perfetto's trace processor. Every sample runs several
times and the target's exit status is checked each time: probing must never harm it."""
import json
import os
import subprocess
import time

from harness import (IMPORT_PROBLEMS, Failure, check, check_clean_import, query, sample,
                     sample_report, test, weft, workdir)

RUNS = 3


def go_sample(name):
    path = sample(f"csp/{name}")
    if not os.path.exists(path):
        raise Failure(f"{path} missing: the Go samples need golang-go (make samples)")
    return path


def run_sample(name, *args, runs=RUNS):
    """Runs a sample under `weft run` `runs` times; returns a list of dicts with the trace,
    the JSON summary, the sample's oracle lines and stderr. Fails on any non-zero exit."""
    out = []
    for i in range(runs):
        d = workdir()
        trace, js = os.path.join(d, "t.pftrace"), os.path.join(d, "s.json")
        p = weft("run", "-o", trace, "--summary-json", js, "--", go_sample(name), *args)
        check(p.returncode == 0,
              f"{name} run {i + 1}: exit {p.returncode} (the target must never be harmed): "
              f"{p.stderr[-1500:]}")
        with open(js) as f:
            summary = json.load(f)
        out.append(dict(trace=trace, summary=summary, report=sample_report(p.stdout),
                        stderr=p.stderr))
    return out


def role(r, name):
    """The sample's oracle line for one role."""
    lines = [x for x in r["report"] if x.get("role") == name]
    check(lines, f"the sample printed no line for role={name}: {r['report']}")
    return lines[0]


def go_part(r):
    g = r["summary"].get("go")
    check(g is not None, "summary JSON has no \"go\" member")
    return g


FLOWS_SQL = """
select so.name as oname, si.name as iname, so.track_id as otrack, si.track_id as itrack,
       so.ts as ots, si.ts as its, tso.name as otname, tsi.name as itname,
       (select count(*) from slice b where b.track_id = si.track_id and b.dur > 0
          and b.ts + b.dur = si.ts) as blocked_ending_here
from flow f join slice so on so.id = f.slice_out join slice si on si.id = f.slice_in
join track tso on tso.id = so.track_id join track tsi on tsi.id = si.track_id
"""


def check_flows(trace, min_flows):
    problems, flows, tracks = query(
        trace, IMPORT_PROBLEMS, FLOWS_SQL,
        "select t.name, t.upid as parent from process_track t where t.name like 'goroutine %'")
    check_clean_import(problems)
    check(len(flows) >= min_flows, f"expected >= {min_flows} wake flows, got {len(flows)}")
    for f in flows:
        check(f["otrack"] != f["itrack"], f"flow within one track: {f}")
        check(f["otname"].startswith("goroutine ") and f["itname"].startswith("goroutine "),
              f"flow between non-goroutine tracks: {f}")
        check(f["ots"] <= f["its"], f"flow goes back in time: {f}")
        check(f["blocked_ending_here"] >= 1,
              f"the woken goroutine has no blocked slice ending at the wake: {f}")
    check(tracks and all(t["parent"] is not None for t in tracks),
          f"goroutine tracks must be grouped under their process: {tracks[:3]}")
    return flows


@test
def go_slow_channel_ranks_first_on_send_side():
    runs = run_sample("producer_consumer", "60", "2000")
    for r in runs:
        g = go_part(r)
        main = role(r, "main")
        chans = g["channels"]
        check(chans, f"no channel in the summary: {g}")
        top = chans[0]
        check(int(top["addr"], 16) == int(main["chan"], 16),
              f"top channel {top['addr']} is not the slow one {main['chan']}: {chans[:3]}")
        # 60 items, 2 ms of consumer work each: the producer waits ~120 ms in send.
        check(top["send_ns"] > 10 * max(top["recv_ns"], 1) and top["send_ns"] > 50e6,
              f"blocked time not on the send side: {top}")
        check(top["made_in"] == "main.main" and top["site"] == "main.produce",
              f"slow channel's creation site / blocked site: {top}")
        funcs = {x["goid"]: x["function"] for x in g["goroutines"]}
        check(any("main." in funcs.get(gid, "") for gid in top["goroutines"]),
              f"channel's goroutines not named: {top} {funcs}")
        check(g["probe_hits"] > 0 and g["est_cost_ns"] == g["probe_hits"] * 10000,
              f"hit count / cost: {g}")
    check_flows(runs[0]["trace"], 30)
    problems, rows = query(
        runs[0]["trace"], IMPORT_PROBLEMS,
        "select s.name, count(*) as n, sum(s.dur) as dur from slice s join track t "
        "on t.id = s.track_id where t.name like 'goroutine %' and s.dur > 0 group by s.name")
    by = {x["name"]: x for x in rows}
    check("chan send" in by and by["chan send"]["n"] >= 30, f"chan send slices: {rows}")


@test
def go_text_summary_lists_channels_and_hits():
    d = workdir()
    p = weft("run", "-o", os.path.join(d, "t.pftrace"), "--", go_sample("producer_consumer"),
             "20", "1000")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-1000:]}")
    check("Go: goroutines and channels" in p.stderr, f"no Go section: {p.stderr[-2000:]}")
    check("uprobe hits:" in p.stderr and "estimated cost" in p.stderr,
          "summary must print the uprobe hit count and its estimated cost")
    check("main.produce" in p.stderr, "the blocked site (main.produce) is not named")
    check("goroutines traced" not in p.stderr, "the probes' details are for -v only")


@test
def go_select_fanin_attributes_cases():
    runs = run_sample("fanin_select", "25")
    for r in runs:
        g = go_part(r)
        rep = role(r, "collector")
        check(all(rep[k] == "25" for k in "abc"), f"sample result: {rep}")
        sel = [c for c in g["channels"] if c["select_ns"] > 0]
        check(len(sel) >= 3, f"expected the three producer channels in select: {g['channels']}")
        gs = {x["goid"]: x for x in g["goroutines"]}
        collector = [x for x in gs.values() if "select" in x["by_reason"]]
        check(collector and collector[0]["by_reason"]["select"] > 20e6,
              f"the collector's select wait is missing: {list(gs.values())[:4]}")
        sleepers = [x for x in gs.values() if "sleep" in x["by_reason"]]
        check(len(sleepers) >= 3, f"the producers' sleeps: {list(gs.values())}")
    check_flows(runs[0]["trace"], 20)


@test
def go_mutex_waits_and_wakers():
    runs = run_sample("mutex", "4", "30", "1000")
    for r in runs:
        g = go_part(r)
        rep = role(r, "main")
        check(rep["counter"] == "120", f"sample result: {rep}")
        waiters = [x for x in g["goroutines"] if x["by_reason"].get("sync.Mutex", 0) > 0]
        check(len(waiters) >= 3, f"goroutines blocked on sync.Mutex: {g['goroutines']}")
        check(g["hits"]["semacquire"] > 0, f"semacquire not seen: {g['hits']}")
    flows = check_flows(runs[0]["trace"], 10)
    problems, rows = query(
        runs[0]["trace"], IMPORT_PROBLEMS,
        "select count(*) as n from slice s join args a using(arg_set_id) "
        "where s.name = 'sync.Mutex' and a.key = 'debug.mutex_sema'")
    check(rows[0]["n"] >= 10, f"sync.Mutex slices without their semaphore address: {rows}")


@test
def go_leaked_goroutines_reported_with_stacks():
    runs = run_sample("leak", "5")
    for r in runs:
        g = go_part(r)
        rep = role(r, "main")
        leaked = int(rep["leaked"])
        check(leaked >= 3, f"the sample leaked only {leaked}")
        leaks = [x for x in g["leaks"] if "main.leakyWorker" in x["stack"]]
        check(len(leaks) == leaked,
              f"{leaked} goroutines leaked, {len(leaks)} reported: {g['leaks']}")
        for x in leaks:
            check(x["reason"] == "chan send" and x["blocked_ns"] > 50e6, f"leak: {x}")
    problems, rows = query(
        runs[0]["trace"], IMPORT_PROBLEMS,
        "select count(*) as n from slice s join args a using(arg_set_id) "
        "where a.key = 'debug.still_blocked'")
    check_clean_import(problems)
    check(rows[0]["n"] >= 3, f"leaked goroutines' open slices in the trace: {rows}")


@test
def go_network_io_woken_by_netpoller():
    runs = run_sample("netio", "30", "2000")
    for r in runs:
        g = go_part(r)
        check(role(r, "client")["requests"] == "30", f"sample result: {r['report']}")
        io = [x for x in g["goroutines"] if x["by_reason"].get("network I/O", 0) > 0]
        check(len(io) >= 2, f"client and server should both wait for the network: {io}")
    problems, rows = query(
        runs[0]["trace"], IMPORT_PROBLEMS,
        "select a.string_value as how, count(*) as n from slice s join args a "
        "using(arg_set_id) where s.name = 'network I/O' and a.key = 'debug.woken_by' "
        "group by 1")
    check_clean_import(problems)
    how = {x["how"]: x["n"] for x in rows}
    check(how.get("netpoller (I/O ready)", 0) >= 30,
          f"network I/O waits should end when the netpoller readies them: {rows}")


@test
def go_goroutine_count_counter():
    r = run_sample("fanin_select", "5", runs=1)[0]
    problems, rows = query(
        r["trace"], IMPORT_PROBLEMS,
        "select max(c.value) as mx, count(*) as n from counter c join counter_track t "
        "on t.id = c.track_id where t.name = 'goroutines'")
    check_clean_import(problems)
    # main + 3 producers + the closer at least
    check(rows[0]["n"] > 0 and rows[0]["mx"] >= 4, f"goroutine counter: {rows}")


@test
def go_stripped_binary_degrades_clearly():
    for i in range(RUNS):
        d = workdir()
        trace, js = os.path.join(d, "t.pftrace"), os.path.join(d, "s.json")
        p = weft("run", "-o", trace, "--summary-json", js, "--",
                 go_sample("producer_consumer-stripped"), "20", "1000")
        check(p.returncode == 0, f"run {i + 1}: exit {p.returncode}: {p.stderr[-1500:]}")
        lines = p.stderr.splitlines()
        said = [k for k, ln in enumerate(lines) if "goroutines not traced" in ln]
        # one message, in weft's own format: "weft: <what>", then "hint: <what to do>"
        check(len(said) == 1 and lines[said[0]].startswith("weft: ") and
              "stripped" in lines[said[0]] and lines[said[0] + 1].startswith("hint: build "),
              f"no clear message for a stripped binary: {p.stderr[:1500]}")
        with open(js) as f:
            s = json.load(f)
        check(s["go"]["probe_hits"] == 0, f"{s['go']}")
        check(any(t["comm"].startswith("producer_consum") for t in s["threads"]),
              "the scheduler view of the stripped program is missing")
    problems, = query(trace, IMPORT_PROBLEMS)
    check_clean_import(problems)


@test
def go_binary_without_dwarf_uses_known_offsets():
    d = workdir()
    js = os.path.join(d, "s.json")
    p = weft("run", "-v", "-o", os.path.join(d, "t.pftrace"), "--summary-json", js, "--",
             go_sample("producer_consumer-nodwarf"), "30", "2000")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-1500:]}")
    check("built-in offsets for go1.19" in p.stderr, f"offsets source not said: {p.stderr[:800]}")
    with open(js) as f:
        g = json.load(f)["go"]
    check(g["channels"] and g["channels"][0]["send_ns"] > 30e6, f"{g['channels'][:2]}")


@test
def go_record_attaches_to_running_program():
    # ~3 s of work: weft may take a while to load its probes on a loaded machine.
    target = subprocess.Popen([go_sample("producer_consumer"), "1500", "2000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        d = workdir()
        trace, js = os.path.join(d, "t.pftrace"), os.path.join(d, "s.json")
        p = weft("record", "-p", str(target.pid), "-d", "0.5", "-o", trace,
                 "--summary-json", js)
        check(p.returncode == 0, f"weft record failed ({p.returncode}): {p.stderr[-1500:]}")
        with open(js) as f:
            g = json.load(f)["go"]
        check(g["hits"]["park"] > 20, f"too few parks seen attaching mid-run: {g['hits']}")
        check(g["channels"] and g["channels"][0]["send_ns"] > 0, f"{g['channels'][:2]}")
    finally:
        out, err = target.communicate(timeout=60)
    check(target.returncode == 0, f"target exited {target.returncode} after detach: {err}")
    check("role=main" in out, f"target did not finish its work: {out}")
