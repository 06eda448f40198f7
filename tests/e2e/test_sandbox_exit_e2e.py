"""End-to-end: the exporter never holds up a sandbox's exit.

The sentry's urpc server, on shutdown, waits up to 15 s for idle clients to
hang up; an exporter that kept a control-socket connection open between polls
made every pod deletion 15 s slower. With the exporter polling every 200 ms
(and a syscall trace session attached), a killed sandbox's sentry must be gone
within a few seconds. Ground truth: /proc/<sentry pid>.
"""
import os
import time

N = os.getpid()


def test_killed_sandbox_exits_promptly_while_being_polled(runsc, start_exporter, workdir):
    sid = f"gvex{N}"
    runsc.run_sandbox(sid, pod="exiting", namespace="exit-ns", uid="ux")
    pid = runsc.state_file(sid)["sandbox"]["pid"]
    e = start_exporter(f"--runsc.root={runsc.root}", "--runsc.root-parent=",
                       "--poll.interval=200ms", "--syscalls.namespaces=exit-ns",
                       f"--syscalls.record-file={workdir}/exit-record-{N}.json")
    deadline = time.time() + 20
    while time.time() < deadline:  # polled over the control socket, session attached
        s = e.scrape()
        if s.select("gvisor_sandbox_syscall_session_state", sandbox_id=sid, state="active") and \
                s.value("gvisor_sandbox_syscall_session_state", sandbox_id=sid,
                        state="active") == 1:
            break
        time.sleep(0.1)
    e.wait_polls(3)
    start = time.time()
    runsc.cmd("kill", sid, "KILL")
    while os.path.exists(f"/proc/{pid}") and time.time() - start < 30:
        time.sleep(0.05)
    took = time.time() - start
    print(f"sentry exited {took:.2f} s after runsc kill")
    assert not os.path.exists(f"/proc/{pid}")
    assert took < 5, f"sentry took {took:.1f} s to exit while the exporter polled it"
    runsc.delete(sid)
