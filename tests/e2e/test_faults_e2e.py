"""End-to-end faults of a sandbox's control socket, on the real exporter binary.

A fake sandbox is a real process that looks like a sentry to the exporter
(argv[0] `.../runsc-sandbox`, last argument its id, a state file in the root)
and serves the abstract control socket `@runsc-sandbox.<id>` itself: refusing,
hanging, answering garbage or megabytes. A real sandbox sits beside it. The
exporter must keep serving every scrape promptly, count the right error, keep
exporting the real sandbox, and recover when the socket behaves again.
"""
import json
import os
import re
import subprocess
import sys
import time

import pytest

N = os.getpid()
REAL = f"gver{N}"

FAKE_SENTRY = r'''
import socket, sys, time
mode, sid = sys.argv[1], sys.argv[-1]
if mode == "refuse":
    time.sleep(3600)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\0runsc-sandbox." + sid.encode() + b"\0")
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    if mode == "hang":
        continue
    try:
        c.recv(65536)
        if mode == "garbage":
            c.sendall(b"\x00\xffnot json at all}}}")
        elif mode == "megabytes":
            c.sendall(b'{"success":true,"err":"","result":"' + b"A" * (8 << 20) + b'"}')
    except OSError:  # the exporter hung up on us: that is the point
        pass
    c.close()
'''


@pytest.fixture(scope="module")
def real_sandbox(runsc):
    runsc.run_sandbox(REAL, pod="real", namespace="shop", uid="uid-r")
    return runsc


def start_fake(runsc, workdir, sid, mode):
    link = os.path.join(workdir, "runsc-sandbox")
    if not os.path.exists(link):
        os.symlink(sys.executable, link)
    script = os.path.join(workdir, "fake_sentry.py")
    with open(script, "w") as f:
        f.write(FAKE_SENTRY)
    proc = subprocess.Popen([link, script, mode, "boot", sid], stdin=subprocess.DEVNULL)
    state = {"id": sid, "status": "running", "spec": {"annotations": {
        "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": sid,
        "io.kubernetes.cri.sandbox-name": "fake-" + mode, "io.kubernetes.cri.sandbox-namespace": "faults"}},
        "sandbox": {"id": sid, "pid": proc.pid, "cgroup": {"cgroupunknown": None}}}
    path = os.path.join(runsc.root, f"{sid}_sandbox:{sid}.state")
    with open(path, "w") as f:
        json.dump(state, f)
    time.sleep(0.3)  # the listener is up
    return proc, path


@pytest.mark.parametrize("mode,reason", [("refuse", "unavailable"), ("hang", "timeout"),
                                         ("garbage", "parse"), ("megabytes", "too_large")])
def test_bad_control_socket_is_counted_and_blocks_nothing(mode, reason, real_sandbox, workdir,
                                                          start_exporter):
    sid = f"gvex{N}{mode}"
    proc, state = start_fake(real_sandbox, workdir, sid, mode)
    try:
        e = start_exporter(f"--runsc.root={real_sandbox.root}", "--runsc.root-parent=",
                           "--poll.interval=300ms", "--control.timeout=500ms",
                           "--runsc.cli-timeout=1s")
        s = e.wait_polls(2)
        # While polls keep hitting the bad socket, every scrape answers at once.
        for _ in range(5):
            t0 = time.monotonic()
            s = e.scrape()
            assert time.monotonic() - t0 < 0.5
        errors = s.sum("gvisor_exporter_errors_total", source="control_socket", reason=reason)
        assert errors >= 1, s.select("gvisor_exporter_errors_total")
        assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=sid, path="none") == 1
        assert s.value("gvisor_sandbox_info", sandbox_id=sid) == 1
        assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=REAL, path="control_socket") == 1
        assert s.value("gvisor_sandbox_memory_total_bytes", sandbox_id=REAL) > 0
        assert e.get("/healthz")[0] == 200
        # logfmt quotes a value only when it must (ids never need it).
        assert re.search(rf'\bsubject="?{sid}"?( |$)', e.logs(), re.M), e.logs()[-2000:]
        # The fake sandbox goes away: its series follow, the real one stays.
        proc.kill()
        proc.wait()
        os.unlink(state)
        s = e.wait_polls(2)
        assert not s.select("gvisor_sandbox_info", sandbox_id=sid)
        assert s.value("gvisor_sandbox_info", sandbox_id=REAL) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if os.path.exists(state):
            os.unlink(state)
