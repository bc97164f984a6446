# SPDX-License-Identifier: MIT
"""Preload mode as an ordinary user (uid 65534, no capabilities): the LD_PRELOAD shim's lock
waits, lock-order inversions, poll records and thread records, read back from the summary and
with Perfetto's trace processor; refusals for static and setuid programs; a fork/exec/signal/
thread stress run that must neither crash, hang nor lose the target's output."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time

from harness import (BUILD, IMPORT_PROBLEMS, Failure, check, check_clean_import, query,
                     sample_report, test)

NOBODY = 65534
_env = {}


def staged():
    """A world-readable copy of weft, the shim and the samples: the build tree may belong to
    root with a private umask (CI clones as root)."""
    if _env:
        return _env
    d = tempfile.mkdtemp(prefix="weft-preload-it-")
    os.chmod(d, 0o755)
    for f in ("weft", "libweft-preload.so"):
        shutil.copy2(os.path.join(BUILD, f), os.path.join(d, f))
    shutil.copytree(os.path.join(BUILD, "samples", "preload"), os.path.join(d, "samples"))
    for root, dirs, files in os.walk(d):
        for x in dirs + files:
            os.chmod(os.path.join(root, x), 0o755)
    out = os.path.join(d, "out")
    os.mkdir(out)
    os.chmod(out, 0o1777)
    _env.update(dir=d, weft=os.path.join(d, "weft"), out=out)
    return _env


def run_as_nobody(*args, timeout=60):
    e = staged()
    cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
           "--inh-caps=-all", e["weft"], *args]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/", "TMPDIR": "/tmp"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=e["out"],
                          env=env)


def sample_path(name):
    return os.path.join(staged()["dir"], "samples", name)


def preload_run(name, *args, timeout=60, mode=("--mode=preload",)):
    out = staged()["out"]
    trace = os.path.join(out, f"{name}.pftrace")
    js = os.path.join(out, f"{name}.json")
    p = run_as_nobody("run", *mode, "-f", "-o", trace, "--summary-json", js, "--",
                      sample_path(name), *args, timeout=timeout)
    check(p.returncode == 0, f"weft run --mode=preload {name} failed ({p.returncode}): "
          f"{p.stderr[-3000:]}")
    with open(js) as f:
        summary = json.load(f)
    return p, trace, summary


_convoy = {}


def convoy():
    if not _convoy:
        p, trace, summary = preload_run("convoy", "4", "20000", mode=())
        _convoy.update(p=p, trace=trace, summary=summary, report=sample_report(p.stdout))
    return _convoy


@test
def preload_default_for_unprivileged_and_says_what_it_cannot_see():
    c = convoy()
    s = c["summary"]
    check(s["capture"]["mode"] == "preload", f"capture: {s['capture']}")
    by = s["events"]["by_type"]
    if by.get("switch", 0):
        # perf_event_paranoid allowed context switches of our own threads
        check("wakers" in s["capture"]["not_seen"], f"not seen: {s['capture']}")
        workers = [t for t in s["threads"] if t["comm"].startswith("convoy-")]
        check(len(workers) == 4 and all(t["on_cpu_ns"] > 0 for t in workers),
              f"threads with context switches: {s['threads']}")
    else:
        check(s["capture"]["not_seen"] and "scheduling" in s["capture"]["not_seen"],
              "summary must say preload mode sees no scheduling")
    check("Capture mode preload: not seen" in c["p"].stderr, "text summary lacks the note")
    check(s["events"]["lost"] == 0 and s["events"]["malformed"] == 0, f"events: {s['events']}")
    # 4 workers: created (fork records from the shim), named, ended
    check(by["fork"] >= 4 and by["comm"] >= 4 and by["exit"] >= 4 and by["exec"] == 1,
          f"thread records: {by}")


@test
def preload_convoy_lock_ranks_first():
    c = convoy()
    big = next(r for r in c["report"] if r.get("lock") == "big_lock")
    side = next(r for r in c["report"] if r.get("lock") == "side_lock")
    locks = c["summary"]["preload_locks"]["locks"]
    check(locks, "no lock waits recorded")
    first = locks[0]
    check(int(first["lock"], 16) == int(big["addr"], 16),
          f"first lock {first['lock']} is not big_lock {big['addr']}: {locks[:3]}")
    check(first["label"] == "big_lock", f"the lock should be named by its symbol: {first}")
    check(first["waits"] >= 3 and first["total_wait_ns"] > 0, f"big_lock: {first}")
    check(len(first["waiters"]) >= 2, f"big_lock waiters: {first['waiters']}")
    check(first["holders"] and all(h["tid"] > 0 for h in first["holders"]),
          f"holders: {first['holders']}")
    check(first["releasers"], f"no releaser joined to a wait: {first}")
    for other in locks[1:]:
        if int(other["lock"], 16) == int(side["addr"], 16):
            check(other["total_wait_ns"] <= first["total_wait_ns"], "side_lock ranked wrong")
    check("Lock waits (preload shim)" in c["p"].stderr, "text summary lacks the lock table")


@test
def preload_convoy_trace_has_wait_slices_and_flows():
    c = convoy()
    problems, slices, flows, threads = query(
        c["trace"], IMPORT_PROBLEMS,
        "select count(*) as n, sum(dur) as d from slice where name like 'mutex big_lock held by convoy-%'",
        "select count(*) as n from flow",
        "select count(*) as n from thread where name like 'convoy-%'")
    check_clean_import(problems)
    check(slices[0]["n"] >= 3 and slices[0]["d"] > 0, f"wait slices: {slices}")
    check(flows[0]["n"] >= 1, "no releaser -> waiter flows")
    arrows, = query(c["trace"], "select so.name as src, si.name as dst, "
                    "to1.utid as from_thread, to2.utid as to_thread from flow f "
                    "join slice so on so.id = f.slice_out join slice si on si.id = f.slice_in "
                    "join thread_track to1 on to1.id = so.track_id "
                    "join thread_track to2 on to2.id = si.track_id")
    for a in arrows:
        check(a["src"].startswith("unlock ") and a["dst"] == "acquired" and
              a["from_thread"] != a["to_thread"], f"an arrow that is no hand-off: {a}")
    check(threads[0]["n"] == 4, f"named worker threads: {threads}")
    if c["summary"]["events"]["by_type"].get("switch", 0):
        running, = query(c["trace"], "select count(distinct utid) as n from thread_state "
                         "join thread using(utid) where thread.name like 'convoy-%' and "
                         "state = 'Running'")
        check(running[0]["n"] == 4, f"workers with Running states (perf switches): {running}")


@test
def preload_inversion_reported_with_both_stacks():
    p, trace, s = preload_run("inversion", "500")
    rep = next(r for r in sample_report(p.stdout) if "inversion" in r)
    a, b = int(rep["a"], 16), int(rep["b"], 16)
    inv = s["preload_locks"]["inversions"]
    check(len(inv) == 1, f"expected exactly the A/B inversion (C->D is well ordered, D->B a "
          f"trylock): {json.dumps(inv)[:1500]}")
    edges = inv[0]["edges"]
    check(len(edges) == 2, f"edges: {edges}")
    pairs = {(int(e["from"], 16), int(e["to"], 16)) for e in edges}
    check(pairs == {(a, b), (b, a)}, f"edges {pairs} are not A->B and B->A ({a:x}, {b:x})")
    for e in edges:
        want = "take_a_then_b" if int(e["from"], 16) == a else "take_b_then_a"
        check(any(want in f for f in e["stack"]), f"stack of {e['from']}->{e['to']} lacks "
              f"{want}: {e['stack']}")
        check(any(x in f for f in e["stack"] for x in ("forward", "backward")),
              f"stack should reach the thread function: {e['stack']}")
    check(edges[0]["tid"] != edges[1]["tid"], "both edges from one thread?")
    check("Lock-order inversions" in p.stderr and "take_b_then_a" in p.stderr and
          "lock_a -> lock_b -> lock_a" in p.stderr, f"text summary lacks the inversion: "
          f"{p.stderr[-2000:]}")
    check(s["preload_locks"]["lock_order_edges"] == 3, "A->B, B->A, C->D and no trylock edge")
    live = [ln for ln in p.stderr.splitlines() if ln.startswith("weft: lock-order inversion")]
    check(len(live) == 1 and "lock_a" in live[0] and "lock_b" in live[0],
          f"the inversion should be told as it is found: {live}")


@test
def preload_poll_loop_records():
    p, trace, s = preload_run("poll_loop", "200", "120")
    rep = sample_report(p.stdout)[0]
    by = s["events"]["by_type"]
    n = int(rep["polls"])
    check(by["poll_enter"] == n and by["poll_exit"] == n,
          f"{n} poll calls (epoll_wait, poll, select), records: {by}")
    check(s["events"]["lost"] == 0, f"lost: {s['events']}")
    # The event-loop analysis reads the shim's poll records as it reads BPF's: the seeded
    # 120 ms stall is found, within 20%, and nothing else is a stall.
    loops = s["loops"]["threads"]
    stalls = [st for lt in loops for st in lt["stalls"]]
    check(len(stalls) == 1 and 96e6 <= stalls[0]["dur_ns"] <= 144e6,
          f"expected one ~120 ms stall from the shim's poll records: {stalls}")


@test
def preload_stress_fork_exec_signals_threads():
    for _ in range(2):
        p, trace, s = preload_run("stress", "20", timeout=80)
        rep = sample_report(p.stdout)
        children = sorted(int(r["child"]) for r in rep if "child" in r)
        check(children == list(range(20)), f"lost target output: children {children}")
        last = [r for r in rep if "stress" in r]
        check(last and last[0]["stress"] == "ok", f"stress sample: {p.stdout[-500:]}")
        by = s["events"]["by_type"]
        check(by["exec"] >= 11, f"every exec'd image should announce itself: {by}")
        check(s["events"]["malformed"] == 0, "malformed records")
    problems, = query(trace, IMPORT_PROBLEMS)
    check_clean_import(problems)


@test
def preload_refuses_static_and_setuid():
    e = staged()
    src = os.path.join(e["dir"], "hello.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    static = os.path.join(e["dir"], "hello-static")
    r = subprocess.run(["gcc", "-static", "-O1", src, "-o", static], capture_output=True)
    if r.returncode == 0:
        os.chmod(static, 0o755)
        p = run_as_nobody("run", "--mode=preload", "-o", os.path.join(e["out"], "x.pftrace"),
                          "--", static)
        check(p.returncode == 1 and "statically linked" in p.stderr and "hint:" in p.stderr
              and "bpf" in p.stderr, f"static binary: {p.returncode} {p.stderr}")
    suid = os.path.join(e["dir"], "true-suid")
    shutil.copy2("/bin/true", suid)
    os.chmod(suid, 0o4755)
    p = run_as_nobody("run", "--mode=preload", "-o", os.path.join(e["out"], "y.pftrace"),
                      "--", suid)
    check(p.returncode == 1 and "set-user-ID" in p.stderr and "LD_PRELOAD" in p.stderr,
          f"setuid binary: {p.returncode} {p.stderr}")
    p = run_as_nobody("record", "--mode=preload", "-p", "1")
    check(p.returncode == 2 and "weft run" in p.stderr, f"record --mode=preload: {p.stderr}")


def both_run(name, *args):
    """`weft run --mode=both` as root on a preload sample: the process, its trace, its summary."""
    d = tempfile.mkdtemp(prefix="weft-both-")
    trace, js = os.path.join(d, f"{name}.pftrace"), os.path.join(d, f"{name}.json")
    p = subprocess.run([os.path.join(BUILD, "weft"), "run", "--mode=both", "-o", trace,
                        "--summary-json", js, "--",
                        os.path.join(BUILD, "samples", "preload", name), *args],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"--mode=both {name}: {p.returncode} {p.stderr[-2000:]}")
    with open(js) as f:
        return p, trace, json.load(f)


@test
def both_mode_bpf_and_shim_together():
    """As root: BPF's scheduling and the shim's lock records in one trace, each once: the
    switches come from BPF only (the perf source is a preload-only fallback)."""
    p, trace, s = both_run("inversion", "200")
    by = s["events"]["by_type"]
    check(s["capture"]["mode"] == "both" and s["capture"]["not_seen"] is None, s["capture"])
    check(by["switch"] > 0 and by["waking"] > 0, f"BPF scheduling records missing: {by}")
    check(by["lock_edge"] == 3 and len(s["preload_locks"]["inversions"]) == 1,
          f"shim records: {by}, inversions {s['preload_locks']['inversions']}")
    # threads, execs and names come from BPF only; the shim adds what only it sees
    check(by["exec"] == 1, f"exec counted twice: {by}")
    tids = [t["tid"] for t in s["threads"]]
    check(len(tids) == len(set(tids)), f"duplicate threads: {tids}")


def check_one_lock_table(p, s):
    """--mode=both: one lock table in the text and the JSON, each lock in it once."""
    check(p.stderr.count("Locks, most waited-on first") == 1 and "(preload shim)" not in p.stderr,
          f"expected one lock table: {p.stderr[-3000:]}")
    check("locks" not in s["preload_locks"] and "waits" not in s["preload_locks"],
          f"the shim's waits written twice: {json.dumps(s['preload_locks'])[:500]}")
    keys = [(lk["pid"], lk["address"]) for lk in s["locks"]]
    check(len(keys) == len(set(keys)), f"a lock listed twice: {[lk['name'] for lk in s['locks']]}")


def lock_at(s, addr):
    found = [lk for lk in s["locks"] if lk["address"] == int(addr, 16)]
    check(len(found) == 1, f"lock {addr}: {[(x['name'], hex(x['address'])) for x in s['locks']]}")
    return found[0]


def check_one_slice_per_wait(trace, lk):
    """Each wait of lk is one slice on its thread's track: no slice from the shim beside the
    kernel's, none nested in another."""
    problems, waits, overlaps, shim_style = query(
        trace, IMPORT_PROBLEMS,
        f"select count(*) as n from slice where name like 'lock wait: {lk['name']}%'",
        "select count(*) as n from slice a join slice b on a.track_id = b.track_id and "
        "a.id < b.id and a.ts < b.ts + b.dur and b.ts < a.ts + a.dur "
        "where a.name like 'lock wait:%' and b.name like 'lock wait:%'",
        "select count(*) as n from slice where name like 'mutex %' or name like 'unlock %' or "
        "name = 'acquired'")
    check_clean_import(problems)
    check(waits[0]["n"] == lk["waits"],
          f"{lk['name']}: {waits[0]['n']} wait slices for {lk['waits']} waits")
    check(overlaps[0]["n"] == 0, f"{overlaps[0]['n']} lock-wait slices overlap another")
    check(shim_style[0]["n"] == 0, f"{shim_style[0]['n']} slices drawn by the shim's analysis too")


@test
def both_mode_convoy_one_lock_one_slice_per_wait():
    p, trace, s = both_run("convoy", "4", "20000")
    check_one_lock_table(p, s)
    rep = sample_report(p.stdout)
    big = lock_at(s, next(r for r in rep if r.get("lock") == "big_lock")["addr"])
    check(big["name"] == "big_lock" and big["kind"] == "mutex" and s["locks"][0] is big,
          f"big_lock should rank first: {[(x['name'], x['kind']) for x in s['locks'][:3]]}")
    check(big["waits"] >= 3 and big["holder_known"] >= 0.9 * big["waits"] and
          big["releaser_known"] >= 0.9 * big["waits"], f"big_lock: {big['waits']} waits, holder "
          f"known {big['holder_known']}, releaser known {big['releaser_known']}")
    check_one_slice_per_wait(trace, big)
    slept, arrows = query(
        trace, "select count(*) as n from slice where name like 'lock wait: big_lock%' and "
        "extract_arg(arg_set_id, 'debug.futex_waits') > 0",
        "select so.name as src, si.name as dst, to1.utid as from_thread, to2.utid as to_thread "
        "from flow f join slice so on so.id = f.slice_out join slice si on si.id = f.slice_in "
        "join thread_track to1 on to1.id = so.track_id "
        "join thread_track to2 on to2.id = si.track_id")
    check(slept[0]["n"] >= 1, "no wait carries the futex waits the kernel saw inside it")
    check(any(a["src"] == "release big_lock" for a in arrows), f"no big_lock hand-off: {arrows}")
    # side_lock is contended too, now and then (its holder preempted): its hand-offs are real
    for a in arrows:
        check(a["src"] in ("release big_lock", "release side_lock") and
              a["dst"].startswith("woken by convoy-") and a["from_thread"] != a["to_thread"],
              f"an arrow that is no hand-off: {a}")


@test
def both_mode_keeps_futex_waits_the_shim_cannot_see():
    """A hand-made futex lock beside a pthread mutex: the mutex's waits are the shim's, each
    with the futex wait inside it; the futex lock's waits are the kernel's, as in bpf mode."""
    rounds = 5
    p, trace, s = both_run("futex_lock", str(rounds))
    check_one_lock_table(p, s)
    rep = sample_report(p.stdout)[0]
    mutex, raw = lock_at(s, rep["shim_lock"]), lock_at(s, rep["raw_lock"])
    check(mutex["name"] == "shim_lock" and mutex["kind"] == "mutex" and
          mutex["waits"] == rounds and mutex["total_wait_ns"] >= rounds * 10e6 and
          [h["tid"] for h in mutex["holders"]] == [mutex["pid"]],  # main held it
          f"shim_lock: {json.dumps(mutex)[:800]}")
    check(raw["name"] == "raw_lock" and raw["kind"] == "futex" and 1 <= raw["waits"] <= rounds and
          raw["releaser_known"] == raw["waits"], f"raw_lock: {json.dumps(raw)[:800]}")
    for lk in (mutex, raw):
        check_one_slice_per_wait(trace, lk)
    slept, = query(trace, "select count(*) as n from slice where name like 'lock wait: shim_lock%' "
                   "and extract_arg(arg_set_id, 'debug.futex_waits') >= 1")
    check(slept[0]["n"] == rounds, f"shim_lock waits with their futex wait: {slept}")


@test
def both_mode_heap_lock_named_alike_in_every_section():
    """Two heap locks, waited for (the lock area: its table, the trace) and taken in both orders
    (the shim's analysis: the inversion): one name per lock everywhere, lock@0x<address>."""
    p, trace, s = both_run("heap_locks", "3")
    check_one_lock_table(p, s)
    rep = next(r for r in sample_report(p.stdout) if "heap_locks" in r)
    a, b = lock_at(s, rep["a"]), lock_at(s, rep["b"])
    for lk in (a, b):
        check(lk["name"] == f"lock@{hex(lk['address'])}" and lk["kind"] == "mutex" and
              lk["waits"] >= 1, f"heap lock: {json.dumps(lk)[:800]}")
    ab = f" {a['name']} -> {b['name']} -> {a['name']}"
    ba = f" {b['name']} -> {a['name']} -> {b['name']}"
    live = [ln for ln in p.stderr.splitlines() if ln.startswith("weft: lock-order inversion")]
    check(len(live) == 1 and (ab in live[0] or ba in live[0]),
          f"the inversion should name the locks as the lock table does ({a['name']}, "
          f"{b['name']}): {live}")
    summary = p.stderr[p.stderr.find("Lock-order inversions"):]
    check(f"took {a['name']} while holding {b['name']}" in summary and
          f"took {b['name']} while holding {a['name']}" in summary,
          f"the summary's inversion names the locks otherwise: {summary[:2000]}")
    waits, = query(trace, f"select count(*) as n from slice where name like "
                   f"'lock wait: {a['name']}%'")
    check(waits[0]["n"] == a["waits"], f"{a['name']}: {waits} wait slices, {a['waits']} waits")


@test
def preload_cond_and_sem_waits_name_who_woke_them():
    p, trace, s = preload_run("handoff", "50")
    rep = sample_report(p.stdout)[0]
    producer = int(rep["producer_tid"])
    waits = {int(w["lock"], 16): w for w in s["preload_locks"]["waits"]}
    for name in ("cond", "sem"):
        w = waits.get(int(rep[name], 16))
        check(w is not None, f"no {name} waits: {s['preload_locks']['waits']}")
        check(w["kind"] == name and w["waits"] >= 25, f"{name}: {w}")
        check(w["releasers"] and w["releasers"][0]["tid"] == producer,
              f"{name} waits should be ended by the producer {producer}: {w['releasers']}")
    check(all(int(l["lock"], 16) not in waits for l in s["preload_locks"]["locks"]),
          "cond/sem waits must not rank among the locks")
    check("Condition-variable and semaphore waits" in p.stderr, "text summary lacks them")


TRUNCATES_ITS_RING = """
import os, threading, time
lock = threading.Lock()
def work():
    for _ in range(300):
        with lock:
            time.sleep(0.0002)
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
time.sleep(0.5)  # weft drains every 20 ms: the waits are in its hands before the cut
ring = [l.split()[-1] for l in open("/proc/self/maps") if l.rstrip().endswith(".ring")][0]
os.truncate(ring, 0)
print("weft-sample: truncated=" + ring, flush=True)
time.sleep(1.0)  # weft drains meanwhile, and finds the file cut short under its mapping
os._exit(0)      # no teardown: the shim would write to the cut ring and fault in here
"""


@test
def preload_ring_cut_short_by_its_program():
    """A ring is a file the traced program can reach: one that cuts it short must not take
    weft down (reading past a mapped file's end raises SIGBUS). The ring is dropped, counted,
    and what came before stays in the trace and the summary."""
    e = staged()
    script = os.path.join(e["out"], "truncates_its_ring.py")
    with open(script, "w") as f:
        f.write(TRUNCATES_ITS_RING)
    os.chmod(script, 0o644)
    trace, js = os.path.join(e["out"], "cut.pftrace"), os.path.join(e["out"], "cut.json")
    p = run_as_nobody("run", "--mode=preload", "-f", "-o", trace, "--summary-json", js, "--",
                      "/usr/bin/python3", script)
    check(p.returncode == 0 and "truncated=" in p.stdout,
          f"weft or its command failed ({p.returncode}): {p.stdout[-500:]} {p.stderr[-2000:]}")
    check("\nTrace: " in p.stderr, f"no summary's end from weft: {p.stderr[-2000:]}")
    with open(js) as f:
        events = json.load(f)["events"]
    cut = events["lost_by_reason"]["preload rings cut short (their later records)"]
    check(cut == 1, f"{cut} rings counted cut short: {events}")
    check(events["by_type"]["lock_wait"] > 0, f"the waits before the cut are gone: {events}")
    check_clean_import(query(trace, IMPORT_PROBLEMS)[0])


@test
def preload_target_unharmed_when_nobody_drains_or_weft_dies():
    """The shim with a ring nobody reads (and the smallest ring): the ring fills, records are
    dropped and counted, and the program runs on as if untraced. Then weft killed mid-run."""
    e = staged()
    rings = tempfile.mkdtemp(prefix="weft-rings-test-", dir=e["out"])
    os.chmod(rings, 0o777)
    env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": os.path.join(e["dir"], "libweft-preload.so"),
           "WEFT_PRELOAD_DIR": rings, "WEFT_PRELOAD_RING_SIZE": "65536"}
    p = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                        sample_path("stress"), "10"], capture_output=True, text=True,
                       timeout=60, env=env)
    rep = sample_report(p.stdout)
    check(p.returncode == 0 and [r for r in rep if r.get("stress") == "ok"] and
          len([r for r in rep if "child" in r]) == 10 and not p.stderr,
          f"stress under an undrained shim: {p.returncode} {p.stdout[-500:]} {p.stderr[-500:]}")
    full = [f for f in os.listdir(rings) if f.endswith(".ring")]
    check(len(full) >= 11, f"every process should have made its ring: {full}")
    # weft SIGKILLed while its command runs: the command finishes its work all the same
    trace = os.path.join(e["out"], "killed.pftrace")
    w = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                          e["weft"], "run", "--mode=preload", "-f", "-o", trace, "--",
                          sample_path("convoy"), "4", "100000"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.3)
    w.kill()
    out, _ = w.communicate(timeout=60)  # the orphaned convoy holds the pipe until it is done
    big = [r for r in sample_report(out) if r.get("lock") == "big_lock"]
    check(big and big[0]["counter"] == "400000", f"convoy after weft died: {out!r}")
