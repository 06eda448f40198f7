#!/usr/bin/env python3
"""What the exporter's polling costs one idle sandbox, in the sandbox's own CPU.

Starts one idle real sandbox (--runsc, --platform) and reads its cgroup's
cpuacct.usage over --seconds: first with no exporter, then with the exporter
polling it at each --intervals value. Prints ms of sandbox CPU per second and
per poll above the no-exporter baseline. Needs root. Usage:
  bench/poll_sandbox_cost.py --exporter build/gvisor-exporter [--runsc PATH] [--platform ptrace]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import gvisor_env  # noqa: E402
from gvisor_env import Exporter, Runsc, cgroup_file  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--runsc", default="/usr/bin/runsc")
    ap.add_argument("--platform", default="")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--intervals", default="1s,250ms")
    args = ap.parse_args()
    gvisor_env.use_runsc(args.runsc)
    platform = args.platform or gvisor_env.default_platform(gvisor_env.RUNSC_RELEASE)
    workdir = tempfile.mkdtemp(prefix="gve-bench-pollcost-")
    runsc = Runsc(workdir, f"gve-bench-pollcost-{os.getpid()}")
    exporter = None
    try:
        sid = f"gvpc{os.getpid()}"
        runsc.run_sandbox(sid, pod="p", namespace="n", uid="u", flags=[f"--platform={platform}"])
        time.sleep(3)

        def cpu_ms_per_s():
            a = int(cgroup_file(runsc, sid, "cpuacct", "cpuacct.usage"))
            time.sleep(args.seconds)
            return (int(cgroup_file(runsc, sid, "cpuacct", "cpuacct.usage")) - a) / 1e6 / args.seconds

        base = cpu_ms_per_s()
        print(f"{gvisor_env.RUNSC_VERSION}, {platform}, idle sandbox, {args.seconds:.0f} s windows")
        print("| exporter poll | sandbox CPU | polls | sandbox CPU per poll |")
        print("|---|---:|---:|---:|")
        print(f"| none | {base:.2f} ms/s | — | — |")
        for interval in args.intervals.split(","):
            exporter = Exporter(os.path.abspath(args.exporter), workdir,
                                [f"--runsc.root={runsc.root}", "--runsc.root-parent=", f"--poll.interval={interval}"])
            exporter.wait_polls(2)
            p0 = exporter.polls()
            rate = cpu_ms_per_s()
            polls = exporter.polls() - p0
            exporter.stop()
            exporter = None
            per_poll = (rate - base) * args.seconds / polls if polls else float("nan")
            print(f"| {interval} | {rate:.2f} ms/s | {polls:.0f} | {per_poll:.2f} ms |")
    finally:
        if exporter:
            exporter.stop()
        runsc.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
