# SPDX-License-Identifier: MIT
"""Lock contention: the right lock ranked first, holders and releasers found, flows that connect
releaser and waiter in Perfetto's trace processor, deadlock cycles found on attach and live."""
import json
import os
import signal
import subprocess
import time

from harness import (IMPORT_PROBLEMS, WEFT, Failure, check, check_clean_import, query, sample,
                     sample_report, test, weft, workdir)

STARTUP_ALLOWANCE = 1.5  # seconds weft may take to load its probes on a busy machine

# Each run lasts a second or more: locks are named from the target's memory map, which weft's
# analysis (behind by up to a few hundred milliseconds while it loads its first symbols on a
# busy machine) must find still there.


def run_sample(name, *args, timeout=120, mode="bpf"):
    d = workdir()
    trace, js = os.path.join(d, f"{name}.pftrace"), os.path.join(d, f"{name}.json")
    p = weft("run", f"--mode={mode}", "-o", trace, "--summary-json", js, "--",
             sample(f"threads/{name}"), *map(str, args), timeout=timeout)
    check(p.returncode == 0, f"weft run {name} failed ({p.returncode}): {p.stderr[-2000:]}")
    with open(js) as f:
        summary = json.load(f)
    return trace, summary, sample_report(p.stdout), p.stderr


def lock_named(summary, name):
    for lk in summary["locks"]:
        if lk["name"] == name:
            return lk
    raise Failure(f"no lock {name} in the summary: {[x['name'] for x in summary['locks']]}")


def check_first(summary, name, kind):
    locks = summary["locks"]
    check(locks, "no lock in the summary")
    check(locks[0]["name"] == name and locks[0]["kind"] == kind,
          f"first lock should be {kind} {name}: "
          f"{[(x['name'], x['kind'], x['total_wait_ns']) for x in locks[:4]]}")
    return locks[0]


def check_holders(lk, share=0.9):
    check(lk["waits"] >= 20, f"{lk['name']}: only {lk['waits']} waits")
    check(lk["holder_known"] >= share * lk["waits"],
          f"{lk['name']}: holder known for {lk['holder_known']} of {lk['waits']} waits")
    check(lk["releaser_known"] >= share * lk["waits"],
          f"{lk['name']}: releaser known for {lk['releaser_known']} of {lk['waits']} waits")


_convoy = {}


def convoy():
    if not _convoy:
        trace, summary, rep, err = run_sample("lock_convoy", 5000, 50, 4)
        _convoy.update(trace=trace, summary=summary, rep=rep[0], stderr=err)
    return _convoy


@test
def convoy_lock_ranked_first_with_holders():
    r = convoy()
    lk = check_first(r["summary"], "g_account_lock", "mutex")
    check_holders(lk)
    tids = {int(t) for t in r["rep"]["tids"].split(",")}
    waiters = {w["tid"] for w in lk["waiters"]}
    holders = {h["tid"] for h in lk["holders"]}
    check(waiters <= tids and len(waiters) >= 3, f"waiters {waiters}, workers {tids}")
    check(holders <= tids and len(holders) >= 3, f"holders {holders}, workers {tids}")
    check(any("account_update (lock_convoy)" in s["frames"] for s in lk["waiter_stacks"]),
          f"waiter stacks: {lk['waiter_stacks'][:1]}")
    check(lk["max_wait_ns"] >= lk["p99_wait_ns"] > 0, f"wait quantiles: {lk}")
    check("Locks, most waited-on first:" in r["stderr"] and "g_account_lock" in r["stderr"],
          "text summary has no lock section")
    check(not r["summary"]["deadlocks"], f"a convoy is no deadlock: {r['summary']['deadlocks']}")


@test
def convoy_trace_has_wait_slices_and_flows():
    r = convoy()
    lk = lock_named(r["summary"], "g_account_lock")
    problems, waits, flows, args = query(r["trace"], IMPORT_PROBLEMS, """
select count(*) as n, sum(dur) as total, min(dur) as mindur from slice
where name like 'lock wait: g_account_lock%'""", """
select t_out.tid as releaser, t_in.tid as waiter, s_out.name as out_name,
       s_in.name as in_name, parent.name as parent_name,
       (select int_value from args a where a.arg_set_id = parent.arg_set_id
          and a.key = 'debug.releaser_tid') as releaser_arg
from flow f
join slice s_out on s_out.id = f.slice_out join thread_track tt_out on tt_out.id = s_out.track_id
join thread t_out on t_out.utid = tt_out.utid
join slice s_in on s_in.id = f.slice_in join thread_track tt_in on tt_in.id = s_in.track_id
join thread t_in on t_in.utid = tt_in.utid
left join slice parent on parent.id = s_in.parent_id""", """
select a.key as key, count(*) as n from slice s join args a using(arg_set_id)
where s.name like 'lock wait: g_account_lock%' group by a.key""")
    check_clean_import(problems)
    n = waits[0]["n"]
    check(n >= 0.9 * lk["waits"] and n <= lk["waits"],
          f"{n} wait slices in the trace, {lk['waits']} waits in the summary")
    check(waits[0]["mindur"] >= 0, "an unfinished slice")
    keys = {a["key"]: a["n"] for a in args}
    check(keys.get("debug.holder_tid", 0) >= 0.9 * n and keys.get("debug.kind") == n,
          f"slice args: {keys}")
    check(len(flows) >= 0.9 * lk["releaser_known"],
          f"{len(flows)} flows for {lk['releaser_known']} waits with a releaser")
    bad = [f for f in flows if f["out_name"] != "release g_account_lock"
           or not f["in_name"].startswith("woken by")
           or not f["parent_name"].startswith("lock wait: g_account_lock")
           or f["releaser"] == f["waiter"] or f["releaser_arg"] != f["releaser"]]
    check(not bad, f"{len(bad)} flows do not join releaser to waiter: {bad[:3]}")
    counter = query(r["trace"], """
select count(*) as n, max(c.value) as most, min(c.value) as least from counter c
join process_counter_track t on t.id = c.track_id where t.name = 'waiting: g_account_lock'""")[0]
    check(counter[0]["n"] >= lk["waits"] and 1 <= counter[0]["most"] <= 4
          and counter[0]["least"] >= 0, f"waiting counter: {counter}")


@test
def both_mode_stacks_leave_out_the_shim():
    """--mode=both: the shim's wrappers run inside every lock wait (between the program's call
    and libc's pthread_mutex_lock, and around the thread function), but the stacks shown are the
    program's: no frame of libweft-preload.so, the call site in account_update kept."""
    trace, summary, _, err = run_sample("lock_convoy", 2000, 50, 4, mode="both")
    lk = check_first(summary, "g_account_lock", "mutex")
    stacks = [s["frames"] for s in lk["waiter_stacks"] + lk["holder_stacks"]]
    stacks += [lk["first_stack"]] if lk["first_stack"] else []
    stacks += [s["frames"] for s in summary["offcpu_stacks"]]
    check(lk["waiter_stacks"], f"g_account_lock has no waiter stack: {json.dumps(lk)[:800]}")
    shim = [f for st in stacks for f in st if "libweft-preload" in f]
    check(not shim, f"the shim's own frames in stacks: {sorted(set(shim))}")
    check(any("account_update (lock_convoy)" in st for st in stacks[:len(lk["waiter_stacks"])]),
          f"waiter stacks lack the program's locking function: {lk['waiter_stacks'][:1]}")
    check("libweft-preload" not in err, "the text summary shows the shim's frames")
    problems, mods = query(trace, IMPORT_PROBLEMS, """
select m.name as module, count(*) as n from stack_profile_callsite c
join stack_profile_frame f on f.id = c.frame_id
join stack_profile_mapping m on m.id = f.mapping group by m.name""")
    check_clean_import(problems)
    names = {m["module"] for m in mods}
    check(not [m for m in names if "libweft-preload" in m], f"trace callstacks: {names}")
    check(any(m.endswith("/lock_convoy") for m in names), f"trace callstacks: {names}")


@test
def cxx_std_mutex():
    trace, summary, rep, _ = run_sample("cxx_mutex", 8000, 4)
    lk = check_first(summary, "g_cxx_lock", "mutex")
    check_holders(lk)
    check(any("ledger_post" in f for s in lk["waiter_stacks"] for f in s["frames"]),
          f"waiter stacks: {lk['waiter_stacks'][:1]}")


@test
def condvar_thundering_herd():
    trace, summary, rep, _ = run_sample("condvar_herd", 4000, 8)
    cv = check_first(summary, "g_work_cond", "condvar")
    check(cv["releaser_known"] >= 0.9 * cv["waits"],
          f"condvar releaser known for {cv['releaser_known']} of {cv['waits']}")
    check(len(cv["waiters"]) >= 6, f"condvar waiters: {cv['waiters']}")
    mx = lock_named(summary, "g_queue_lock")
    check(mx["kind"] == "mutex", f"g_queue_lock kind {mx['kind']}")
    check_holders(mx)


@test
def rwlock_writer_starved_by_readers():
    trace, summary, rep, _ = run_sample("rwlock_writer", 1200, 3)
    lk = check_first(summary, "g_table_lock", "rwlock")
    check(lk["waits"] >= 20, f"only {lk['waits']} waits")
    writer = [w for w in lk["waiters"] if w["comm"] == "writer"]
    check(writer and writer[0]["wait_ns"] >= 0.5 * lk["total_wait_ns"],
          f"the writer should do most of the waiting: {lk['waiters']}")
    check(lk["reader_held"] >= 0.8 * lk["waits"],
          f"held by readers in {lk['reader_held']} of {lk['waits']} waits")


@test
def clean_program_reports_no_deadlock():
    trace, summary, rep, err = run_sample("clean_locking", 300000, 4)
    check(rep and rep[0].get("clean") == "1", f"sample did not finish: {rep}")
    check(summary["deadlocks"] == [], f"false deadlock report: {summary['deadlocks']}")
    check("DEADLOCK" not in err, "false deadlock notice")
    # Contention is there and is reported (names are checked in the tests above).
    check(summary["locks"] and any(x["kind"] == "mutex" for x in summary["locks"]),
          f"locks: {[(x['name'], x['kind'], x['waits']) for x in summary['locks']]}")


def start_deadlocked():
    p = subprocess.Popen([sample("threads/abba_deadlock")], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    rep = sample_report(line)
    check(rep, f"abba_deadlock printed {line!r}")
    return p, rep[0]


def wait_notice(proc, deadline):
    """Reads weft's stderr until the deadlock notice; then stops weft (SIGINT, or SIGTERM for
    `weft run`, which passes it on) and returns (seconds to the notice, all of stderr)."""
    t0 = time.monotonic()
    lines, secs = [], None
    for line in proc.stderr:
        lines.append(line)
        if "DEADLOCK" in line:
            secs = time.monotonic() - t0
            break
        if time.monotonic() - t0 > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    lines.append(proc.communicate(timeout=60)[1])
    if secs is None:
        raise Failure(f"no deadlock notice within {deadline} s: {''.join(lines)[-2000:]}")
    return secs, "".join(lines)


def check_cycle(summary, rep, source):
    dl = summary["deadlocks"]
    check(len(dl) == 1, f"one deadlock expected: {dl}")
    th = {t["tid"]: t for t in dl[0]["threads"]}
    a, b = int(rep["tid_a"]), int(rep["tid_b"])
    check(set(th) == {a, b}, f"cycle threads {set(th)}, expected {a}, {b}")
    check(th[a]["lock"] == "lock_b" and th[a]["held_by"] == b, f"abba-1: {th[a]}")
    check(th[b]["lock"] == "lock_a" and th[b]["held_by"] == a, f"abba-2: {th[b]}")
    check(any(f.startswith("transfer_ab ") for f in th[a]["frames"]) and
          any(f.startswith("transfer_ba ") for f in th[b]["frames"]),
          f"stacks: {th[a]['frames']} / {th[b]['frames']}")
    check(dl[0]["source"] == source, f"found by {dl[0]['source']}, expected {source}")


@test
def deadlock_found_on_attach():
    target, rep = start_deadlocked()
    d = workdir()
    js = os.path.join(d, "dl.json")
    try:
        w = subprocess.Popen([WEFT, "record", "-p", str(target.pid), "-d", "20", "-o",
                              os.path.join(d, "dl.pftrace"), "--summary-json", js],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            secs, text = wait_notice(w, 10)
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
        # Two seconds from the attach; weft's own start (loading BPF) comes before it.
        elapsed = secs  # wait_notice's clock starts right after starting weft
        check(elapsed <= 2.0 + STARTUP_ALLOWANCE,
              f"deadlock reported {elapsed:.2f} s after starting weft")
        check("lock_a" in text and "lock_b" in text and "transfer_ab" in text,
              f"notice: {text}")
    finally:
        target.kill()
        target.wait()
    with open(js) as f:
        check_cycle(json.load(f), rep, "attach")


@test
def deadlock_found_live():
    d = workdir()
    js = os.path.join(d, "live.json")
    w = subprocess.Popen([WEFT, "run", "-o", os.path.join(d, "live.pftrace"), "--summary-json",
                          js, "--", sample("threads/abba_deadlock"), "1000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rep = sample_report(w.stdout.readline())
        check(rep, "abba_deadlock did not start")
        secs, text = wait_notice(w, 15)  # SIGTERM: weft passes it on to the program
        check(secs <= 1.0 + 2.0 + STARTUP_ALLOWANCE, f"live deadlock reported after {secs:.1f} s")
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    with open(js) as f:
        check_cycle(json.load(f), rep[0], "long_wait")
