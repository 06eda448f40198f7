"""What differs between the runsc releases the suite runs on, one test per difference.

The runsc under test is `--runsc=PATH` (default /usr/bin/runsc); its version is
read once (`runsc_release`). Each test asserts the behaviour of THAT release,
as observed on Debian's builds: bookworm's 20221219 (ptrace default, abstract
control socket) and bookworm-backports' 20240729 (systrap default, control
socket file). A release the suite does not know fails here instead of being
guessed at.
"""
import json
import os
import stat

import pytest

import gvisor_env
from gvisor_env import control_socket_is_file, default_platform

N = os.getpid()
SV = f"gvv{N}"    # the pod sandbox
CV = f"cvv{N}"    # an app container in it (not a prefix of SV: runsc resolves ids by prefix)
KNOWN = (20221219, 20240729)


@pytest.fixture(scope="module")
def sandbox(runsc):
    runsc.run_sandbox(SV, pod="versions", namespace="shop", uid="uid-v")
    runsc.add_container(SV, CV, "app")
    return runsc


@pytest.fixture(scope="module")
def exporter(sandbox, exporter_bin, workdir):
    e = gvisor_env.Exporter(exporter_bin, workdir, [f"--runsc.root={sandbox.root}", "--runsc.root-parent=",
                                                     "--cri.endpoint=", "--poll.interval=500ms"])
    yield e
    e.stop()


def sentry_pid(sandbox):
    return sandbox.state_file(SV)["sandbox"]["pid"]


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline") as f:
        return f.read().split("\0")


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)


def test_the_release_is_a_known_one(runsc_release):
    assert gvisor_env.RUNSC_VERSION == f"runsc version 0.0~{runsc_release}.0"
    assert runsc_release in KNOWN, f"{gvisor_env.RUNSC_VERSION}: add its behaviour to this module"


def test_control_socket_is_a_file_from_20230920_and_abstract_before(sandbox, runsc_release):
    path = os.path.join(sandbox.root, f"runsc-{SV}.sock")
    with open("/proc/net/unix") as f:
        names = [line.split()[-1] for line in f.read().splitlines()[1:] if len(line.split()) == 8]
    st = sandbox.state_file(SV)["sandbox"]
    if control_socket_is_file(runsc_release):
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert st["controlSocketPath"] == path
        assert path in names and f"@runsc-sandbox.{SV}@" not in names
    else:
        assert not os.path.exists(path) and "controlSocketPath" not in st
        assert f"@runsc-sandbox.{SV}@" in names  # the trailing NUL is part of the name
        assert sorted(os.listdir(sandbox.root)) == sorted(
            f"{c}_sandbox:{SV}.{ext}" for c in (SV, CV) for ext in ("lock", "state"))


def test_state_file_fields(sandbox, runsc_release):
    st = sandbox.state_file(SV)
    newer = {"controlSocketPath", "metricMetadata", "podName", "namespace", "startTime"}
    if runsc_release >= 20240729:
        assert newer <= set(st["sandbox"])
        md = st["sandbox"]["metricMetadata"]
        assert md["platform"] == "systrap" and md["network"] == "none"
        assert md["overlay"] == "root:self" and md["version"] == f"0.0~{runsc_release}.0"
    else:
        assert set(st["sandbox"]) == {"id", "pid", "uid", "gid", "cgroup", "originalOomScoreAdj"}
    assert st["sandbox"]["id"] == SV and st["status"] == "running"


def test_no_platform_flag_on_the_sentry_command_line(sandbox):
    # Neither release writes its default platform out: it is implied by the release.
    argv = cmdline(sentry_pid(sandbox))
    assert argv[0] == "runsc-sandbox" and argv[-2] == SV
    assert not [a for a in argv if a.startswith("--platform")], argv
    assert not [a for a in argv if a.startswith("--overlay2")], argv


def test_platform_stub_processes(sandbox, runsc_release):
    """ptrace: stub children stopped under ptrace by a sentry thread; systrap: untraced."""
    pid = sentry_pid(sandbox)
    threads = set(os.listdir(f"/proc/{pid}/task"))
    stubs = []
    for t in threads:
        with open(f"/proc/{pid}/task/{t}/children") as f:
            stubs += [int(c) for c in f.read().split()]
    assert stubs
    assert {status(c)["Name"] for c in stubs} == {"exe"}
    tracers = {status(c)["TracerPid"].strip() for c in stubs}
    if default_platform(runsc_release) == "ptrace":
        assert tracers <= threads and "0" not in tracers, tracers
    else:
        assert tracers == {"0"}, tracers


def test_exporter_reports_the_release_defaults(exporter, runsc_release):
    s = exporter.wait_polls()
    info = s.select("gvisor_sandbox_platform_info", sandbox_id=SV)[0][0]
    assert info["platform"] == default_platform(runsc_release)
    assert info["network"] == "none"
    if runsc_release >= 20240729:
        assert info["overlay"] == "root:self"  # the default --overlay2, from metricMetadata
    assert s.value("gvisor_runsc_info", version=f"0.0~{runsc_release}.0") == 1
    assert s.value("gvisor_sandbox_stats_path_info", sandbox_id=SV, path="control_socket") == 1


def test_runsc_state_output(sandbox, runsc_release):
    out = sandbox.cmd("state", SV)
    assert json.loads(out)["id"] == SV
    # 20221219 prints the indented JSON without a trailing newline.
    assert out.endswith("\n") == (runsc_release >= 20240729)


def test_runsc_events_stats(sandbox, runsc_release):
    ev = {c: json.loads(sandbox.cmd("events", "-stats", c))["data"] for c in (SV, CV)}
    if runsc_release >= 20240729:
        # Per container: the pause container's memory is not reported, the app's is;
        # pids per container; network interfaces added.
        assert "usage" not in ev[SV]["memory"]["usage"]
        assert ev[CV]["memory"]["usage"]["usage"] > 0
        assert ev[SV]["pids"]["current"] == 1 and ev[CV]["pids"]["current"] == 1
        assert [i["Name"] for i in ev[SV]["network_interfaces"]] == ["lo"]
    else:
        # Sandbox-wide memory and pids, the same for every container; no interfaces.
        assert ev[SV]["memory"]["usage"]["usage"] == ev[CV]["memory"]["usage"]["usage"] > 0
        assert ev[SV]["pids"]["current"] == ev[CV]["pids"]["current"] == 2
        assert "network_interfaces" not in ev[SV]


def test_runsc_usage_and_trace_metadata_are_alike(sandbox):
    u = sandbox.usage(SV)
    assert set(u) == {"Unknown", "System", "Anonymous", "PageCache", "Mapped", "Tmpfs", "Ramdiskfs", "Total"}
    assert u["Total"] > 0
    # Both releases list the same 991 trace points (raw syscall/sysno/0..441 included).
    md = sandbox.cmd("trace", "metadata").splitlines()
    assert md[0] == "POINTS (991)"
    assert any(line.startswith("Name: syscall/sysno/441/enter,") for line in md)
    assert sandbox.cmd("trace", "list", SV).strip() == "SESSIONS (0)"


def test_platform_without_a_runsc_binary_comes_from_the_state_file(sandbox, runsc_release,
                                                                   start_exporter):
    """An exporter that cannot run runsc (so knows no release) still knows a newer
    sandbox's platform: its state file's sandbox.metricMetadata. 20221219 writes
    none, and its command line names no platform: unknown."""
    e = start_exporter(f"--runsc.root={sandbox.root}", "--runsc.root-parent=", "--cri.endpoint=",
                       "--runsc.path=/nonexistent/runsc", "--poll.interval=500ms")
    info = e.wait_polls().select("gvisor_sandbox_platform_info", sandbox_id=SV)[0][0]
    if runsc_release >= 20240729:
        assert (info["platform"], info["overlay"], info["network"]) == ("systrap", "root:self", "none")
    else:
        assert (info["platform"], info["overlay"], info["network"]) == ("unknown", "unknown", "none")
