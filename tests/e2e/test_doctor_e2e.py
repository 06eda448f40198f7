"""`gvisor-exporter doctor` against real setups (issue 7).

(a) the private containerd of containerd_env.py (its generated config.toml is a
real config with a gVisor handler, runsc through a wrapper) serving two real
gVisor pods: every check OK, exit 0, the JSON checked field by field against
`runsc --version`, `runsc list` and CRI; (b) a config without a gVisor handler:
FAIL, exit 1; (c) runsc.toml with debug on: a WARN line (and unquoted `debug =
true`, which the shim cannot load: FAIL); (d) a missing runsc: FAIL; (e) an
unreadable root: FAIL. Everything the tests start is stopped by PID (conftest's
containerd fixture checks nothing is left), temp dirs are removed.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from gvisor_env import RUNSC, default_platform

RUNSC_RUNTIME = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]\n'


def run_doctor(exporter_bin, *args, timeout=60):
    if not any(a.startswith("--runsc.path") for a in args):
        args = (*args, f"--runsc.path={RUNSC}")  # the runsc under test, not PATH's
    return subprocess.run([exporter_bin, "doctor", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def run_json(exporter_bin, *args):
    r = run_doctor(exporter_bin, *args, "--output=json")
    report = json.loads(r.stdout)
    assert report["exit_code"] == r.returncode, r.stdout
    return r.returncode, report, {c["name"]: c for c in report["checks"]}


def line_of(text, name):
    """The report line of check `name` (names are padded: match the prefix)."""
    for line in text.splitlines():
        if re.match(r"^\[(?: OK |WARN|FAIL)\] " + re.escape(name) + r" ", line):
            return line
    raise AssertionError(f"no line for {name!r} in:\n{text}")


@pytest.fixture(scope="module")
def tmp():
    d = tempfile.mkdtemp(prefix="gve-doctor-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def edit_containerd_config(text):
    """The runsc handler passes gvisor-exporter.io/* annotations (what
    deploy/containerd/config.toml does); conftest's containerd applies this."""
    assert RUNSC_RUNTIME in text
    return text.replace(RUNSC_RUNTIME,
                        RUNSC_RUNTIME + '      pod_annotations = ["gvisor-exporter.io/*"]\n')


@pytest.fixture(scope="module")
def containerd(containerd):
    """conftest's private containerd with two gVisor pods (one with an app container)."""
    containerd.test_pods = {}
    for name, containers in (("doc-a", ["app"]), ("doc-b", [])):
        pod_id = containerd.run_pod(containerd.pod_config(name, "doctor"), "runsc")
        containerd.test_pods[pod_id] = [containerd.run_container(pod_id, n) for n in containers]
    return containerd


def test_real_containerd_all_ok(exporter_bin, containerd, runsc_release):
    c = containerd
    args = [f"--containerd.config={c.config}", "--runsc.root-parent=",
            f"--cri.endpoint={c.endpoint}"]
    code, report, checks = run_json(exporter_bin, *args)
    assert code == 0, json.dumps(report, indent=1)
    assert {ch["status"] for ch in report["checks"]} == {"OK"}, json.dumps(report, indent=1)
    assert report["summary"] == {"ok": len(report["checks"]), "warn": 0, "fail": 0}
    assert list(checks) == ["runsc binary", "containerd config", "gvisor handlers",
                            "handler runsc", "runsc.toml runsc", "runsc roots", "sandboxes",
                            "control sockets", "kvm", "cri endpoint", "cri handlers"]

    version_out = subprocess.run([RUNSC, "--version"], capture_output=True, text=True,
                                 check=True).stdout
    version = version_out.splitlines()[0].split()[-1]
    d = checks["runsc binary"]["data"]
    assert d["version"] == version
    assert d["path"] == RUNSC
    assert d["release"] == int(re.search(r"(20\d{6})", version).group(1))

    d = checks["containerd config"]["data"]
    assert d["files"] == [c.config] and d["version"] == 2
    d = checks["gvisor handlers"]["data"]
    assert d["handlers"] == ["runsc"] and d["all_handlers"] == ["runc", "runsc"]
    d = checks["handler runsc"]["data"]
    assert d["handler"] == "runsc"
    assert d["runtime_type"] == "io.containerd.runc.v2"
    assert d["options"] == {"BinaryName": os.path.join(c.dir, "bin", "runsc-wrapper"),
                            "Root": os.path.join(c.dir, "runsc-root")}
    assert d["pod_annotations"] == ["gvisor-exporter.io/*"]
    assert d["passes_exporter_annotations"] is True
    assert d["root_parent"] == os.path.join(c.dir, "runsc-root")
    assert checks["runsc.toml runsc"]["data"]["platform"] == ""  # a wrapper: flags not visible

    assert [r["path"] for r in checks["runsc roots"]["data"]["roots"]] == [c.runsc_root]

    # Sandboxes: the pods' ids; containers: exactly what `runsc list` shows.
    listed = json.loads(subprocess.run([RUNSC, "--root", c.runsc_root, "list", "-format=json"],
                                       capture_output=True, text=True, check=True).stdout)
    by_id = {x["id"]: x for x in listed}
    sbs = checks["sandboxes"]["data"]["sandboxes"]
    assert checks["sandboxes"]["data"]["count"] == 2
    assert {s["id"] for s in sbs} == set(c.test_pods)
    assert {cid for s in sbs for cid in s["containers"]} == set(by_id)
    for s in sbs:
        assert set(s["containers"]) == {s["id"], *c.test_pods[s["id"]]}
        assert s["pid"] == by_id[s["id"]]["pid"]
        assert s["root"] == c.runsc_root
        assert s["namespace"] == "doctor"
        # The wrapper sets no --platform: the release's default.
        assert s["platform"] == default_platform(runsc_release) and s["debug"] is False
    socks = checks["control sockets"]["data"]["sockets"]
    assert {s["id"] for s in socks} == set(c.test_pods)
    assert all(s["reachable"] for s in socks)
    assert checks["kvm"]["data"]["used_by"] == []

    d = checks["cri endpoint"]["data"]
    assert d["runtime_name"] == "containerd" and d["pods"] == 2
    assert d["runtime_version"] == c.version()["runtime_version"]
    d = checks["cri handlers"]["data"]
    assert d["handlers"] == {"runsc": 2}
    assert {p["id"] for p in d["pods"]} == set(c.test_pods)
    assert all(p["gvisor"] and p["ready"] for p in d["pods"])
    assert d["unknown_handlers"] == [] and d["gvisor_pods_without_sandbox"] == []

    # The text report says the same.
    r = run_doctor(exporter_bin, *args)
    assert r.returncode == 0, r.stdout
    lines = r.stdout.splitlines()
    assert all(line.startswith("[ OK ]") for line in lines[:-1]), r.stdout
    assert lines[-1] == f"summary: {len(checks)} OK, 0 WARN, 0 FAIL"
    assert "2 live sandbox(es)" in line_of(r.stdout, "sandboxes")


def test_generated_config_without_annotations_warns(exporter_bin, containerd, tmp):
    # containerd_env.py's own config passes no pod annotations to runsc.
    path = os.path.join(tmp, "no-annotations.toml")
    with open(path, "w") as f:
        f.write(containerd.original_config)
    r = run_doctor(exporter_bin, f"--containerd.config={path}", "--runsc.root-parent=",
                   f"--cri.endpoint={containerd.endpoint}")
    assert r.returncode == 0, r.stdout
    line = line_of(r.stdout, "handler runsc")
    assert line.startswith("[WARN]") and "gvisor-exporter.io/*" in line, r.stdout


def test_config_without_gvisor_handler_fails(exporter_bin, containerd, tmp):
    path = os.path.join(tmp, "runc-only.toml")
    with open(path, "w") as f:
        f.write('version = 2\n'
                '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
                '  runtime_type = "io.containerd.runc.v2"\n')
    code, report, checks = run_json(exporter_bin, f"--containerd.config={path}",
                                    "--runsc.root-parent=",
                                    f"--cri.endpoint={containerd.endpoint}")
    assert code == 1
    assert checks["gvisor handlers"]["status"] == "FAIL"
    assert checks["gvisor handlers"]["data"]["all_handlers"] == ["runc"]
    # The live pods use a handler this config does not define.
    assert checks["cri handlers"]["status"] == "WARN"
    assert checks["cri handlers"]["data"]["unknown_handlers"] == ["runsc"]
    r = run_doctor(exporter_bin, f"--containerd.config={path}", "--runsc.root-parent=",
                   "--cri.endpoint=")
    assert r.returncode == 1
    assert "no gVisor runtime handler" in line_of(r.stdout, "gvisor handlers")
    assert line_of(r.stdout, "gvisor handlers").startswith("[FAIL]")


def shim_config(tmp, name, runsc_config):
    """A containerd config with a runsc-shim handler whose runsc.toml holds
    `runsc_config`; its runsc root is an empty dir of ours."""
    state = os.path.join(tmp, name + "-state")
    os.makedirs(os.path.join(state, "k8s.io"), exist_ok=True)
    toml = os.path.join(tmp, name + "-runsc.toml")
    with open(toml, "w") as f:
        f.write(f'binary_name = "{RUNSC}"\nroot = "{state}"\n[runsc_config]\n{runsc_config}')
    config = os.path.join(tmp, name + "-config.toml")
    with open(config, "w") as f:
        f.write('version = 2\n'
                '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.gvisor]\n'
                '  runtime_type = "io.containerd.runsc.v1"\n'
                '  pod_annotations = ["gvisor-exporter.io/*"]\n'
                '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.gvisor.options]\n'
                f'  ConfigPath = "{toml}"\n')
    return config


def test_runsc_toml_debug_warns(exporter_bin, tmp):
    config = shim_config(tmp, "debug", '  platform = "ptrace"\n  debug = "true"\n')
    r = run_doctor(exporter_bin, f"--containerd.config={config}", "--runsc.root-parent=",
                   "--cri.endpoint=")
    line = line_of(r.stdout, "runsc.toml gvisor")
    assert line.startswith("[WARN]") and "debug is on" in line, r.stdout
    assert "platform ptrace" in line
    assert "fix: remove debug from [runsc_config]" in r.stdout
    assert r.returncode == 0, r.stdout  # WARN only (the shim binary's absence is a WARN too)

    # Unquoted, the shim cannot decode it (runsc_config is map[string]string).
    config = shim_config(tmp, "bool", '  platform = "ptrace"\n  debug = true\n')
    code, _, checks = run_json(exporter_bin, f"--containerd.config={config}",
                               "--runsc.root-parent=", "--cri.endpoint=")
    assert code == 1
    assert checks["runsc.toml gvisor"]["status"] == "FAIL"
    assert "runsc_config.debug is not a string" in checks["runsc.toml gvisor"]["detail"]


def test_missing_runsc_fails(exporter_bin, tmp):
    r = run_doctor(exporter_bin, "--runsc.path=/nonexistent", "--containerd.config=",
                   "--runsc.root-parent=", "--cri.endpoint=")
    assert r.returncode == 1
    line = line_of(r.stdout, "runsc binary")
    assert line.startswith("[FAIL]") and "/nonexistent" in line, r.stdout
    code, _, checks = run_json(exporter_bin, "--runsc.path=/nonexistent", "--containerd.config=",
                               "--runsc.root-parent=", "--cri.endpoint=")
    assert code == 1 and checks["runsc binary"]["status"] == "FAIL"
    assert "path" not in checks["runsc binary"]["data"]


def test_unreadable_root_fails(exporter_bin, tmp):
    # We run as root, which bypasses file permissions (a chmod 000 dir stays
    # listable): the roots here are unreadable for everyone instead — a
    # regular file, and a directory below a regular file (ENOTDIR).
    path = os.path.join(tmp, "not-a-dir")
    with open(path, "w") as f:
        f.write("x")
    for root in (path, os.path.join(path, "k8s.io")):
        r = run_doctor(exporter_bin, f"--runsc.root={root}", "--containerd.config=",
                       "--runsc.root-parent=", "--cri.endpoint=")
        assert r.returncode == 1, r.stdout
        line = line_of(r.stdout, "runsc roots")
        assert line.startswith("[FAIL]") and f"{root} is not a directory" in line, r.stdout


def test_no_root_warns_and_usage_error(exporter_bin, tmp):
    r = run_doctor(exporter_bin, f"--runsc.root={tmp}/absent", "--containerd.config=",
                   "--runsc.root-parent=", "--cri.endpoint=")
    assert r.returncode == 0
    assert line_of(r.stdout, "runsc roots").startswith("[WARN]")
    r = run_doctor(exporter_bin, "--output=yaml")
    assert r.returncode == 2 and "--output must be text or json" in r.stderr
