#!/usr/bin/env python3
"""How many syscall events per second the exporter takes without a drop.

For each count K in --sandboxes, starts K real sandboxes (--runsc, --platform)
and one exporter tracing them all (enter + exit points, the default), then
runs the static probe (tests/e2e/probe/syscall_probe.cc) in every sandbox at
once: a tight getppid loop sized to last about --seconds. Reported per K: the
aggregate event rate the sentries produced, the events the exporter counted,
and the drops the sentries reported (gvisor_sandbox_syscall_events_dropped_total,
which the e2e suite checks against `runsc trace list`), and the CPU the
exporter's reader thread spent per event received (its schedstat). When a tight loop
drops, the probe is paced (a 2 ms pause every B calls, B decreasing) until a
run holds with 0 drops, so "max rate held" is the largest rate seen without one.

--load N adds N host busy loops (our own child processes, ended by PID) to
reproduce a loaded node. Needs root. Usage:
  bench/syscall_drop_rate.py --exporter build/gvisor-exporter --probe build/syscall_probe \\
      --runsc /opt/gvisor-exporter/runsc-20240729/runsc --sandboxes 1,10,50
"""
import argparse
import concurrent.futures
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import gvisor_env  # noqa: E402
from gvisor_env import Exporter, Runsc, stop_process  # noqa: E402

PACING = [0, 5000, 1000, 200, 50]  # calls between 2 ms pauses; 0 = tight loop


def probe(runsc, sid, probe_path, calls, burst):
    args = [probe_path, "getppid", str(calls)] + ([str(burst)] if burst else [])
    out = runsc.exec(sid, *args, timeout=600)
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def totals(exporter, sids):
    s = exporter.scrape()
    calls = sum(s.sum("gvisor_container_syscalls_total", sandbox_id=x) for x in sids)
    drops = sum(s.sum("gvisor_sandbox_syscall_events_dropped_total", sandbox_id=x) for x in sids)
    return calls, drops


def wait_active(exporter, sids, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = exporter.scrape()
        if all(s.select("gvisor_sandbox_syscall_session_state", sandbox_id=x, state="active") and
               s.value("gvisor_sandbox_syscall_session_state", sandbox_id=x, state="active") == 1 for x in sids):
            return
        time.sleep(0.5)
    raise TimeoutError(exporter.logs())


def reader_cpu_seconds(exporter):
    """CPU time of the exporter's trace reader thread (gve-trace-read), from its schedstat."""
    task = gvisor_env.trace_reader_task(exporter.proc.pid)
    if task is None:
        return 0.0
    with open(f"{task}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def run_round(runsc, exporter, sids, probe_path, calls, burst):
    """All probes at once; returns (slowest probe's loop seconds, syscalls counted, drops,
    reader thread CPU seconds)."""
    exporter.wait_polls(n=1)
    c0, d0 = totals(exporter, sids)
    r0 = reader_cpu_seconds(exporter)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(sids)) as pool:
        # The probes' own timings (vDSO clock, loop only): runsc exec's start-up is not in the rate.
        wall = max(pool.map(lambda x: probe(runsc, x, probe_path, calls, burst), sids))
    # Let the reader drain and one poll publish what it read.
    time.sleep(1)
    exporter.wait_polls(n=2)
    c1, d1 = totals(exporter, sids)
    return wall, c1 - c0, d1 - d0, reader_cpu_seconds(exporter) - r0


def measure(args, k, probe_host_path):
    workdir = tempfile.mkdtemp(prefix="gve-bench-drops-")
    runsc = Runsc(workdir, f"gve-bench-drops-{os.getpid()}-{k}")
    exporter = None
    rows = []
    try:
        probe_path = runsc.install(probe_host_path, "syscall_probe")
        sids = [f"gvbd{k}x{i}x{os.getpid()}" for i in range(k)]
        for i, sid in enumerate(sids):
            runsc.run_sandbox(sid, pod=f"drops-{i}", namespace="bench", uid=f"u{i}",
                              annotations={"gvisor-exporter.io/syscalls": "true"},
                              flags=[f"--platform={args.platform_name}"])
        exporter = Exporter(os.path.abspath(args.exporter), workdir,
                            [f"--runsc.root={runsc.root}", "--runsc.root-parent=", "--poll.interval=1s",
                             f"--syscalls.record-file={workdir}/record.json", *args.exporter_arg])
        wait_active(exporter, sids)
        # Calibrate: calls per second of one probe while all run, so a round lasts ~--seconds.
        wall, counted, _, _ = run_round(runsc, exporter, sids, probe_path, 5000, 0)
        per_probe_rate = 5000 / wall
        calls = max(5000, int(per_probe_rate * args.seconds))
        for burst in PACING:
            wall, counted, drops, reader_cpu = run_round(runsc, exporter, sids, probe_path, calls, burst)
            expected = calls * len(sids)
            rows.append({"sandboxes": k, "burst": burst, "calls": expected, "wall": wall,
                         "events_per_s": 2 * expected / wall, "counted": counted, "drops": drops,
                         "reader_us_per_event": 1e6 * reader_cpu / (2 * expected - drops)})
            print(json.dumps(rows[-1]), flush=True)
            if drops == 0:
                break
        return rows
    finally:
        if exporter:
            exporter.stop()
        runsc.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--runsc", default="/usr/bin/runsc")
    ap.add_argument("--platform", default="")
    ap.add_argument("--sandboxes", default="1,10")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--load", type=int, default=0, help="host busy loops running meanwhile")
    ap.add_argument("--exporter-arg", action="append", default=[],
                    help="extra exporter flag, e.g. --syscalls.reader-priority=0 (repeatable)")
    args = ap.parse_args()
    gvisor_env.use_runsc(args.runsc)
    args.platform_name = args.platform or gvisor_env.default_platform(gvisor_env.RUNSC_RELEASE)
    loads = [subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"]) for _ in range(args.load)]
    rows = []
    try:
        for k in (int(x) for x in args.sandboxes.split(",")):
            rows += measure(args, k, os.path.abspath(args.probe))
    finally:
        for p in loads:
            stop_process(p, 5)
    print(f"\nMeasured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({platform.machine()}), kernel "
          f"{platform.release()}, {gvisor_env.RUNSC_VERSION}, {args.platform_name}; enter + exit points; "
          f"{args.load} host busy loops; exporter flags: {' '.join(args.exporter_arg) or 'defaults'}.\n")
    print("| sandboxes | pacing | syscalls | loop time (slowest) | events/s (all sandboxes) | counted | dropped "
          "| reader CPU per event |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        pacing = "tight loop" if not r["burst"] else f"2 ms pause every {r['burst']} calls"
        print(f"| {r['sandboxes']} | {pacing} | {r['calls']} | {r['wall']:.1f} s | {r['events_per_s']:,.0f} | "
              f"{r['counted']:.0f} | {r['drops']:.0f} | {r['reader_us_per_event']:.2f} µs |")


if __name__ == "__main__":
    main()
