"""End-to-end through Kubernetes' own interface: pods created by a real
containerd (CRI), two runtime handlers (runc and gVisor's runsc), and the
built exporter watching the runsc root containerd's shim uses.

Ground truth is what containerd says over CRI, read with our own client
(gve-cri-tool, built next to the exporter): pod ids, metadata, container ids
and names, and the sentry pid from PodSandboxStatus' verbose info.
"""
import os
import time

import pytest

from containerd_env import BUSYBOX_IMAGE, installed

_MISSING = installed()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

NS = "sandbox"  # Kubernetes namespace of every test pod


@pytest.fixture(scope="module")
def pods(containerd):
    """Two gVisor pods (one with a sidecar) and a runc pod, all in NS."""
    c = containerd
    out = {}
    for name, handler, containers in (("gv-a", "runsc", ["app"]),
                                      ("gv-b", "runsc", ["app", "sidecar"]),
                                      ("rc-a", "runc", ["app"])):
        cfg = c.pod_config(name, NS, labels={"app": name},
                           annotations={"example.com/owner": "gve-e2e"})
        pod_id = c.run_pod(cfg, handler)
        ctrs = {n: c.run_container(pod_id, n) for n in containers}
        out[name] = {"id": pod_id, "cfg": cfg, "handler": handler, "containers": ctrs}
    return out


@pytest.fixture
def exporter(containerd, pods, start_exporter):
    return start_exporter(f"--runsc.root={containerd.runsc_root}", "--runsc.root-parent=",
                          "--poll.interval=500ms", f"--cri.endpoint={containerd.endpoint}",
                          "--cri.timeout=1s", f"--policy.sandboxed-namespaces={NS},untrusted",
                          "--cri.pod-labels=app,example.com/none")


# Families from the CRI mapping: the only ones a runc pod may appear in.
CRI_FAMILIES = ("gvisor_pod_info", "gvisor_pod_labels", "gvisor_policy_unsandboxed_pod")


def gvisor_pods(pods):
    return {n: p for n, p in pods.items() if p["handler"] == "runsc"}


def test_cri_reports_both_handlers(containerd, pods):
    listed = {p["id"]: p for p in containerd.list_pods()}
    assert set(listed) == {p["id"] for p in pods.values()}
    for name, p in pods.items():
        got = listed[p["id"]]
        assert got["state"] == "SANDBOX_READY"
        assert got["runtime_handler"] == p["handler"]
        assert got["metadata"] == {**p["cfg"]["metadata"]}
        assert got["labels"]["app"] == name
        assert got["annotations"]["example.com/owner"] == "gve-e2e"
        status = containerd.inspect_pod(p["id"])
        assert status["status"]["runtime_handler"] == p["handler"]
        assert status["info"]["info"]["runtimeHandler"] == p["handler"]
        assert status["info"]["info"]["pid"] > 0
    ctrs = containerd.list_containers()
    assert {(c["pod_sandbox_id"], c["metadata"]["name"], c["id"]) for c in ctrs} == {
        (p["id"], n, cid) for p in pods.values() for n, cid in p["containers"].items()}
    assert all(c["state"] == "CONTAINER_RUNNING" for c in ctrs)
    # Only the gVisor pods live in the runsc root (one runsc container per
    # CRI container, the pause container's id being the pod id).
    in_root = {name.split("_sandbox:")[0] for name in os.listdir(containerd.runsc_root)
               if name.endswith(".state")}
    assert in_root == {i for p in gvisor_pods(pods).values()
                       for i in [p["id"], *p["containers"].values()]}


def test_exporter_matches_cri(containerd, pods, exporter):
    s = exporter.wait_polls()
    info = {l["sandbox_id"]: l for l, _ in s.select("gvisor_sandbox_info")}
    assert set(info) == {p["id"] for p in gvisor_pods(pods).values()}
    for name, p in gvisor_pods(pods).items():
        md = p["cfg"]["metadata"]
        got = info[p["id"]]
        assert (got["namespace"], got["pod"], got["pod_uid"]) == (md["namespace"], md["name"],
                                                                  md["uid"])
        assert got["root"] == containerd.runsc_root
        # containerd's verbose status names the sentry as the pod's pid.
        assert got["sentry_pid"] == str(containerd.inspect_pod(p["id"])["info"]["info"]["pid"])

    cri_ctrs = {c["id"]: c for c in containerd.list_containers()}
    series = {(l["sandbox_id"], l["container_id"]): l for l, _ in s.select("gvisor_container_info")}
    want = {(p["id"], p["id"]) for p in gvisor_pods(pods).values()} | {
        (p["id"], cid) for p in gvisor_pods(pods).values() for cid in p["containers"].values()}
    assert set(series) == want
    for (sid, cid), l in series.items():
        if cid == sid:  # the pause container
            assert l["container"] == ""
            continue
        assert l["container"] == cri_ctrs[cid]["metadata"]["name"]
        assert l["image"] == cri_ctrs[cid]["image"]["image"] == BUSYBOX_IMAGE
        assert l["status"] == "running"
        assert (l["namespace"], l["pod"]) == (NS, pods_by_id(pods)[sid])

    # The runc pod is not sandboxed: no gVisor series of any kind.
    rc = pods["rc-a"]
    assert not [n for n, l, _ in s.samples if n not in CRI_FAMILIES and (
                l.get("sandbox_id") == rc["id"] or l.get("pod") == "rc-a"
                or l.get("container_id") in rc["containers"].values())]

    for p in gvisor_pods(pods).values():
        sid = p["id"]
        assert s.value("gvisor_sandbox_memory_total_bytes", sandbox_id=sid) > 0
        assert s.value("gvisor_sandbox_host_processes", sandbox_id=sid, role="sentry") == 1
        # One gofer per container, the pause container's included.
        assert s.value("gvisor_sandbox_host_processes", sandbox_id=sid, role="gofer") == \
            1 + len(p["containers"])
        assert s.value("gvisor_sandbox_host_memory_pss_bytes", sandbox_id=sid, role="sentry") > 0
        assert s.value("gvisor_sandbox_cgroup_memory_usage_bytes", sandbox_id=sid) > 0
        assert s.select("gvisor_sandbox_memory_overhead_bytes", sandbox_id=sid)


def test_exporter_maps_every_pod_through_cri(containerd, pods, exporter):
    s = exporter.wait_for(lambda s: len(s.select("gvisor_pod_info")) == len(pods),
                 "every pod mapped")
    assert s.value("gvisor_cri_up") == 1
    assert s.value("gvisor_exporter_collector_success", collector="cri") == 1
    v = containerd.version()
    assert s.select("gvisor_cri_info") == [({"version": v["version"],
                                             "runtime_name": v["runtime_name"],
                                             "runtime_version": v["runtime_version"]}, 1)]
    assert v["runtime_name"] == "containerd"

    # Every label of gvisor_pod_info equals what containerd reports over CRI.
    listed = {p["id"]: p for p in containerd.list_pods()}
    info = {l["pod_sandbox_id"]: l for l, _ in s.select("gvisor_pod_info")}
    assert set(info) == set(listed) == {p["id"] for p in pods.values()}
    for name, p in pods.items():
        cri = listed[p["id"]]
        gvisor = p["handler"] == "runsc"
        assert info[p["id"]] == {
            "namespace": cri["metadata"]["namespace"], "pod": cri["metadata"]["name"],
            "uid": cri["metadata"]["uid"], "pod_sandbox_id": cri["id"],
            "runtime_handler": cri["runtime_handler"],
            "runtime_class": "gvisor" if gvisor else "",
            "sandboxed": "true" if gvisor else "false", "state": "ready"}, name
        assert (cri["metadata"]["namespace"], cri["metadata"]["name"]) == (NS, name)
        assert cri["runtime_handler"] == p["handler"]
        # The allowlisted labels: app is set, example.com/none is not.
        assert s.select("gvisor_pod_labels", pod=name) == [
            ({"namespace": NS, "pod": name, "uid": cri["metadata"]["uid"],
              "label_app": cri["labels"]["app"], "label_example_com_none": ""}, 1)]

    # The RuntimeClass on the per-sandbox series, for the gVisor pods only.
    sb = {l["sandbox_id"]: l for l, _ in s.select("gvisor_sandbox_info")}
    assert set(sb) == {p["id"] for p in gvisor_pods(pods).values()}
    for l in sb.values():
        assert (l["runtime_handler"], l["runtime_class"]) == ("runsc", "gvisor")

    assert s.value("gvisor_pods", runtime_handler="runsc", sandboxed="true") == 2
    assert s.value("gvisor_pods", runtime_handler="runc", sandboxed="false") == 1
    assert len(s.select("gvisor_pods")) == 2

    # Policy: NS must be sandboxed; only the runc pod violates it.
    rc = listed[pods["rc-a"]["id"]]
    assert s.select("gvisor_policy_unsandboxed_pod") == [
        ({"namespace": NS, "pod": "rc-a", "uid": rc["metadata"]["uid"],
          "runtime_handler": "runc"}, 1)]
    assert s.value("gvisor_policy_unsandboxed_pods", namespace=NS) == 1
    assert s.value("gvisor_policy_unsandboxed_pods", namespace="untrusted") == 0
    assert not s.select("gvisor_exporter_errors_total", source="cri")

    # Cost: one ListPodSandbox per poll (verbose status only for new pods).
    costs = [exporter.wait_polls(n=1).value("gvisor_exporter_collector_duration_seconds",
                                            collector="cri") for _ in range(10)]
    per_pod_ms = sorted(costs)[len(costs) // 2] / len(pods) * 1000
    print(f"\nCRI poll cost: median {sorted(costs)[len(costs) // 2] * 1000:.3f} ms per poll, "
          f"{per_pod_ms:.3f} ms per pod ({len(pods)} pods)")


def pods_by_id(pods):
    return {p["id"]: n for n, p in pods.items()}


def test_cri_tool_reports_failures(containerd):
    r = containerd.cri("inspectp", "0" * 64, check=False)
    assert r.returncode == 1 and "PodSandboxStatus: NotFound" in r.stderr
    bad = containerd._write_config("pod", {"metadata": {"name": "x"}, "no_such_field": 1})
    r = containerd.cri("runp", bad, check=False)
    assert r.returncode == 2 and "no_such_field" in r.stderr
    r = containerd.cri("runp", containerd._write_config("pod", containerd.pod_config("h")),
                       "--runtime-handler", "no-such-handler", check=False)
    assert r.returncode == 1 and "no-such-handler" in r.stderr


def test_pods_survive_a_containerd_restart(containerd, pods, exporter):
    before = exporter.wait_polls()
    sentries = {l["sandbox_id"]: l["sentry_pid"] for l, _ in before.select("gvisor_sandbox_info")}
    for kill in (False, True):  # an orderly restart, then a crash
        containerd.restart(kill=kill)  # shims and sandboxes stay up meanwhile
        listed = {p["id"]: p for p in containerd.list_pods()}
        assert {i: p["state"] for i, p in listed.items()} == {
            p["id"]: "SANDBOX_READY" for p in pods.values()}
        assert {c["id"]: c["state"] for c in containerd.list_containers()} == {
            cid: "CONTAINER_RUNNING" for p in pods.values() for cid in p["containers"].values()}
    after = exporter.wait_polls()
    assert {l["sandbox_id"]: l["sentry_pid"] for l, _ in after.select("gvisor_sandbox_info")} == \
        sentries


def test_cri_down_keeps_sandbox_series_and_recovers(containerd, pods, exporter):
    exporter.wait_for(lambda s: len(s.select("gvisor_pod_info")) == len(pods), "pods mapped")
    containerd.kill_daemon()  # a crash: shims and sandboxes keep running
    try:
        s = exporter.wait_for(lambda s: s.value("gvisor_cri_up") == 0, "CRI reported down")
        # Pods and policy are not served from memory...
        for name in CRI_FAMILIES + ("gvisor_pods", "gvisor_cri_info",
                                    "gvisor_policy_unsandboxed_pods"):
            assert not s.select(name), name
        assert s.value("gvisor_exporter_collector_success", collector="cri") == 0
        assert s.sum("gvisor_exporter_errors_total", source="cri") >= 1
        # ...while the runsc-derived series keep flowing, labelled from the
        # state files' annotations, without a RuntimeClass.
        sb = {l["sandbox_id"]: l for l, _ in s.select("gvisor_sandbox_info")}
        assert set(sb) == {p["id"] for p in gvisor_pods(pods).values()}
        for name, p in gvisor_pods(pods).items():
            l = sb[p["id"]]
            assert (l["namespace"], l["pod"], l["pod_uid"]) == (
                NS, name, p["cfg"]["metadata"]["uid"])
            assert (l["runtime_handler"], l["runtime_class"]) == ("", "")
            assert s.value("gvisor_sandbox_memory_total_bytes", sandbox_id=p["id"]) > 0
    finally:
        containerd.start_daemon()
    s = exporter.wait_for(lambda s: s.select("gvisor_cri_up") == [({}, 1)] and
                 len(s.select("gvisor_pod_info")) == len(pods), "CRI mapping back")
    assert {l["runtime_class"] for l, _ in s.select("gvisor_sandbox_info")} == {"gvisor"}
    assert s.value("gvisor_policy_unsandboxed_pods", namespace=NS) == 1


def test_removed_pod_disappears_within_a_few_polls(containerd, pods, exporter):
    gone, kept = pods["gv-b"], pods["gv-a"]
    assert exporter.wait_polls().select("gvisor_sandbox_info", sandbox_id=gone["id"])
    containerd.remove_pod(gone["id"])
    assert gone["id"] not in {p["id"] for p in containerd.list_pods()}
    deadline = time.time() + 10  # 20 polls at 500ms; it should take one or two
    while True:
        s = exporter.wait_polls(n=1)
        if not [1 for _, l, _ in s.samples if gone["id"] in (l.get("sandbox_id"),
                                                              l.get("pod_sandbox_id"))]:
            break
        assert time.time() < deadline, "series of the removed pod are still exported"
    assert not s.select("gvisor_container_info", pod="gv-b")
    assert not s.select("gvisor_pod_info", pod="gv-b")
    assert not s.select("gvisor_pod_labels", pod="gv-b")
    assert s.value("gvisor_pods", runtime_handler="runsc", sandboxed="true") == 1
    assert s.select("gvisor_sandbox_info", sandbox_id=kept["id"])
    assert not os.path.exists(os.path.join(containerd.runsc_root, gone["id"] + "_sandbox:" +
                                           gone["id"] + ".state"))


def test_stopped_and_removed_runc_pod_leaves_the_policy_view(containerd, pods, exporter):
    rc = pods["rc-a"]
    s = exporter.wait_for(lambda s: s.select("gvisor_policy_unsandboxed_pod", pod="rc-a"),
                 "violation reported")
    assert s.value("gvisor_policy_unsandboxed_pods", namespace=NS) == 1
    containerd.stop_pod(rc["id"])  # NOTREADY: nothing runs unsandboxed any more
    s = exporter.wait_for(lambda s: s.select("gvisor_pod_info", pod="rc-a", state="notready"),
                 "stopped pod seen as notready")
    assert not s.select("gvisor_policy_unsandboxed_pod")
    assert s.value("gvisor_policy_unsandboxed_pods", namespace=NS) == 0
    containerd.remove_pod(rc["id"])
    s = exporter.wait_for(lambda s: not s.select("gvisor_pod_info", pod="rc-a"),
                 "removed pod gone")
    assert not [1 for _, l, _ in s.samples if l.get("pod") == "rc-a"]
    assert s.value("gvisor_policy_unsandboxed_pods", namespace=NS) == 0
