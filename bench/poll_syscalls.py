#!/usr/bin/env python3
"""System calls per sandbox per poll: the real exporter under strace.

Starts N real gVisor sandboxes and the built exporter polling them (host cost
on, default flags otherwise). After a few warm-up polls it attaches
`strace -f -ttt -o FILE` to the running exporter (the poll threads that a poll
starts are followed), keeps it attached for --polls polls and detaches by
strace's own pid. Polls are delimited in the trace by the poll's first system
call, the listing of the runsc root (an `openat` of the root directory); the
system calls between the first and the last such mark are exactly --polls
whole polls of every thread, including the idle HTTP and trace threads. No
scrape happens inside the window.

Prints the count per sandbox per poll, overall and by system call, and the
files opened most often (by a pattern: pids and ids replaced). With
--max-per-sandbox it exits 1 when the count is above that bound (the e2e test
uses it). Needs root.

Usage: bench/poll_syscalls.py --exporter build/gvisor-exporter --sandboxes 10 --polls 4
"""
import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from gvisor_env import Exporter, Runsc, RUNSC  # noqa: E402

# A call's start ("<pid> <time> name(args ..."); its resumed half, signals and
# exits do not match.
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+([a-z_0-9]+)\(")
OPENAT = re.compile(r'openat\([^,]+, "([^"]*)"')


def count(trace_path, root, polls):
    """(calls per syscall, opened path patterns, polls seen) over whole polls."""
    marks = []
    lines = []
    with open(trace_path, errors="replace") as f:
        for raw in f:
            m = LINE.match(raw)
            if not m:
                continue
            name = m.group(3)
            lines.append((name, raw))
            if name == "openat" and f'"{root}"' in raw and "O_DIRECTORY" in raw:
                marks.append(len(lines) - 1)
    if len(marks) < 2:
        raise RuntimeError(f"{len(marks)} poll marks in the trace")
    first, last = marks[0], marks[min(len(marks) - 1, polls)]
    seen = min(len(marks) - 1, polls)
    calls = collections.Counter()
    paths = collections.Counter()
    for name, raw in lines[first:last]:
        calls[name] += 1
        if name == "openat":
            m = OPENAT.search(raw)
            if m:
                paths[re.sub(r"\d+", "N", re.sub(r"[0-9a-f]{16,}|bench\w+", "ID", m.group(1)))] += 1
    return calls, paths, seen


def measure(binary, runsc, workdir, polls, interval, extra):
    e = Exporter(binary, workdir, [f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                                   f"--poll.interval={interval}", "--log.level=error", *extra])
    try:
        e.wait_polls(3, timeout=120)
        trace = os.path.join(workdir, "strace.out")
        st = subprocess.Popen(["strace", "-f", "-ttt", "-qq", "-o", trace, "-p", str(e.proc.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # polls + 2 intervals: a partial poll at each end is not counted.
            time.sleep((polls + 2) * float(interval.rstrip("s")) + 1)
        finally:
            st.send_signal(signal.SIGINT)
            st.wait(timeout=60)
        return count(trace, runsc.root, polls)
    finally:
        e.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--sandboxes", type=int, default=10)
    ap.add_argument("--polls", type=int, default=4)
    ap.add_argument("--interval", default="2s")
    ap.add_argument("--max-per-sandbox", type=float)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("extra", nargs="*", help="more exporter flags (after --)")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="gve-sys-")
    runsc = Runsc(workdir, f"gve-sys-{os.getpid()}")
    try:
        for i in range(a.sandboxes):
            sid = f"bench{os.getpid()}x{i:03d}"
            runsc.run_sandbox(sid, pod=sid, namespace="bench", uid=sid)
        calls, paths, seen = measure(os.path.abspath(a.exporter), runsc, workdir, a.polls,
                                     a.interval, a.extra)
    finally:
        runsc.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    n = a.sandboxes
    total = sum(calls.values())
    per = total / seen / n
    print(f"{n} sandboxes, {seen} polls: {total} system calls, {per:.1f} per sandbox per poll")
    for name, c in calls.most_common(a.top):
        print(f"  {name:16s} {c / seen / n:8.2f}")
    print("files opened per sandbox per poll:")
    for p, c in paths.most_common(a.top):
        print(f"  {c / seen / n:6.2f}  {p}")
    if a.max_per_sandbox is not None and per > a.max_per_sandbox:
        print(f"FAIL: {per:.1f} > {a.max_per_sandbox}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
