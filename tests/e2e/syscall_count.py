"""System calls per sandbox per poll: the real exporter under strace.

attach() runs `strace -f -ttt -o FILE -p <exporter>` (the poll threads a poll
starts are followed) for a number of polls and detaches by strace's own pid.
Polls are delimited in the trace by the poll's first system call, the listing
of the runsc root (an `openat` of the root directory with O_DIRECTORY): the
calls between the first and the (polls+1)-th such mark are exactly `polls`
whole polls of every thread, including the idle HTTP and trace threads. The
caller makes sure no scrape happens inside the window.
"""
import collections
import os
import re
import signal
import subprocess
import time

# A call's start ("<pid> <time> name(args ..."); its resumed half, signals and
# exits do not match.
LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+([a-z_0-9]+)\(")
OPENAT = re.compile(r'openat\([^,]+, "([^"]*)"')


def count(trace_path, root, polls):
    """(calls per syscall, opened path patterns, whole polls seen)."""
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
    seen = min(len(marks) - 1, polls)
    calls = collections.Counter()
    paths = collections.Counter()
    for name, raw in lines[marks[0]:marks[seen]]:
        calls[name] += 1
        if name == "openat":
            m = OPENAT.search(raw)
            if m:
                paths[re.sub(r"\d+", "N", re.sub(r"[0-9a-f]{16,}|\w+x\d{3}", "ID", m.group(1)))] += 1
    return calls, paths, seen


def attach(exporter, root, workdir, polls, interval_s):
    """Counts over `polls` whole polls of a running Exporter (gvisor_env)."""
    trace = os.path.join(workdir, f"strace-{exporter.proc.pid}.out")
    st = subprocess.Popen(["strace", "-f", "-ttt", "-qq", "-o", trace, "-p", str(exporter.proc.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Two more intervals: a partial poll at each end is not counted.
        time.sleep((polls + 2) * interval_s + 1)
    finally:
        st.send_signal(signal.SIGINT)
        st.wait(timeout=60)
    try:
        return count(trace, root, polls)
    finally:
        os.unlink(trace)
