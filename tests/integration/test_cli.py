# SPDX-License-Identifier: MIT
"""What users type: exit statuses, bad input, and `weft open`."""
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request

from harness import (IMPORT_PROBLEMS, WEFT, Failure, check, check_clean_import, live_wefts, query,
                     sample, test, weft, workdir)

PINGPONG = sample("threads/pingpong")


def one_line_error(p, *words, code):
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("weft: ")]
    check(p.returncode == code, f"exit {p.returncode}, expected {code}: {p.stderr}")
    check(len(lines) == 1, f"expected one 'weft:' error line, got: {p.stderr!r}")
    for w in words:
        check(w in lines[0], f"error should mention {w!r}: {lines[0]!r}")
    return lines[0]


@test
def run_returns_command_status():
    d = workdir()
    p = weft("run", "-o", os.path.join(d, "a.pftrace"), "--", "sh", "-c", "exit 7")
    check(p.returncode == 7, f"exit status {p.returncode}, expected 7: {p.stderr[-500:]}")
    p = weft("run", "-o", os.path.join(d, "b.pftrace"), "--", "sh", "-c", "kill -9 $$")
    check(p.returncode == 137, f"killed command: exit {p.returncode}, expected 137")


@test
def run_command_not_found():
    d = workdir()
    p = weft("run", "-o", os.path.join(d, "x.pftrace"), "--", "no-such-command-weft")
    one_line_error(p, "no-such-command-weft", "not found", code=127)
    check(not os.path.exists(os.path.join(d, "x.pftrace")), "left a trace file behind")


@test
def record_bad_pids():
    d = workdir()
    out = os.path.join(d, "x.pftrace")
    one_line_error(weft("record", "-p", "999999999", "-o", out), "999999999", "no such process",
                   code=1)
    pid = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True).stdout.strip()
    one_line_error(weft("record", "-p", pid, "-o", out), pid, "no such process", code=1)
    one_line_error(weft("record", "-p", "2", "-o", out), "kernel thread", code=1)
    one_line_error(weft("record", "-p", "abc", "-o", out), "abc", code=2)
    one_line_error(weft("record", "-o", out), "-p", code=2)


@test
def record_pid_that_exits_during_attach():
    # A process alive when weft checks it and gone by the time its probes are in (loading them
    # takes ~0.2 s here): said in one line, exit 1, and the (empty) trace still written and
    # loadable.
    d = workdir()
    out = os.path.join(d, "gone.pftrace")
    short = subprocess.Popen(["sleep", "0.1"])
    try:
        p = weft("record", "-p", str(short.pid), "-o", out)
    finally:
        short.wait()
    one_line_error(p, str(short.pid), "exited while weft was attaching", code=1)
    check(os.path.exists(out), "no trace written")
    check_clean_import(query(out, IMPORT_PROBLEMS)[0])


@test
def bad_option_values():
    d = workdir()
    out = os.path.join(d, "x.pftrace")
    one_line_error(weft("run", "--ringbuf-size", "3", "-o", out, "--", "true"), "ringbuf",
                   code=2)
    one_line_error(weft("run", "-d", "soon", "-o", out, "--", "true"), "soon", code=2)
    one_line_error(weft("run", "--stack-rate", "-5", "-o", out, "--", "true"), "stack-rate",
                   code=2)
    one_line_error(weft("run", "--threads", "some", "-o", out, "--", "true"), "threads",
                   code=2)
    one_line_error(weft("run", "--threads", "-1", "-o", out, "--", "true"), "threads", code=2)
    one_line_error(weft("run", "--top", "-3", "-o", out, "--", "true"), "top", code=2)
    one_line_error(weft("run", "-o", out), "no command", code=2)
    one_line_error(weft("run", "-o", out, "--", ""), "no command", code=2)
    one_line_error(weft("run", "-o", "", "--", "true"), "file name", code=2)
    one_line_error(weft("run", "--summary-json", "", "-o", out, "--", "true"), "file name",
                   code=2)
    one_line_error(weft("frobnicate"), "frobnicate", code=2)
    # An unknown option: weft's line and its hint, nothing else (getopt printed one too).
    for args in (("run", "--bogus", "--", "true"), ("record", "-x"), ("open", "--nope", out)):
        p = weft(*args)
        one_line_error(p, args[1], code=2)
        check(p.stderr.count("\n") == 2 and "hint: see 'weft " in p.stderr,
              f"{args}: expected an error line and a hint only: {p.stderr!r}")
    p = weft("frobnicate")
    check("hint: see 'weft --help'" in p.stderr, f"hint without a command: {p.stderr!r}")
    # weft open wants the trace file, not a directory or a device.
    for path, why in ((d, "is a directory"), ("/dev/null", "not a regular file")):
        one_line_error(weft("open", "--no-browser", path), why, code=1)


@test
def output_file_rules():
    d = workdir()
    out = os.path.join(d, "t.pftrace")
    open(out, "w").write("precious")
    one_line_error(weft("run", "-o", out, "--", "true"), "exists", code=1)
    check(open(out).read() == "precious", "an existing file was changed without -f")
    p = weft("run", "-f", "-o", out, "--", "true")
    check(p.returncode == 0 and os.path.getsize(out) > 0, f"-f did not overwrite: {p.stderr}")
    one_line_error(weft("run", "-o", "/nonexistent-dir/t.pftrace", "--", "true"),
                   "/nonexistent-dir/t.pftrace", code=1)


@test
def full_disk_keeps_the_summary():
    # The trace's file system fills up mid-recording: one error line naming the file, the
    # recording goes on to its end, and the summaries (text, and JSON elsewhere) are whole.
    d = workdir()
    tiny = os.path.join(d, "tiny")
    os.mkdir(tiny)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "none", tiny], check=True)
    try:
        out, js = os.path.join(tiny, "t.pftrace"), os.path.join(d, "s.json")
        p = weft("run", "-o", out, "--summary-json", js, "--", sample("threads/pingpong"),
                 "20000", "50")
    finally:
        subprocess.run(["umount", "-l", tiny], check=False)
    one_line_error(p, out, "No space left on device", code=1)
    check(f"Trace: {out} is incomplete" in p.stderr and "Events:" in p.stderr,
          f"no summary or no word of the incomplete trace: {p.stderr[-1500:]}")
    summary = json.load(open(js))
    check(summary["events"]["by_type"]["switch"] > 20000,
          f"the summary lost switches: {summary['events']}")
    names = {t["comm"] for t in summary["threads"]}
    check({"ping", "pong"} <= names, f"threads missing from the summary: {names}")


@test
def unprivileged_user_gets_a_hint():
    d = workdir()
    os.chmod(d, 0o777)
    # BPF asked for explicitly (without --mode an unprivileged user gets the preload shim)
    p = weft("run", "--mode=bpf", "-o", os.path.join(d, "u.pftrace"), "--", "true",
             user=65534)
    one_line_error(p, "not permitted", code=1)
    check("hint:" in p.stderr and "CAP_BPF" in p.stderr and "--mode=preload" in p.stderr,
          f"no hint: {p.stderr}")


@test
def no_kernel_btf_gets_a_hint():
    # A kernel without BTF, as weft sees it: an empty /sys/kernel/btf in a mount namespace of
    # its own. The command must not start untraced.
    d = workdir()
    marker = os.path.join(d, "ran")
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        'mount -t tmpfs none /sys/kernel/btf && exec "$@"', "sh", WEFT, "run",
                        "-o", os.path.join(d, "b.pftrace"), "--", "touch", marker],
                       capture_output=True, text=True, timeout=60)
    one_line_error(p, "BTF", "/sys/kernel/btf/vmlinux", code=1)
    check("hint:" in p.stderr and "CONFIG_DEBUG_INFO_BTF" in p.stderr, f"no hint: {p.stderr}")
    check(not os.path.exists(marker), "the command ran without tracing")


def weft_programs():
    """Ids of loaded BPF programs named as weft's scheduler programs are."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"] for p in json.loads(out) if p.get("name") in ("on_switch", "on_waking")}


@test
def probes_released_after_exit():
    # weft exits without waiting for the kernel to release its slowest links: a child that
    # outlives it does that (collect/detach.c). Nothing may stay behind: its programs and the
    # child are gone soon after, and weft's output pipes were not held open meanwhile.
    d = workdir()
    before = weft_programs()
    p = weft("run", "-o", os.path.join(d, "r.pftrace"), "--", "sh", "-c", "sleep 0.2")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-500:]}")
    deadline = time.monotonic() + 20
    while (weft_programs() - before or live_wefts()) and time.monotonic() < deadline:
        time.sleep(0.1)
    check(not weft_programs() - before, f"programs still loaded: {weft_programs() - before}")
    check(not live_wefts(), f"weft processes still alive: {live_wefts()}")


@test
def help_and_version():
    for args in (["--help"], ["run", "--help"], ["record", "--help"], ["open", "--help"]):
        p = weft(*args)
        check(p.returncode == 0 and "Usage" in p.stdout + p.stderr, f"{args}: {p.stderr}")
    check("xample" in weft("--help").stdout, "top-level help has no examples")
    p = weft("--version")
    check(p.returncode == 0 and p.stdout.startswith("weft "), p.stdout)


@test
def open_serves_trace_to_perfetto_ui():
    d = workdir()
    trace = os.path.join(d, "o.pftrace")
    check(weft("run", "-o", trace, "--", "true").returncode == 0, "run failed")
    port = 19001
    srv = subprocess.Popen([WEFT, "open", "--no-browser", "--once", "--port", str(port), trace],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        link = srv.stdout.readline().strip()
        check(link == f"https://ui.perfetto.dev/#!/?url=http://127.0.0.1:{port}/o.pftrace",
              f"link: {link!r}")
        req = urllib.request.Request(f"http://127.0.0.1:{port}/o.pftrace",
                                     headers={"Origin": "https://ui.perfetto.dev"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            cors = resp.headers.get("Access-Control-Allow-Origin")
        check(body == open(trace, "rb").read(), "served bytes differ from the trace")
        check(cors in ("*", "https://ui.perfetto.dev"), f"CORS header: {cors}")
        srv.wait(timeout=10)
        check(srv.returncode == 0, f"weft open --once exit {srv.returncode}")
    finally:
        if srv.poll() is None:
            srv.kill()
    one_line_error(weft("open", os.path.join(d, "missing.pftrace")), "missing.pftrace", code=1)


@test
def open_outlasts_clients_that_stall_or_leave():
    # A browser's spare connection that never sends a request, then a page reloaded in the
    # middle of a large transfer: the next request still gets the whole file, and weft open
    # keeps serving (it used to die of SIGPIPE).
    d = workdir()
    trace = os.path.join(d, "big.pftrace")
    with open(trace, "wb") as f:
        f.write(os.urandom(16 << 20))
    port = 19002
    srv = subprocess.Popen([WEFT, "open", "--no-browser", "--port", str(port), trace],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        srv.stdout.readline()
        idle = socket.create_connection(("127.0.0.1", port))
        leaver = socket.create_connection(("127.0.0.1", port))
        leaver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        leaver.sendall(b"GET /big.pftrace HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        t0 = time.monotonic()
        # the server reaches the leaver once the idle connection times out
        leaver.settimeout(20)
        check(leaver.recv(64).startswith(b"HTTP/1.1 200"), "no answer to the second client")
        leaver.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        leaver.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/big.pftrace", timeout=30) as r:
            body = r.read()
        check(body == open(trace, "rb").read(), "the third client got a different file")
        check(time.monotonic() - t0 < 20, "the stalled clients held the server too long")
        if srv.poll() is not None:
            raise Failure(f"weft open ended (exit {srv.returncode}): {srv.stderr.read()}")
        idle.close()
        srv.terminate()
        srv.wait(timeout=10)
        check(srv.returncode == 0, f"weft open exit {srv.returncode} on SIGTERM")
    finally:
        if srv.poll() is None:
            srv.kill()
