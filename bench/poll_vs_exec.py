#!/usr/bin/env python3
"""CPU per sandbox: the exporter's poller vs the exec path, side by side.

Starts N real gVisor sandboxes, then in one run:
  * exporter: runs the built binary twice: with `--no-collector.host` (the
    same data the exec path yields: in-sandbox memory, pids, CPU) and as
    deployed (plus the host cost: /proc of every sandbox process and its
    cgroup). Each run polls every --poll-interval (default 5 s, the
    exporter's default) for a fixed number of polls; its own CPU
    (utime+stime from /proc/<pid>/stat, all threads) / polls / sandboxes is
    the figure. The interval matters: PSS is re-read by age
    (--collector.host.pss-max-age), so a fast interval spreads that walk over
    more polls and understates the cost per poll; and a window of polls
    shorter than --collector.host.pss-max-age (5 min) leaves out the
    age-driven walk (~1 ms per idle sandbox, once per max age): 20 polls at
    15 s include it once. Both runs include discovery (state files) and the
    control socket (Event + Usage.Collect Full).
  * exec path: what the shim/kubelet do, `runsc events -stats <id>` +
    `runsc usage <id>` per sandbox per poll, CPU from RUSAGE_CHILDREN.
  * the deployed exporter's footprint after its polls: RSS (VmRSS), peak RSS
    (VmHWM) and threads, from /proc/<pid>/status.
  * system calls per sandbox per poll of the deployed exporter, by system
    call (tests/e2e/syscall_count.py: strace over whole polls), and its
    scrape latency with gzip as Prometheus asks (p50/p99 of sequential
    scrapes), both with the default --poll.interval's work at a 3 s interval;
  * time to first series: with the exporter running at --first-series-interval
    (default 5 s, the default --poll.interval), one more sandbox is started
    (`runsc run --detach` returns) and /metrics is read every 50 ms until its
    gvisor_sandbox_info appears; --first-series-trials times, median and max.
Writes markdown tables to stdout (and --out). Needs root.
Usage: bench/poll_vs_exec.py --exporter build/gvisor-exporter --sandboxes 1,10 --polls 20
"""
import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from gvisor_env import Exporter, Runsc, RUNSC  # noqa: E402
from syscall_count import attach  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_status(pid):
    """VmRSS and VmHWM in bytes, and Threads, from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
            elif key == "Threads":
                out[key] = int(value)
    return out


def bench_exporter(binary, runsc, workdir, polls, interval, extra=()):
    """(CPU seconds per poll, /proc/<pid>/status footprint after the polls)."""
    e = Exporter(binary, workdir, [f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                                   f"--poll.interval={interval}s", "--log.level=error", *extra])
    try:
        e.wait_polls(2, timeout=max(30, 4 * interval + 60))
        p0, c0 = e.polls(), proc_cpu_seconds(e.proc.pid)
        # Scrapes cost CPU too; keep them rare: one per ~polls/4.
        while e.polls() < p0 + polls:
            time.sleep(interval * max(1, polls // 4))
        p1, c1 = e.polls(), proc_cpu_seconds(e.proc.pid)
        e.scrape()  # the footprint includes a served scrape
        return (c1 - c0) / (p1 - p0), proc_status(e.proc.pid)
    finally:
        e.stop()


def gzip_scrape_ms(url, n):
    """Wall times (ms) of n sequential gzip scrapes of url + /metrics."""
    import urllib.request
    out = []
    for _ in range(n):
        req = urllib.request.Request(url + "/metrics", headers={"Accept-Encoding": "gzip"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
        out.append((time.perf_counter() - t0) * 1e3)
    return sorted(out)


def bench_syscalls_and_scrapes(binary, runsc, workdir, polls, scrapes):
    """(syscall Counter per sandbox-poll numerator, polls seen, scrape ms list)."""
    e = Exporter(binary, workdir, [f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                                   "--poll.interval=3s", "--log.level=error"])
    try:
        e.wait_polls(2, timeout=120)
        calls, _, seen = attach(e, runsc.root, workdir, polls, 3.0)
        return calls, seen, gzip_scrape_ms(e.url, scrapes)
    finally:
        e.stop()


def time_to_first_series(binary, runsc, workdir, interval, trials):
    """Seconds from `runsc run --detach` returning to the sandbox's first series, per trial."""
    e = Exporter(binary, workdir, [f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                                   f"--poll.interval={interval}", "--log.level=error"])
    out = []
    try:
        e.wait_polls(1, timeout=60)
        for i in range(trials):
            sid = f"first{os.getpid()}x{i}"
            runsc.run_sandbox(sid, pod=sid, namespace="bench", uid=sid)
            t0 = time.monotonic()
            while not e.scrape().select("gvisor_sandbox_info", sandbox_id=sid):
                if time.monotonic() - t0 > 60:
                    raise RuntimeError(f"{sid}: no series after 60 s\n{e.logs()}")
                time.sleep(0.05)
            out.append(time.monotonic() - t0)
            runsc.delete(sid)
            # Start the next trial at an unrelated phase of the poll cycle.
            time.sleep(0.37 * (i + 1) % 1.0)
    finally:
        e.stop()
    return out


def bench_exec(runsc, ids, polls):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for _ in range(polls):
        for sid in ids:
            for args in (["events", "-stats", sid], ["usage", sid]):
                subprocess.run([RUNSC, "--root", runsc.root, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = (time.monotonic() - t0) / polls
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return cpu / polls, wall


def emit(lines, path=None):
    """Prints the markdown lines, and writes them to `path` too when given."""
    text = "\n".join(lines) + "\n"
    print(text)
    if path:
        with open(path, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--sandboxes", default="1,10")
    ap.add_argument("--polls", type=int, default=20)
    ap.add_argument("--poll-interval", type=float, default=5.0,
                    help="seconds between the exporter's polls in the CPU runs (its default: 5)")
    ap.add_argument("--exec-polls", type=int, default=3)
    ap.add_argument("--first-series-interval", default="5s")
    ap.add_argument("--first-series-trials", type=int, default=5,
                    help="0 skips the time-to-first-series measurement")
    ap.add_argument("--syscall-polls", type=int, default=3)
    ap.add_argument("--scrapes", type=int, default=200)
    ap.add_argument("--before", help="an earlier exporter build, measured the same way on the same sandboxes")
    ap.add_argument("--out")
    a = ap.parse_args()
    rows = []
    befores = []
    for n in [int(x) for x in a.sandboxes.split(",")]:
        workdir = tempfile.mkdtemp(prefix="gve-bench-")
        runsc = Runsc(workdir, f"gve-bench-{os.getpid()}-{n}")
        try:
            ids = [f"bench{os.getpid()}x{i:03d}" for i in range(n)]
            for sid in ids:
                runsc.run_sandbox(sid, pod=sid, namespace="bench", uid=sid)
            binary = os.path.abspath(a.exporter)
            same, _ = bench_exporter(binary, runsc, workdir, a.polls, a.poll_interval,
                                     ["--no-collector.host"])
            full, status = bench_exporter(binary, runsc, workdir, a.polls, a.poll_interval)
            exe, exe_wall = bench_exec(runsc, ids, a.exec_polls)
            calls, seen, scrape_ms = bench_syscalls_and_scrapes(binary, runsc, workdir,
                                                                a.syscall_polls, a.scrapes)
            if a.before:
                # An earlier build on the same sandboxes, right after: the before/after pair.
                before_bin = os.path.abspath(a.before)
                b_full, b_status = bench_exporter(before_bin, runsc, workdir, a.polls,
                                                  a.poll_interval)
                b_calls, b_seen, b_ms = bench_syscalls_and_scrapes(before_bin, runsc, workdir,
                                                                   a.syscall_polls, a.scrapes)
                befores.append((n, b_full / n, exe / n, b_status, (b_calls, b_seen, b_ms)))
            first = []
            if a.first_series_trials > 0:
                first = time_to_first_series(binary, runsc, workdir, a.first_series_interval,
                                             a.first_series_trials)
            rows.append((n, same / n, full / n, exe / n, exe_wall, status, first,
                         (calls, seen, scrape_ms)))
        finally:
            runsc.cleanup()
            shutil.rmtree(workdir, ignore_errors=True)
    cpu = platform.processor() or platform.machine()
    out = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({cpu}), kernel "
           f"{platform.release()}, runsc {subprocess.run([RUNSC, '--version'], capture_output=True, text=True).stdout.split()[2]}, "
           f"ptrace platform; exporter {a.polls} polls every {a.poll_interval:g} s, exec path "
           f"{a.exec_polls} polls. Share of a core: the full poll's CPU per poll over "
           f"{a.poll_interval:g} s.", "",
           "| sandboxes | exec path CPU / sandbox / poll | exporter, same data (`--no-collector.host`) | ratio | exporter, full poll (+ host cost) | ratio | share of a core | exec wall / poll |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, same, full, exe, wall, _, _, _ in rows:
        out.append(f"| {n} | {exe * 1e3:.2f} ms | {same * 1e3:.3f} ms | {exe / same:.0f}x | "
                   f"{full * 1e3:.3f} ms | {exe / full:.0f}x | {100 * full * n / a.poll_interval:.2f}% | "
                   f"{wall * 1e3:.0f} ms |")
    out += ["", f"The deployed exporter (full poll every {a.poll_interval:g} s) after its polls and a scrape; time to first series "
            f"with --poll.interval={a.first_series_interval}, {a.first_series_trials} trials:", "",
            "| sandboxes | RSS | peak RSS | threads | first series: median | max |",
            "|---:|---:|---:|---:|---:|---:|"]
    for n, _, _, _, _, st, first, _ in rows:
        med = f"{statistics.median(first):.2f} s" if first else "—"
        top = f"{max(first):.2f} s" if first else "—"
        out.append(f"| {n} | {st['VmRSS'] / 2**20:.1f} MiB | {st['VmHWM'] / 2**20:.1f} MiB | "
                   f"{st['Threads']} | {med} | {top} |")
    out += ["", "The deployed exporter at a 3 s interval: system calls per sandbox per poll (strace over "
            f"{a.syscall_polls} whole polls, every thread) and {a.scrapes} sequential gzip scrapes:", "",
            "| sandboxes | system calls / sandbox / poll | by system call | scrape p50 | scrape p99 |",
            "|---:|---:|---|---:|---:|"]
    for n, _, _, _, _, _, _, (calls, seen, ms) in rows:
        per = sum(calls.values()) / seen / n
        by = ", ".join(f"`{k}` {v / seen / n:.2f}" for k, v in calls.most_common(10))
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        out.append(f"| {n} | {per:.1f} | {by} | {statistics.median(ms):.2f} ms | {p99:.2f} ms |")
    if befores:
        out += ["", f"The earlier build `{a.before}` on the same sandboxes (full poll; its system calls and scrapes "
                "as above):", "",
                "| sandboxes | full poll CPU / sandbox / poll | ratio to exec | share of a core | RSS "
                "| system calls / sandbox / poll | by system call | scrape p99 |",
                "|---:|---:|---:|---:|---:|---:|---|---:|"]
        for n, full, exe, st, (calls, seen, ms) in befores:
            per = sum(calls.values()) / seen / n
            by = ", ".join(f"`{k}` {v / seen / n:.1f}" for k, v in calls.most_common(8))
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            out.append(f"| {n} | {full * 1e3:.3f} ms | {exe / full:.0f}x | "
                       f"{100 * full * n / a.poll_interval:.2f}% | {st['VmRSS'] / 2**20:.1f} MiB | "
                       f"{per:.1f} | {by} | {p99:.2f} ms |")
    emit(out, a.out)


if __name__ == "__main__":
    main()
