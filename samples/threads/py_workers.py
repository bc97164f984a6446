"""Python threads that wait in three ways, each in a function of its own, so that a tracer
can be checked to name the Python function (not only the interpreter) where each waits:
- napper() sleeps (time.sleep, off-CPU in clock_nanosleep);
- contender() waits for a threading.Lock that holder() keeps for 20 ms at a time;
- holder() takes that lock and sleeps with it.
Runs for the seconds given (default 2). Each thread prints "weft-sample: thread=NAME tid=N"
as it starts. With "fork" after the seconds, all of it runs in a child forked without exec (as
multiprocessing's workers and pre-forking servers run), and the parent waits for it."""
import os
import sys
import threading
import time

STOP = time.monotonic() + (float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
LOCK = threading.Lock()


def napper():
    while time.monotonic() < STOP:
        time.sleep(0.01)


def hold_for_a_while():
    with LOCK:
        time.sleep(0.02)


def holder():
    while time.monotonic() < STOP:
        hold_for_a_while()
        time.sleep(0.001)


def contender():
    while time.monotonic() < STOP:
        with LOCK:
            pass
        time.sleep(0.001)


def reported(fn):
    def run():
        line = f"weft-sample: thread={fn.__name__} tid={threading.get_native_id()}\n"
        os.write(1, line.encode())  # one write: the threads' lines do not interleave
        fn()
    return run


def main():
    threads = [threading.Thread(target=reported(f), name=f.__name__)
               for f in (napper, holder, contender)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    if sys.argv[2:] == ["fork"]:
        child = os.fork()
        if child:
            _, status = os.waitpid(child, 0)
            sys.exit(os.waitstatus_to_exitcode(status))
    main()
