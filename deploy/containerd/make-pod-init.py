#!/usr/bin/python3
"""Writes pod-init.json and pod-init-errors.json: runsc's pod init configs for syscall
listen mode.

Every sandbox started with `pod-init-config = "/etc/gvisor-exporter/pod-init.json"`
(runsc.toml, [runsc_config]) creates the trace session "Default" at start: the raw
syscall ENTER points syscall/sysno/<N>/enter for N = 0..441 (the raw points of
runsc 20221219; `runsc trace metadata` lists them), each with the context field
container_id, sent to a remote sink at /run/gvisor-exporter/syscalls.sock, where
gvisor-exporter listens. retries = 0: a busy consumer makes the sentry DROP events
(counted), never stall the application. ignore_setup_error: a sandbox still starts
when the exporter is not listening (no statistics for it then).

pod-init-errors.json adds the raw EXIT points (syscall/sysno/<N>/exit; exit events
carry the enter point's context fields) for errors by errno and unimplemented
(ENOSYS) syscalls: twice the events, twice the cost.

  make-pod-init.py           rewrite both files
  make-pod-init.py --check   exit 1 when a file differs
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUTS = {os.path.join(HERE, "pod-init.json"): False, os.path.join(HERE, "pod-init-errors.json"): True}
ENDPOINT = "/run/gvisor-exporter/syscalls.sock"
MAX_SYSNO = 441


def render(exits):
    points = []
    for n in range(MAX_SYSNO + 1):
        points.append({"name": f"syscall/sysno/{n}/enter", "context_fields": ["container_id"]})
        if exits:
            points.append({"name": f"syscall/sysno/{n}/exit"})
    doc = {"trace_session": {
        "name": "Default",
        "points": points,
        "sinks": [{"name": "remote", "config": {"endpoint": ENDPOINT, "retries": 0},
                   "ignore_setup_error": True}],
    }}
    # One point per line: readable, and diffs stay small.
    ts = doc["trace_session"]
    points = ",\n".join("      " + json.dumps(pt) for pt in ts["points"])
    sinks = json.dumps(ts["sinks"])
    return ('{\n  "trace_session": {\n    "name": "Default",\n    "points": [\n' + points +
            '\n    ],\n    "sinks": ' + sinks + '\n  }\n}\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    bad = 0
    for out, exits in OUTS.items():
        text = render(exits)
        if args.check:
            try:
                with open(out) as f:
                    same = f.read() == text
            except FileNotFoundError:
                same = False
            print(f"{out}: {'up to date' if same else 'differs: rerun deploy/containerd/make-pod-init.py'}")
            bad |= not same
        else:
            with open(out, "w") as f:
                f.write(text)
            print(f"wrote {out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
