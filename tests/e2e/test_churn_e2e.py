"""End-to-end: sandbox churn leaves nothing behind in the exporter.

CHURN_CYCLES (default 100) real sandboxes are created and deleted one after the
other while the exporter polls every 200 ms with syscall statistics on for
them (so every cycle also creates and drops a trace session, a socketpair and
a control connection). Afterwards the exporter's open fds and threads must be
back at their baseline exactly, its RSS within allocator slack, and no series
of a deleted sandbox may remain. Ground truth: /proc/<exporter pid>.
"""
import os
import time

from gvisor_env import wait_until

N = os.getpid()
CYCLES = int(os.environ.get("CHURN_CYCLES", "100"))


def proc_state(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = len(os.listdir(f"/proc/{pid}/task"))
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) * 1024
    return fds, threads, rss


def test_churn_of_sandboxes_leaks_no_fds_threads_memory_or_series(runsc, start_exporter, workdir):
    e = start_exporter(f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                       "--poll.interval=200ms", "--syscalls.namespaces=churn",
                       f"--syscalls.record-file={workdir}/churn-record-{N}.json")
    pid = e.proc.pid

    def cycle(i):
        sid = f"gvch{N}x{i}"
        runsc.run_sandbox(sid, pod=f"churn-{i}", namespace="churn", uid=f"uc{i}")
        assert wait_until(lambda: any(
            v == 1 for _, v in e.scrape().select("gvisor_sandbox_syscall_session_state",
                                                 sandbox_id=sid, state="active"))), e.logs()
        runsc.delete(sid)
        assert wait_until(lambda: not e.scrape().select("gvisor_sandbox_info", sandbox_id=sid))
        runsc.containers = [c for c in runsc.containers if c[0] != sid]

    for i in range(3):  # warm-up: allocator pools, civetweb threads, first sessions
        cycle(f"w{i}")
    e.wait_polls(3)
    base = proc_state(pid)
    start = time.time()
    for i in range(CYCLES):
        cycle(i)
    took = time.time() - start
    e.wait_polls(3)
    after = proc_state(pid)
    print(f"{CYCLES} create/delete cycles in {took:.0f} s: fds {base[0]} -> {after[0]}, "
          f"threads {base[1]} -> {after[1]}, RSS {base[2] >> 10} -> {after[2] >> 10} KiB")
    assert after[0] == base[0], "file descriptors leaked"
    assert after[1] == base[1], "threads leaked"
    assert after[2] <= base[2] + 4 * 2**20, "RSS grew by more than 4 MiB"
    s = e.scrape()
    assert not [l for l, _ in s.select("gvisor_sandbox_info") if l["namespace"] == "churn"]
    assert not [l for l, _ in s.select("gvisor_container_syscalls_total")
                if l["namespace"] == "churn"]
    assert s.value("gvisor_sandboxes", root=runsc.root) == 0
