#!/usr/bin/env python3
"""What the CRI mapping costs per poll, vs the number of pods on the node.

Starts a private containerd 1.6 (tests/e2e/containerd_env.py: own root, state,
socket; stopped by its PID) with 2 gVisor pods (handler runsc) and, per step,
R runc pods beside them (--runc-pods, default 0,30). For each step the built
exporter polls every 500 ms, with --cri.endpoint and once without it (same
runsc root), and the figures are:
  * CRI wall time per poll: the exporter's own
    gvisor_exporter_collector_duration_seconds{collector="cri"}, read after
    every poll (median and p90 over --polls polls, the first poll excluded:
    it also fetches every new pod's verbose status once);
  * the first poll's CRI wall time (the per-new-pod PodSandboxStatus calls);
  * exporter CPU per poll with CRI on minus CRI off (utime + stime of all its
    threads, 10 ms ticks: coarse).
Writes a markdown table to stdout (and --out). Needs root, containerd, runc,
runsc and the built gve-cri-tool next to the exporter.
Usage: bench/cri_poll_cost.py --exporter build/gvisor-exporter --runc-pods 0,30
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from containerd_env import PrivateContainerd, installed  # noqa: E402
from gvisor_env import Exporter  # noqa: E402
from poll_vs_exec import emit, proc_cpu_seconds  # noqa: E402


def cri_duration(scrape):
    return scrape.value("gvisor_exporter_collector_duration_seconds", collector="cri")


def run_exporter(binary, c, workdir, polls, cri):
    """(first poll's CRI seconds, per-poll CRI seconds, CPU seconds per poll)."""
    args = [f"--runsc.root={c.runsc_root}", "--runsc.root-parent=", "--poll.interval=500ms",
            "--log.level=error", f"--cri.endpoint={c.endpoint if cri else ''}"]
    e = Exporter(binary, workdir, args)
    try:
        first = None
        s = e.scrape()  # right after the first poll (usually; else the figure is left out)
        if cri and s.value("gvisor_exporter_polls_total") == 1:
            first = cri_duration(s)
        durations = []
        p0, c0 = e.polls(), proc_cpu_seconds(e.proc.pid)
        while e.polls() < p0 + polls:
            s = e.wait_polls(1)
            if cri:
                durations.append(cri_duration(s))
        p1, c1 = e.polls(), proc_cpu_seconds(e.proc.pid)
        return first, durations, (c1 - c0) / (p1 - p0)
    finally:
        e.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--runc-pods", default="0,30")
    ap.add_argument("--polls", type=int, default=30)
    ap.add_argument("--out")
    a = ap.parse_args()
    missing = installed()
    if missing:
        sys.exit(f"cri_poll_cost: {missing}")
    binary = os.path.abspath(a.exporter)
    cri_tool = os.path.join(os.path.dirname(binary), "gve-cri-tool")
    workdir = tempfile.mkdtemp(prefix="gve-bench-cri-")
    c = PrivateContainerd(cri_tool)
    rows = []
    try:
        c.start()
        v = c.version()
        version = f"{v.get('runtimeName', v.get('runtime_name', ''))} {v.get('runtimeVersion', v.get('runtime_version', ''))}"
        for i in range(2):
            pod = c.run_pod(c.pod_config(f"gv-{i}", "bench"), "runsc")
            c.run_container(pod, "app")
        runc = 0
        for target in [int(x) for x in a.runc_pods.split(",")]:
            while runc < target:
                pod = c.run_pod(c.pod_config(f"rc-{runc}", "bench"), "runc")
                c.run_container(pod, "app")
                runc += 1
            first, durations, cpu_on = run_exporter(binary, c, workdir, a.polls, cri=True)
            _, _, cpu_off = run_exporter(binary, c, workdir, a.polls, cri=False)
            rows.append((2 + runc, first, durations, cpu_on - cpu_off))
    finally:
        errors = c.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if errors:
            print(f"containerd cleanup: {errors}", file=sys.stderr)
    out = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, private containerd "
           f"{version}, {a.polls} polls per row.", "",
           "| pods (2 gVisor + runc) | CRI per poll: median | p90 | per pod (median) | first poll | "
           "exporter CPU per poll, CRI on − off |",
           "|---:|---:|---:|---:|---:|---:|"]
    for pods, first, d, cpu in rows:
        med = statistics.median(d)
        p90 = sorted(d)[int(0.9 * (len(d) - 1))]
        out.append(f"| {pods} | {med * 1e3:.2f} ms | {p90 * 1e3:.2f} ms | {med / pods * 1e3:.3f} ms | "
                   f"{'—' if first is None else f'{first * 1e3:.1f} ms'} | {cpu * 1e3:.2f} ms |")
    emit(out, a.out)


if __name__ == "__main__":
    main()
