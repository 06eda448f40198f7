#!/usr/bin/env python3
"""What syscall statistics cost the sandboxed workload, measured inside it.

Starts one real sandbox (--runsc, --platform) and runs the static probe
(tests/e2e/probe/syscall_probe.cc) inside it with `runsc exec`: N getppid(2)
calls, timed by the probe itself with the vDSO clock. Conditions, in
alternating rounds (best of --rounds per condition):
  none         no trace session
  enter        the exporter attached with --no-syscalls.errors (1 event/syscall)
  enter+exit   the exporter attached as by default (2 events/syscall)
  filtered     enter+exit with --syscalls.filter naming other syscalls than
               getppid: the session exists, the probe's calls are not traced
  stopped      enter+exit, exporter SIGSTOPped: every event dropped at EAGAIN
Added cost per syscall = (t_condition - t_none) / calls. Writes a markdown
table row per condition. Needs root. Usage:
  bench/syscall_trace_cost.py --exporter build/gvisor-exporter --probe build/syscall_probe \
      [--runsc /opt/gvisor-exporter/runsc-20240729/runsc] [--platform systrap]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import gvisor_env  # noqa: E402
from gvisor_env import Exporter, Runsc  # noqa: E402


def probe_seconds(runsc, sid, probe, calls):
    out = runsc.exec(sid, probe, "getppid", str(calls))
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def wait_active(exporter, sid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = exporter.scrape()
        if s.select("gvisor_sandbox_syscall_session_state", sandbox_id=sid, state="active") and \
                s.value("gvisor_sandbox_syscall_session_state", sandbox_id=sid,
                        state="active") == 1:
            return
        time.sleep(0.2)
    raise TimeoutError(exporter.logs())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runsc", default="/usr/bin/runsc")
    ap.add_argument("--platform", default="", help="runsc --platform (default: the release's default)")
    ap.add_argument("--exporter-arg", action="append", default=[],
                    help="extra exporter flag for every traced condition, e.g. --syscalls.reader-pause=1ms")
    args = ap.parse_args()
    gvisor_env.use_runsc(args.runsc)
    platform_name = args.platform or gvisor_env.default_platform(gvisor_env.RUNSC_RELEASE)
    workdir = tempfile.mkdtemp(prefix="gve-bench-trace-")
    runsc = Runsc(workdir, f"gve-bench-trace-{os.getpid()}")
    conditions = ("none", "enter", "enter+exit", "filtered", "stopped")
    results = {c: [] for c in conditions}
    try:
        probe = runsc.install(os.path.abspath(args.probe), "syscall_probe")
        sid = f"gvbt{os.getpid()}"
        runsc.run_sandbox(sid, pod="bench", namespace="bench", uid="u",
                          annotations={"gvisor-exporter.io/syscalls": "true"},
                          flags=[f"--platform={platform_name}"])
        base = [f"--runsc.root={runsc.root}", "--runsc.root-parent=", "--poll.interval=500ms",
                f"--syscalls.record-file={workdir}/record.json", *args.exporter_arg]
        for _ in range(args.rounds):
            results["none"].append(probe_seconds(runsc, sid, probe, args.calls))
            for cond, extra in (("enter", ["--no-syscalls.errors"]), ("enter+exit", []),
                                ("filtered", ["--syscalls.filter=openat,execve,connect"])):
                e = Exporter(os.path.abspath(args.exporter), workdir, base + extra)
                try:
                    wait_active(e, sid)
                    results[cond].append(probe_seconds(runsc, sid, probe, args.calls))
                    if cond == "enter+exit":
                        e.pause()
                        try:
                            results["stopped"].append(probe_seconds(runsc, sid, probe, args.calls))
                        finally:
                            e.resume()
                finally:
                    e.stop()  # deletes the session: the next "none" run is untraced
    finally:
        runsc.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    version = gvisor_env.RUNSC_VERSION
    best = {k: min(v) for k, v in results.items()}
    events = {"none": 0, "enter": 1, "enter+exit": 2, "filtered": 0, "stopped": 2}
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({platform.machine()}), "
             f"kernel {platform.release()}, {version}, {platform_name} platform; {args.calls} getppid per run, "
             f"best of {args.rounds}; exporter flags: {' '.join(args.exporter_arg) or 'defaults'}.", "",
             "| runsc | platform | condition | events per syscall | probe time (best) | per syscall | added per syscall |",
             "|---|---|---|---:|---:|---:|---:|"]
    release = gvisor_env.RUNSC_RELEASE
    for cond in conditions:
        t = best[cond]
        per_call = t / args.calls * 1e6
        added = (t - best["none"]) / args.calls * 1e6
        lines.append(f"| {release} | {platform_name} | {cond} | {events[cond]} | {t:.3f} s | {per_call:.1f} µs | "
                     + (f"{added:+.1f} µs |" if cond != "none" else "— |"))
    lines.append("")
    lines.append("All runs (s): " + json.dumps(results))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
