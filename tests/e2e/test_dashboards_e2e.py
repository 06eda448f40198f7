"""End-to-end: every query of the Grafana dashboards (dashboards/*.json) on a real
Prometheus (Debian's /usr/bin/prometheus, loopback, temp dir, stopped by its PID)
scraping the real exporter every second, which watches real gVisor pods.

The pods are created through Kubernetes' own interface: a private containerd
(tests/e2e/containerd_env.py, CRI plugin, RuntimeClass handler `runsc` = runsc
behind containerd's runc shim) runs them, and the exporter is pointed at that
containerd's CRI socket (--cri.endpoint) and at the runsc root its shim uses,
as a DaemonSet on a node would be. So namespace, pod and runtime_class on the
series come from CRI: runtime_class is the pod's runtime handler mapped by the
exporter's --runtime.classes (default runsc=gvisor; no Kubernetes API here), i.e.
"gvisor" — a real, non-empty RuntimeClass value.

Template variables are substituted as Grafana would: $job with the scrape job
(gvisor-exporter, the dashboards' default), $cluster with All (.*: this Prometheus has
no cluster label, so the cluster variable lists nothing), $instance, $runtimeclass,
$namespace, $pod, $sandbox, $container with the values of a running pod
(regex-escaped like Grafana's multi-value variables) and, in a second pass, every
one with the "All" value (.*); $__rate_interval = 10s, $__interval = 2s, $__range = 5m.
In both passes every variable query (label_values) must return values — the
runtimeclass one "gvisor", the job one "gvisor-exporter"; the cluster one none — and every panel target of every dashboard must return
at least one series (instant query; range query too for time-series targets).

Beside the pods, one sandbox started directly with `runsc run --detach` in a
second runsc root: CRI does not know it, so its runtime_class is "" — the "All"
value (.*) must still show it, a RuntimeClass value must not (nodes or sandboxes
without CRI keep working).

What makes every panel real:
* a CPU burner in both pods (rate panels are non-zero), which also makes failing
  syscalls (ENOENT of cat /nonexistent) and, with every exec of cat, an
  unimplemented one (rseq, ENOSYS in gVisor) for the syscall panels; the
  exporter traces every sandbox (--syscalls.all);
* a garbled state file in the second runsc root: runsc_state parse errors, so
  the "Errors by source and reason" panel has series.

Everything started here (containerd and its pods/shims/sandboxes, the direct
sandbox, exporter, Prometheus) is ended by PID through the helpers; the containerd
fixture asserts that nothing of it is left, and a containerd of a run killed
midway is swept by the next one.
"""
import glob
import json
import os
import re
import time

import pytest
import yaml

import operator_scrape
from gvisor_env import SAMPLING_ONLY_RECORDS, Exporter, Prometheus

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARDS = os.path.join(REPO, "dashboards")
RULES = os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.rules.yml")
DASHBOARD_FILES = ("gvisor-node-overview.json", "gvisor-pod.json", "gvisor-syscalls.json")

BUILTINS = {"__rate_interval": "10s", "__interval": "2s", "__range": "5m", "__range_s": "300",
            "__interval_ms": "2000", "__range_ms": "300000"}

N = os.getpid()
HANDLER = "runsc"          # containerd runtime handler of the gVisor pods
RUNTIME_CLASS = "gvisor"   # what the exporter maps it to (its default --runtime.classes=runsc=gvisor)
# pod -> (namespace, app containers); the burner's container is the one the
# single-pod pass selects.
BURNER, APP = "burner", "app"
PODS = {BURNER: ("shop", ["burn"]), APP: ("data", ["web"])}
BURNER_CTR = "burn"
DIRECT = f"gvdd{N}"        # sandbox id of the directly started (CRI-unknown) sandbox
# CPU inside the sandbox, plus failing syscalls (ENOENT) for the syscall panels.
BURN = ("while true; do i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; "
        "cat /nonexistent 2>/dev/null; sleep 1; done")


def dashboards(names):
    out = {}
    for name in names:
        with open(os.path.join(DASHBOARDS, name)) as f:
            out[name] = json.load(f)
    return out


def panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", []) or []


def targets(dash):
    for p in panels(dash):
        for t in p.get("targets", []) or []:
            yield p, t


def grafana_regex_escape(value):
    """What Grafana does to a multi-value variable's value inside =~"...":
    regex metacharacters escaped, the backslash doubled for the PromQL string."""
    return re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", value)


def substitute(expr, values):
    vals = dict(BUILTINS)
    vals.update({k: grafana_regex_escape(v) if v != ".*" else v for k, v in values.items()})

    def one(m):
        name = m.group(1) or m.group(2) or m.group(3)
        assert name in vals, f"unknown template variable ${name} in {expr!r}"
        return vals[name]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]|\$([A-Za-z_][A-Za-z0-9_]*)",
                  one, expr)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pods(containerd):
    """Two gVisor pods run by containerd with RuntimeClass handler `runsc`, each
    with one app container running the CPU burner: {pod name: pod sandbox id}."""
    out = {}
    for name, (ns, containers) in PODS.items():
        cfg = containerd.pod_config(name, ns, labels={"app": name})
        pod_id = containerd.run_pod(cfg, HANDLER)
        for ctr in containers:
            containerd.run_container(pod_id, ctr, args=["/bin/sh", "-c", BURN])
        out[name] = pod_id
    listed = {p["id"]: p for p in containerd.list_pods()}
    for name, pod_id in out.items():
        assert listed[pod_id]["runtime_handler"] == HANDLER, listed[pod_id]
        assert listed[pod_id]["state"] == "SANDBOX_READY", listed[pod_id]
    return out


@pytest.fixture(scope="module")
def direct(runsc):
    """A second runsc root (conftest's Runsc, cleaned up by PID): one idle sandbox
    started with `runsc run --detach`, unknown to CRI, and a garbled state file
    (runsc_state parse errors, so gvisor_exporter_errors_total has series; not in
    containerd's root, whose cleanup lists it with `runsc list`)."""
    runsc.run_sandbox(DIRECT, pod="direct", namespace="nocri", uid="uid-dd")
    with open(os.path.join(runsc.root, f"garbled{N}_sandbox:garbled{N}.state"), "w") as f:
        f.write('{"id": "garbled", "sandbox": {')
    return runsc


def sandbox_infos(scrape):
    return {l["sandbox_id"]: l for l, _ in scrape.select("gvisor_sandbox_info")}


@pytest.fixture(scope="module")
def exporter(containerd, pods, direct, exporter_bin, workdir):
    """Started like on a node: the runsc root of containerd's runsc shim, containerd's
    CRI socket; every sandbox traced. Ready once CRI labelled every pod."""
    e = Exporter(exporter_bin, workdir, [
        f"--runsc.root={containerd.runsc_root}", f"--runsc.root={direct.root}",
        "--runsc.root-parent=", "--poll.interval=1s",
        f"--cri.endpoint={containerd.endpoint}",
        f"--policy.sandboxed-namespaces={','.join(sorted({ns for ns, _ in PODS.values()}))}",
        "--syscalls.all", f"--syscalls.record-file={workdir}/dash-trace-sessions-{N}.json"])
    try:
        deadline = time.time() + 60
        while True:
            s = e.wait_polls(n=1)
            info = sandbox_infos(s)
            if all(info.get(pid, {}).get("runtime_class") for pid in pods.values()):
                break
            assert time.time() < deadline, f"pods not labelled from CRI: {info}\n{e.logs()}"
        yield e
    finally:
        e.stop()


@pytest.fixture(scope="module", params=sorted(operator_scrape.MONITORS))
def prometheus(request, exporter):
    """Scrapes every second with the job prometheus-operator generates from the
    shipped ServiceMonitor or PodMonitor (tests/e2e/operator_scrape.py: its target
    labels namespace/pod/container/service/endpoint, job from jobLabel, the
    manifest's relabelings and honorLabels); ready once it holds >= 12 s of scrapes
    (a 10 s rate window) and both pods burn CPU and make syscalls."""
    t0 = time.time()
    job, _ = operator_scrape.monitor_job(request.param, f"127.0.0.1:{exporter.port}")
    p = Prometheus(None, [RULES], scrape_configs=[job])
    p.monitor = request.param
    try:
        p.wait_ready()
        deadline = time.time() + 60
        while True:
            n = p.query('count_over_time(gvisor_exporter_polls_total[1m])')
            cpu = p.query("rate(gvisor_sandbox_cgroup_cpu_usage_seconds_total[10s]) > 0")
            calls = p.query("sum by (sandbox_id) (rate(gvisor_container_syscalls_total[10s])) > 0")
            if n and n[0][1] >= 12 and len(cpu) >= len(PODS) and len(calls) >= len(PODS):
                break
            assert time.time() < deadline, \
                f"scrapes={n} cpu={cpu} syscalls={calls}\n{p.logs()}\n{exporter.logs()}"
            time.sleep(0.5)
        print(f"prometheus ({request.param} job) ready with data after {time.time() - t0:.1f}s")
        yield p
    finally:
        p.stop()


# The test's Prometheus adds no cluster label: the dashboards' cluster variable then
# lists nothing, leaving only All (.*), which must match the series without one. Their
# job variable defaults to the exporter's job, which the scrape job sets from the
# monitor's jobLabel.
EMPTY_VARIABLES = {"cluster"}   # variable queries that list nothing on this Prometheus


def scrape_target(prom):
    """The labels Prometheus gave the exporter's target (its `up` series)."""
    (labels, _), = prom.query("up")
    return labels


def variable_values(prom, exporter, pod_id, container=None):
    """Grafana variable values of one running pod, read from the exporter itself
    (instance and job: what the scrape job's relabelings made of the target)."""
    (labels, _), = exporter.scrape().select("gvisor_sandbox_info", sandbox_id=pod_id)
    target = scrape_target(prom)
    vals = {"cluster": ".*", "job": target["job"],
            "instance": target["instance"], "namespace": labels["namespace"],
            "pod": labels["pod"], "sandbox": pod_id, "datasource": "prometheus",
            "runtimeclass": labels["runtime_class"]}
    assert vals["runtimeclass"] == RUNTIME_CLASS, labels
    if container is not None:
        vals["container"] = container
    return vals


def all_values():
    return {k: ".*" for k in ("cluster", "job", "instance", "namespace", "pod", "sandbox", "container",
                              "runtimeclass")}


def run_target(prom, expr, range_query):
    """(instant series, range series or None); asserts Prometheus accepted the query."""
    inst = prom.get("/api/v1/query", query=expr)["result"]
    rng = None
    if range_query:
        now = time.time()
        rng = prom.get("/api/v1/query_range", query=expr, start=f"{now - 30:.3f}", end=f"{now:.3f}",
                       step="2")["result"]
    return inst, rng


def label_values(prom, query):
    """Grafana's label_values(selector, label) through the Prometheus series API."""
    m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", query, re.S)
    assert m, f"unsupported variable query {query!r}"
    data = prom.get("/api/v1/series", **{"match[]": m.group(1), "start": f"{time.time() - 300:.3f}"})
    return sorted({s.get(m.group(2), "") for s in data} - {""})


def variable_queries(dash):
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]
            yield v["name"], q["query"] if isinstance(q, dict) else q


# Metrics (and recording rules) about workloads: their namespace/pod labels must be
# the workload's, never the exporter pod's that the scrape job's target carries.
WORKLOAD_SERIES = re.compile(r"\b(gvisor_(sandbox|container)_[a-z_]+|gvisor_pod_(info|labels)|"
                             r"gvisor_policy_unsandboxed_pod\b|namespace(_pod)?:[a-z_:0-9]+)")


def workloads(exporter):
    """{(namespace, pod)} of every sandbox, as the exporter itself labels them."""
    return {(l["namespace"], l["pod"]) for l in sandbox_infos(exporter.scrape()).values()}


def label_problems(series, expr, pods):
    """What is wrong with the labels of a query's result: a label the scrape renamed
    (exported_*), or a workload series whose namespace/pod is not a workload's."""
    namespaces, names = {ns for ns, _ in pods}, {pod for _, pod in pods}
    out = []
    for s in series:
        m = s["metric"]
        renamed = sorted(k for k in m if k.startswith("exported_"))
        if renamed:
            out.append(f"labels renamed by the scrape {renamed}: {m}")
        if WORKLOAD_SERIES.search(expr):
            if "namespace" in m and m["namespace"] not in namespaces:
                out.append(f"namespace {m['namespace']!r} is no workload's {sorted(namespaces)}: {m}")
            if "pod" in m and m["pod"] not in names:
                out.append(f"pod {m['pod']!r} is no workload's {sorted(names)}: {m}")
    return out


# ----------------------------------------------------------------------------- tests
def test_runtime_class_comes_from_cri(containerd, pods, exporter):
    """The exporter's namespace/pod/runtime_class labels are containerd's pods, the
    RuntimeClass being the CRI runtime handler mapped by --runtime.classes."""
    listed = {p["id"]: p for p in containerd.list_pods()}
    info = sandbox_infos(exporter.wait_polls(n=1))
    assert set(info) == set(pods.values()) | {DIRECT}
    assert (info[DIRECT]["pod"], info[DIRECT]["runtime_handler"], info[DIRECT]["runtime_class"]) == \
        ("direct", "", "")
    for name, pod_id in pods.items():
        cri, got = listed[pod_id], info[pod_id]
        assert (got["namespace"], got["pod"], got["pod_uid"]) == (
            cri["metadata"]["namespace"], cri["metadata"]["name"], cri["metadata"]["uid"])
        assert (got["runtime_handler"], got["runtime_class"]) == (cri["runtime_handler"], RUNTIME_CLASS)
        assert got["root"] == containerd.runsc_root


@pytest.mark.parametrize("name", DASHBOARD_FILES)
def test_every_panel_returns_data(name, prometheus, exporter, pods):
    dash = dashboards([name])[name]
    one = variable_values(prometheus, exporter, pods[BURNER], container=BURNER_CTR)
    failures, checked = [], 0
    pods_now = workloads(exporter)
    for vals_name, vals in (("one pod", one), ("All", all_values())):
        for var, q in variable_queries(dash):
            got = label_values(prometheus, substitute(q, vals))
            if bool(got) == (var in EMPTY_VARIABLES):
                failures.append(f"[{vals_name}] variable {var}: {q!r} returned {got or 'no values'}")
            if var == "job" and got != ["gvisor-exporter"]:
                failures.append(f"[{vals_name}] variable job: {got}, wanted ['gvisor-exporter'] (the monitors' jobLabel)")
            if var == "runtimeclass" and got != [RUNTIME_CLASS]:
                failures.append(f"[{vals_name}] variable runtimeclass: {got}, wanted [{RUNTIME_CLASS!r}]")
        for p, t in targets(dash):
            expr = substitute(t["expr"], vals)
            inst, rng = run_target(prometheus, expr, range_query=not t.get("instant"))
            checked += 1
            where = f"[{vals_name}] panel {p['id']} {p['title']!r} {t['refId']}"
            if not inst:
                failures.append(f"{where}: instant query returned no series: {expr}")
            if rng is not None and not rng:
                failures.append(f"{where}: range query returned no series: {expr}")
            failures += [f"{where}: {p}" for p in label_problems(inst, expr, pods_now)]
    print(f"{name}: {checked} target queries checked ({prometheus.monitor} job, "
          f"runtimeclass={one['runtimeclass']!r})")
    if name == "gvisor-syscalls.json":  # what makes the unimplemented-syscall panels real
        print("unimplemented syscalls of the burner:", sorted(
            {l["syscall"] for l, _ in exporter.scrape().select(
                "gvisor_container_syscalls_unimplemented_total", sandbox_id=pods[BURNER],
                container=BURNER_CTR)}))
    assert not failures, "\n".join(failures) + "\n" + exporter.logs()[-1500:]


def test_variables_select_only_that_pod(prometheus, exporter, pods):
    """Substitution is real: the pod view with the burner's values shows the burner
    only; the RuntimeClass value shows the CRI pods only, "All" the CRI-unknown
    sandbox too, and a RuntimeClass no pod has empties the per-pod panels."""
    dash = dashboards(["gvisor-pod.json"])["gvisor-pod.json"]
    (p, t), = [(p, t) for p, t in targets(dash) if p["title"] == "In-sandbox vs host memory"
               and "memory_total_bytes" in t["expr"]]
    vals = variable_values(prometheus, exporter, pods[BURNER])
    res = prometheus.get("/api/v1/query", query=substitute(t["expr"], vals))["result"]
    assert [r["metric"]["pod"] for r in res] == [BURNER], res
    for rc, want in ((".*", sorted([*PODS, "direct"])), (RUNTIME_CLASS, sorted(PODS)),
                     ("no-such-class", [])):
        res = prometheus.get("/api/v1/query",
                             query=substitute(t["expr"], {**all_values(), "runtimeclass": rc}))["result"]
        assert sorted(r["metric"]["pod"] for r in res) == want, (rc, res)
    vals = variable_values(prometheus, exporter, pods[APP])
    (p, t), = [(p, t) for p, t in targets(dash) if p["title"] == "Host processes by role"]
    res = prometheus.get("/api/v1/query", query=substitute(t["expr"], vals))["result"]
    roles = {r["metric"]["role"]: float(r["value"][1]) for r in res}
    assert roles.get("sentry") == 1 and roles.get("gofer") == 2, roles   # pause + web containers


def test_dashboard_files_are_the_ones_checked():
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DASHBOARDS, "*.json")))
    assert names == sorted(DASHBOARD_FILES), names


def test_scrape_target_has_the_operators_labels(prometheus):
    """The job really is prometheus-operator's: the target carries the exporter
    pod's namespace/pod/container, endpoint (and service), job from jobLabel and
    instance = node from the manifest's relabelings."""
    got = scrape_target(prometheus)
    want = {"job": "gvisor-exporter", "instance": operator_scrape.NODE, "node": operator_scrape.NODE,
            "namespace": "gvisor-exporter", "pod": operator_scrape.EXPORTER_POD,
            "container": "gvisor-exporter", "endpoint": "metrics"}
    if prometheus.monitor == "ServiceMonitor":
        want["service"] = "gvisor-exporter"
    assert {k: v for k, v in got.items() if k != "__name__"} == want


def test_workload_series_keep_the_workloads_labels(prometheus, exporter):
    """Every series of a sandbox keeps the namespace/pod/container the exporter gave
    it (not the exporter pod's), nothing is renamed to exported_*, and the
    exporter's own series carry the exporter pod's labels."""
    infos = sandbox_infos(exporter.scrape())
    series = prometheus.get("/api/v1/series", **{"match[]": '{__name__=~"gvisor_.+"}',
                                                 "start": f"{time.time() - 5:.3f}"})
    problems, checked = [], 0
    for m in series:
        renamed = sorted(k for k in m if k.startswith("exported_"))
        if renamed:
            problems.append(f"renamed {renamed}: {m}")
        sid = m.get("sandbox_id")
        if sid:
            checked += 1
            want = (infos[sid]["namespace"], infos[sid]["pod"])
            if (m.get("namespace", ""), m.get("pod", "")) != want:
                problems.append(f"{m['__name__']} of {sid}: namespace/pod "
                                f"{(m.get('namespace'), m.get('pod'))}, wanted {want}")
    assert checked > 100, f"only {checked} sandbox series"
    containers = {(l["sandbox_id"], l["container"]) for l, _ in exporter.scrape().select("gvisor_container_info")}
    got = {(m["sandbox_id"], m.get("container", "")) for m in series if m["__name__"] == "gvisor_container_info"}
    if got != containers:
        problems.append(f"containers {sorted(got)}, the exporter's {sorted(containers)}")
    (own, _), = prometheus.query("gvisor_exporter_build_info")
    assert (own["namespace"], own["pod"]) == ("gvisor-exporter", operator_scrape.EXPORTER_POD), own
    assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} problems)"


def test_every_recording_rule_returns_workload_series(prometheus, exporter):
    """Each recording rule of deploy/prometheus has series, and those with a
    namespace/pod label name the workloads."""
    with open(RULES) as f:
        records = [r["record"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "record" in r]
    records = [r for r in records if r not in SAMPLING_ONLY_RECORDS]
    pods_now = workloads(exporter)
    failures = []
    for record in records:
        res = prometheus.get("/api/v1/query", query=record)["result"]
        if not res:
            failures.append(f"{record}: no series")
        failures += [f"{record}: {p}" for p in label_problems(res, record, pods_now)]
        if record.startswith("namespace_pod:") and res and \
                {(r["metric"].get("namespace"), r["metric"].get("pod")) for r in res} - pods_now:
            failures.append(f"{record}: namespace/pod not the workloads' {pods_now}: {res}")
    assert not failures, "\n".join(failures)
