"""End-to-end: RuntimeClasses from a Kubernetes API server over HTTPS.

A stand-in API server (exporter/sources/kube/testdata/fake_apiserver.py:
Python's ssl with a CA and server certificate made by `openssl` in the test's
temp dir) serves a recorded-shape RuntimeClassList and checks the bearer
token. The exporter runs against it and a runsc root with one real sandbox.
Then the server turns hostile — 401, 403, 500, a hang, garbage, a
certificate from another CA — and none of it may break the exporter: /metrics
keeps answering, the sandbox keeps its series, gvisor_kubernetes_api_up is 0,
the last good classes stay (the documented choice), errors are counted by
reason; and when the server is good again the exporter recovers by itself.
"""
import os
import subprocess
import sys
import time

import pytest

N = os.getpid()
SID = f"gvek{N}"
TESTDATA = os.path.join(os.path.dirname(__file__), "..", "..", "exporter", "sources", "kube",
                        "testdata")
CLASSES = {"gvisor": "runsc", "gvisor-kvm": "runsc-kvm", "gvisor-ptrace": "runsc-ptrace",
           "kata": "kata"}


class ApiServer:
    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.token_file = os.path.join(d, "token")
        with open(self.token_file, "w") as f:
            f.write("e2e-token-1\n")
        self.log = open(os.path.join(d, "server.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(TESTDATA, "fake_apiserver.py"), "--dir", d,
             "--body", os.path.join(TESTDATA, "runtimeclass_list.json"),
             "--token-file", self.token_file],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        port_file = os.path.join(d, "port")
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            assert self.proc.poll() is None, "fake API server exited"
            assert time.time() < deadline, "fake API server did not start"
            time.sleep(0.05)
        with open(port_file) as f:
            self.url = f"https://127.0.0.1:{f.read().strip()}"
        self.ca_file = os.path.join(d, "ca.crt")

    def set_mode(self, mode):
        tmp = os.path.join(self.dir, "mode.tmp")
        with open(tmp, "w") as f:
            f.write(mode)
        os.rename(tmp, os.path.join(self.dir, "mode"))

    def requests(self):
        with open(os.path.join(self.dir, "requests.log")) as f:
            return f.read().splitlines()

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def api_server(workdir):
    s = ApiServer(os.path.join(workdir, "kube-api"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sandbox(runsc):
    runsc.run_sandbox(SID, pod="kube-e2e", namespace="kube", uid="uid-kube")
    return runsc


def kube_errors(s, reason=None):
    labels = {"source": "kubernetes"}
    if reason:
        labels["reason"] = reason
    return s.sum("gvisor_exporter_errors_total", **labels)


def assert_classes(s):
    got = {l["runtime_class"]: l["handler"] for l, _ in s.select("gvisor_runtimeclass_info")}
    assert got == CLASSES
    mem = {l["runtime_class"]: v for l, v in s.select("gvisor_runtimeclass_overhead_memory_bytes")}
    assert mem == {"gvisor": 64 << 20, "gvisor-kvm": 96 << 20, "gvisor-ptrace": 64 << 20}
    cpu = {l["runtime_class"]: v for l, v in s.select("gvisor_runtimeclass_overhead_cpu_cores")}
    assert cpu == {"gvisor": 0.1, "gvisor-kvm": 0.1, "gvisor-ptrace": 0.25}


def test_runtimeclasses_from_the_api_survive_every_failure(sandbox, api_server, start_exporter):
    e = start_exporter(f"--runsc.root={sandbox.root}", "--runsc.root-parent=", "--cri.endpoint=",
                       "--poll.interval=300ms", f"--kubernetes.api={api_server.url}",
                       f"--kubernetes.ca-file={api_server.ca_file}",
                       f"--kubernetes.token-file={api_server.token_file}",
                       "--kubernetes.refresh=1s", "--kubernetes.timeout=1s")
    s = e.wait_for(lambda s: s.select("gvisor_kubernetes_api_up") and
                 s.value("gvisor_kubernetes_api_up") == 1, "the API up")
    assert_classes(s)
    assert s.value("gvisor_exporter_collector_success", collector="kubernetes") == 1
    assert s.select("gvisor_sandbox_info", sandbox_id=SID)
    assert "Bearer e2e-token-1" in api_server.requests()[-1]

    # The token rotates: the next refresh sends the new one.
    with open(api_server.token_file, "w") as f:
        f.write("e2e-token-2\n")
    deadline = time.time() + 10
    while "Bearer e2e-token-2" not in api_server.requests()[-1]:
        assert time.time() < deadline, "the rotated token was never sent"
        time.sleep(0.1)
    assert e.scrape().value("gvisor_kubernetes_api_up") == 1

    for mode, reason in [("401", "permission"), ("403", "permission"), ("500", "remote_error"),
                         ("hang", "timeout"), ("garbage", "parse"), ("wrong-ca", "permission")]:
        before = kube_errors(e.scrape(), reason)
        api_server.set_mode(mode)
        s = e.wait_for(lambda s: kube_errors(s, reason) > before, f"{mode}: a {reason} error")
        s = e.wait_for(lambda s: s.value("gvisor_kubernetes_api_up") == 0, f"{mode}: API down")
        # The exporter is unharmed: it answers, its sandbox series flow, the
        # last good classes stay, and the source says it failed.
        assert e.get("/healthz")[0] == 200, mode
        assert s.select("gvisor_sandbox_info", sandbox_id=SID), mode
        assert s.select("gvisor_sandbox_host_processes", sandbox_id=SID, role="sentry"), mode
        assert_classes(s)
        assert s.value("gvisor_exporter_collector_success", collector="kubernetes") == 0, mode
        polls = s.value("gvisor_exporter_polls_total")
        e.wait_polls(2)  # polls keep coming (a hang costs one poll at most the timeout)
        assert e.scrape().value("gvisor_exporter_polls_total") >= polls + 2, mode

    # Good again: recovered without a restart, within the backoff (<= refresh).
    api_server.set_mode("ok")
    s = e.wait_for(lambda s: s.value("gvisor_kubernetes_api_up") == 1, "recovery")
    assert_classes(s)
    assert s.value("gvisor_exporter_collector_success", collector="kubernetes") == 1
    assert e.proc.poll() is None


def test_api_off_has_no_kubernetes_series(sandbox, start_exporter):
    e = start_exporter(f"--runsc.root={sandbox.root}", "--runsc.root-parent=", "--cri.endpoint=",
                       "--poll.interval=300ms")
    s = e.wait_polls(1)
    assert not s.select("gvisor_kubernetes_api_up")
    assert not s.select("gvisor_runtimeclass_info")
    assert not s.select("gvisor_exporter_collector_success", collector="kubernetes")
