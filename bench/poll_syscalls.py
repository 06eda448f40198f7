#!/usr/bin/env python3
"""System calls per sandbox per poll: the real exporter under strace.

Starts N real gVisor sandboxes and the built exporter polling them (host cost
on, default flags otherwise, plus any given after `--`), waits for three
polls, then counts the system calls of --polls whole polls
(tests/e2e/syscall_count.py says how). Prints the count per sandbox per poll,
overall and by system call, and the files opened (pids and ids replaced).
With --max-per-sandbox it exits 1 above that bound. Needs root.

Usage: bench/poll_syscalls.py --exporter build/gvisor-exporter --sandboxes 200 --polls 4
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from gvisor_env import Exporter, Runsc  # noqa: E402
from syscall_count import attach  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--sandboxes", type=int, default=10)
    ap.add_argument("--polls", type=int, default=4)
    ap.add_argument("--interval", type=float, default=2.0, help="poll interval, seconds")
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
        e = Exporter(os.path.abspath(a.exporter), workdir,
                     [f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                      f"--poll.interval={a.interval}s", "--log.level=error", *a.extra])
        try:
            e.wait_polls(3, timeout=300)
            calls, paths, seen = attach(e, runsc.root, workdir, a.polls, a.interval)
        finally:
            e.stop()
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
