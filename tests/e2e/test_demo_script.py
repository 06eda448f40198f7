"""README command (a): scripts/demo.sh really starts a sandbox and serves its metrics."""
import os
import subprocess

import gvisor_env
from gvisor_env import free_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_demo_script_serves_real_metrics_and_cleans_up():
    addr = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, DEMO_SECONDS="2", DEMO_ADDRESS=addr, RUNSC=gvisor_env.RUNSC)
    r = subprocess.run(["bash", os.path.join(REPO, "scripts", "demo.sh")], env=env, cwd=REPO,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"serving http://{addr}/metrics" in r.stdout
    lines = [l for l in r.stdout.splitlines() if l.startswith("gvisor_sandbox_memory_total_bytes{")]
    # A real sandbox's memory (the app may still be filling its 32 MiB when the lines are printed).
    assert lines and 'pod="demo-pod"' in lines[0] and float(lines[0].split()[-1]) > 2**20
    assert any(l.startswith("gvisor_sandbox_memory_overhead_bytes{") for l in r.stdout.splitlines())
    # The demo pod opted in to syscall statistics and ran dd bs=1 count=1000.
    writes = [l for l in r.stdout.splitlines()
              if l.startswith("gvisor_container_syscalls_total{") and 'syscall="write"' in l]
    assert writes and float(writes[0].split()[-1]) >= 1000, r.stdout[-3000:]
    # Everything the demo started is gone again.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "gvisor-exporter-demo" not in ps
    assert not any(os.path.exists(f"/sys/fs/cgroup/{c}/gvisor-exporter-demo")
                   for c in ("memory", "cpu", "pids", ""))
