#!/usr/bin/python3
"""Captures real remote-sink packets from runsc for the decoder's fixtures and
fuzz seeds (exporter/sources/trace/testdata/). Needs root and runsc.

Starts a sandbox under a private root, creates its trace session with
`runsc trace create` pointing at a SOCK_SEQPACKET listener of ours (listen
mode: runsc's handshake first), runs the static syscall probe inside it, and
writes every packet it received, one file each, in arrival order:
  /usr/bin/python3 tools/capture_trace_packets.py build/syscall_probe exporter/sources/trace/testdata
"""
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from gvisor_env import Runsc  # noqa: E402


def main(probe, outdir):
    wd = tempfile.mkdtemp(prefix="gve-capture-")
    sock_path = os.path.join(wd, "sink.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(sock_path)
    srv.listen(1)
    packets = []
    handshake = []

    def serve():
        conn, _ = srv.accept()
        handshake.append(conn.recv(1024))
        conn.send(b"\x08\x01")
        conn.settimeout(1.0)
        while True:
            try:
                p = conn.recv(65536)
            except socket.timeout:
                continue
            if not p:
                return
            packets.append(p)

    threading.Thread(target=serve, daemon=True).start()
    r = Runsc(wd, f"gve-capture-{os.getpid()}")
    try:
        bin_probe = r.install(probe, "syscall_probe")
        r.run_sandbox("capture", "pod", "ns", "uid")
        points = [{"name": f"syscall/sysno/{n}/{d}", "context_fields": ["container_id"]}
                  for n in (0, 110, 300) for d in ("enter", "exit")]
        points += [{"name": "container/start", "context_fields": ["container_id"]},
                   {"name": "sentry/task_exit", "context_fields": ["container_id"]},
                   {"name": "syscall/openat/enter", "context_fields": ["container_id"]}]
        cfg = {"trace_session": {"name": "Default", "points": points,
                                 "sinks": [{"name": "remote", "config": {"endpoint": sock_path}}]}}
        cfg_path = os.path.join(wd, "session.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        r.cmd("trace", "create", "--config", cfg_path, "capture")
        r.exec("capture", bin_probe, "getppid", "3")
        r.exec("capture", bin_probe, "enosys")
        r.exec("capture", "/bin/head", "-c", "4", "/bin/sh")  # openat (typed), read (sysno 0)
        r.add_container("capture", "capture2", "second", args=("/bin/true",))  # container/start
        time.sleep(1)
    finally:
        r.cleanup()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "handshake.bin"), "wb") as f:
        f.write(handshake[0])
    for i, p in enumerate(packets):
        mtype = int.from_bytes(p[2:4], "little")
        name = f"packet_{i:02d}_type{mtype}.bin"
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(p)
        print(name, len(p), p.hex())
    print(f"{len(packets)} packets")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
