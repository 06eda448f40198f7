#!/usr/bin/python3
"""Checks deploy/kubernetes: renders, schema-valid, consistent, and the examples run.

1. `kubectl kustomize` renders deploy/kubernetes, .../podmonitor, .../exporter,
   .../examples, .../dashboards and .../tls with every kubectl given (default: `kubectl` on PATH, plus those in
   $GVE_EXTRA_KUBECTL, colon-separated, e.g. Debian 12's kubernetes-client 1.20 with
   kustomize v2.0.3), and all of them render the same objects.
2. Every rendered object validates against the official schemas, offline
   (validate-k8s.mjs: kubernetes-models 5.1.0 = Kubernetes 1.34 OpenAPI,
   @kubernetes-models/prometheus-operator 6.0.0 = the prometheus-operator CRDs,
   @kubernetes-models/kyverno 2.0.0 = Kyverno's API types, for the ClusterPolicies;
   JSON schema + strict unknown-field check); an object of a kind without a schema
   fails. Needs `npm ci --prefix tests/deploy`. Self-test: broken copies of the
   Kyverno policies (an unknown rule field, a non-string validationFailureAction, an
   unknown precondition operator) must each be rejected.
3. Consistency: the DaemonSet's privileges are exactly the documented ones; its flags
   are flags of the exporter (`gvisor-exporter --help`, when a binary is found); its
   runsc root is the shims' root in deploy/containerd; Service, ServiceMonitor and
   PodMonitor select its pods on its port, with job label "gvisor-exporter" (what the
   alerts expect); the rendered PrometheusRule is deploy/prometheus's; namespaced
   objects sit in gvisor-exporter; RBAC is read-only; the RuntimeClasses, the
   Kyverno policies (what the schema cannot see: one action per rule, Pods in the
   sandboxed namespaces, Enforce, the pattern's matches, the defaults they inject =
   RuntimeClass gvisor), the example Deployment and the benchmark Jobs agree.
   DaemonSet scheduling and exposure: a priorityClassName (a system class, or a
   PriorityClass rendered with it, 0 < value <= 1e9, not globalDefault); tolerations
   that match our taint and arbitrary NoSchedule and NoExecute taints (Kubernetes'
   matching rules); --web.listen-address=$(POD_IP):9787 with
   POD_IP from the downward API status.podIP, probes without httpGet.host. RBAC: the
   ClusterRole's (group, resource, verb) set equals the Kubernetes API paths in
   exporter/sources/kube (collection = list, named = get, watch= = watch).
   Dashboards: deploy/kubernetes/dashboards has one ConfigMap per dashboards/*.json,
   labelled grafana_dashboard: "1", in gvisor-exporter, holding the file verbatim
   (drift check), under 256 KiB (client-side apply's annotation; ConfigMaps: 1 MiB).
3b. deploy/kubernetes/tls: Secret mounts hold the example web config's paths, probes and
   ServiceMonitor speak HTTPS (tlsConfig, basicAuth, honorLabels), the exporter accepts
   web-config.example.yml (failing only on the certificate that exists only in the pod).
4. The benchmark Jobs' script runs in a real gVisor sandbox (runsc, busybox) at
   SCALE=1 and prints every phase (skipped without root/runsc: say --no-run).

deploy/prometheus/kustomization.yaml (listing gvisor-exporter.prometheusrule.yaml) is
needed by deploy/kubernetes; while it is missing this check fails, but still checks
everything else on a temp copy with that file added.

Exit 0 when all hold, 1 otherwise. Run: /usr/bin/python3 tests/deploy/check_manifests.py
"""
import argparse
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
KUSTOMIZATIONS = ["deploy/kubernetes", "deploy/kubernetes/podmonitor", "deploy/kubernetes/exporter",
                  "deploy/kubernetes/examples", "deploy/kubernetes/dashboards", "deploy/kubernetes/tls"]
PROM_KUSTOMIZATION = "deploy/prometheus/kustomization.yaml"
PROM_KUSTOMIZATION_TEXT = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                           "resources:\n  - gvisor-exporter.prometheusrule.yaml\n")
NS = "gvisor-exporter"
JOB = "gvisor-exporter"
CAPS = {"SYS_PTRACE", "DAC_OVERRIDE", "NET_ADMIN", "SYS_NICE"}
RW_HOSTPATHS = {"/run/gvisor-exporter"}
GVISOR_NODE_LABEL = ("runtime.gvisor.dev/enabled", "true")
GVISOR_TAINT = "runtime.gvisor.dev/sandboxed"
SANDBOXED_NAMESPACES = {"sandbox", "untrusted"}
# DaemonSet scheduling and listen address (docs/deploy.md "Scheduling, priority, listen address, RBAC").
SYSTEM_PRIORITY_CLASSES = {"system-node-critical", "system-cluster-critical"}
MAX_USER_PRIORITY = 1000000000          # higher values are reserved for the system classes
# The node's primary IP (IPv4: Debian's civetweb has no IPv6 support, see docs/deploy.md).
LISTEN_ADDRESSES = {"$(POD_IP):9787"}
# Taints the exporter must tolerate on gVisor nodes: ours, and anyone else's of either effect.
MUST_TOLERATE = [{"key": GVISOR_TAINT, "value": "true", "effect": "NoSchedule"},
                 {"key": "example.com/dedicated", "value": "gpu", "effect": "NoSchedule"},
                 {"key": "example.com/maintenance", "value": "", "effect": "NoExecute"}]
KUBE_SOURCES = os.path.join(REPO, "exporter", "sources", "kube")
# Dashboard ConfigMaps (generated by dashboards/make-dashboards.py).
DASHBOARDS_DIR = os.path.join(REPO, "dashboards")
GRAFANA_SIDECAR_LABEL = ("grafana_dashboard", "1")
# ConfigMap data is limited to 1 MiB; `kubectl apply` (client-side) also copies the object into
# the last-applied-configuration annotation, and all annotations together are limited to 256 KiB.
CONFIGMAP_MAX = 1 << 20
ANNOTATIONS_MAX = 256 << 10

errors = []


def ok(msg):
    print(f"ok   {msg}")


def fail(msg):
    errors.append(msg)
    print(f"FAIL {msg}")


def kubectls(extra):
    out = []
    for k in [shutil.which("kubectl") or "", *os.environ.get("GVE_EXTRA_KUBECTL", "").split(":"), *extra]:
        if k and os.path.exists(k) and os.path.realpath(k) not in [os.path.realpath(x) for x in out]:
            out.append(k)
    return out


def kubectl_version(k):
    r = subprocess.run([k, "version", "--client"], capture_output=True, text=True)
    line = (r.stdout or r.stderr).splitlines()[0] if (r.stdout or r.stderr) else "?"
    m = re.search(r'GitVersion:"([^"]+)"', line) or re.search(r"Client Version: (\S+)", line)
    return m.group(1) if m else line


def render(k, path):
    r = subprocess.run([k, "kustomize", path], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip()[-1500:])
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def key(o):
    return (o.get("apiVersion"), o.get("kind"), o.get("metadata", {}).get("namespace", ""),
            o.get("metadata", {}).get("name"))


# ----------------------------------------------------------------------------- 1 render
def render_all(root, ks):
    rendered = {}
    for rel in KUSTOMIZATIONS:
        per = {}
        for k in ks:
            try:
                per[k] = render(k, os.path.join(root, rel))
            except RuntimeError as e:
                fail(f"{kubectl_version(k)} kustomize {rel}: {e}")
        if not per:
            continue
        first = next(iter(per.values()))
        same = all(sorted(map(json.dumps, v)) == sorted(map(json.dumps, first)) for v in per.values())
        if not same:
            diffs = [kubectl_version(k) for k, v in per.items()
                     if sorted(map(json.dumps, v)) != sorted(map(json.dumps, first))]
            fail(f"{rel}: kubectls render different objects ({diffs} vs {kubectl_version(next(iter(per)))})")
        kinds = sorted(o["kind"] for o in first)
        ok(f"{rel}: renders with {', '.join(kubectl_version(k) for k in per)}: {len(first)} objects "
           f"({', '.join(kinds)})")
        rendered[rel] = first
    return rendered


# ----------------------------------------------------------------------------- 2 schemas
def run_validator(items, node_modules):
    """Runs validate-k8s.mjs on [{"source", "object"}]: (returncode, stdout lines, stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="gve-objects-", delete=False) as f:
        json.dump(items, f)
    try:
        r = subprocess.run(["node", os.path.join(HERE, "validate-k8s.mjs"), f.name], capture_output=True,
                           text=True, timeout=300, env=dict(os.environ, GVE_DEPLOY_NODE_MODULES=node_modules))
    finally:
        os.unlink(f.name)
    return r.returncode, r.stdout.splitlines(), r.stderr


def kyverno_mutants(policies):
    """Broken copies of the Kyverno policies, each of which the schema check must reject."""
    out = []

    def mutant(what, policy, change):
        o = json.loads(json.dumps(policy))
        change(o)
        o["metadata"]["name"] = f"selftest-{len(out)}"
        out.append((what, {"source": f"self-test: {what}", "object": o}))
    for p in policies:
        mutant(f"{p['metadata']['name']}: unknown field spec.rules[0].matches", p,
               lambda o: o["spec"]["rules"][0].__setitem__("matches", o["spec"]["rules"][0]["match"]))
        mutant(f"{p['metadata']['name']}: validationFailureAction: true", p,
               lambda o: o["spec"].__setitem__("validationFailureAction", True))
        if isinstance(p["spec"]["rules"][0].get("preconditions"), dict):
            def bad_operator(o):
                conds = o["spec"]["rules"][0]["preconditions"]
                (conds.get("all") or conds.get("any"))[0]["operator"] = "Equal"
            mutant(f"{p['metadata']['name']}: precondition operator Equal", p, bad_operator)
    return out


def validate_schemas(rendered):
    node_modules = os.environ.get("GVE_DEPLOY_NODE_MODULES", os.path.join(HERE, "node_modules"))
    if not shutil.which("node"):
        fail("node not found (Node.js runs the schema validation)")
        return
    with open(os.path.join(HERE, "package.json")) as f:
        deps = json.load(f)["dependencies"]
    packages = [p for p in deps if p == "kubernetes-models" or p.startswith("@kubernetes-models/")]
    missing = [p for p in packages if not os.path.isdir(os.path.join(node_modules, p))]
    if missing:
        fail(f"schema packages {missing} missing in {node_modules}: run `npm ci --prefix tests/deploy`")
        return
    items, seen = [], set()
    for rel, objs in rendered.items():
        for o in objs:
            if json.dumps(o, sort_keys=True) not in seen:
                seen.add(json.dumps(o, sort_keys=True))
                items.append({"source": rel, "object": o})
    rc, out, err = run_validator(items, node_modules)
    bad = [line for line in out if not line.startswith(("valid ", "strict ", "no schema "))]
    noschema = [line for line in out if line.startswith("no schema ")]
    if rc != 0:
        fail("schema validation:\n" + "\n".join(bad[-40:]) + err[-2000:])
    elif noschema:
        fail("objects without a schema (map their apiVersion to a package in validate-k8s.mjs):\n"
             + "\n".join(noschema))
    else:
        ok(f"schemas ({', '.join(f'{p} {deps[p]}' for p in packages)}): {bad[-1] if bad else out[-1]}")

    # Self-test: the Kyverno schema check rejects broken policies.
    policies = [i["object"] for i in items if i["object"].get("apiVersion", "").startswith("kyverno.io/")]
    if not policies:
        return
    mutants = kyverno_mutants(policies)
    rc, out, err = run_validator([m for _, m in mutants], node_modules)
    rejected = [line for line in out if line.startswith(("INVALID ", "NOT STRICT "))]
    missed = [what for what, _ in mutants if not any(f"self-test: {what}: " in line for line in rejected)]
    if rc != 1 or missed:
        fail(f"schema self-test: broken Kyverno policies not rejected (exit {rc}): {missed}\n"
             + "\n".join(out[-20:]) + err[-1000:])
    else:
        ok(f"schema self-test: {len(mutants)} broken copies of the Kyverno policies rejected "
           f"({'; '.join(what for what, _ in mutants)})")


# ----------------------------------------------------------------------------- 3 consistency
def one(objs, kind, name=None):
    m = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    if len(m) != 1:
        raise AssertionError(f"expected one {kind} {name or ''}, got {len(m)}")
    return m[0]


def exporter_flags(binary):
    if not binary:
        for cand in (os.path.join(REPO, "build", "gvisor-exporter"), *glob.glob(os.path.join(REPO, "..", "build*",
                                                                                               "gvisor-exporter"))):
            if os.access(cand, os.X_OK):
                binary = cand
                break
    if not binary:
        return None, None
    r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    text = r.stdout + r.stderr
    flags = set(re.findall(r"--(?:\[no-\])?([a-z][a-z0-9.-]*)", text))
    flags |= {"no-" + f for f in re.findall(r"--\[no-\]([a-z][a-z0-9.-]*)", text)}
    return binary, flags


def tolerates(tol, taint):
    """Kubernetes' toleration matching (k8s.io/api/core/v1 Toleration.ToleratesTaint)."""
    if tol.get("effect") and tol["effect"] != taint["effect"]:
        return False
    if tol.get("key") and tol["key"] != taint["key"]:
        return False
    if taint["effect"] == "NoExecute" and tol.get("tolerationSeconds") is not None:
        return False   # tolerated only for a while: the pod is evicted after tolerationSeconds
    op = tol.get("operator", "Equal")
    if op == "Exists":
        return True
    return op == "Equal" and tol.get("key") and tol.get("value", "") == taint.get("value", "")


def check_priority(objs, pod):
    """priorityClassName: a system class, or a PriorityClass rendered alongside, above the default (0)."""
    name = pod.get("priorityClassName")
    if not name:
        fail("DaemonSet: priorityClassName missing (the exporter would be evicted among the first under node pressure)")
        return
    if name in SYSTEM_PRIORITY_CLASSES:
        return
    pcs = [o for o in objs if o["kind"] == "PriorityClass" and o["metadata"]["name"] == name]
    if len(pcs) != 1:
        fail(f"DaemonSet: priorityClassName {name} is neither a system class nor a PriorityClass rendered with it")
        return
    pc = pcs[0]
    if not 0 < pc.get("value", 0) <= MAX_USER_PRIORITY or pc.get("globalDefault") or \
            pc.get("preemptionPolicy", "PreemptLowerPriority") != "PreemptLowerPriority":
        fail(f"PriorityClass {name}: value in (0, {MAX_USER_PRIORITY}], not globalDefault, may preempt: {pc}")


def kube_api_calls():
    """(group, resource, verb) of every Kubernetes API path the exporter's code requests: the string
    literals "/api/..." / "/apis/..." in exporter/sources/kube (tests and fuzzers excluded). A
    collection path is `list`, a named object `get`, `watch=` or /watch/ `watch`."""
    calls, paths = set(), []
    for f in sorted(glob.glob(os.path.join(KUBE_SOURCES, "*.cc")) + glob.glob(os.path.join(KUBE_SOURCES, "*.h"))):
        if f.endswith(("_test.cc", "_fuzz.cc")):
            continue
        with open(f) as fh:
            text = fh.read()
        for m in re.finditer(r'"(/apis?/[^"?]*)(\?[^"]*)?"', text):
            path, query = m.group(1), m.group(2) or ""
            seg = [x for x in path.split("/") if x]
            group, rest = ("", seg[2:]) if seg[0] == "api" else (seg[1], seg[3:])
            watch = "watch=" in query or (rest[:1] == ["watch"])
            rest = rest[1:] if rest[:1] == ["watch"] else rest
            if rest[:1] == ["namespaces"] and len(rest) > 2:
                rest = rest[2:]
            if not rest:
                continue
            verb = "watch" if watch else ("list" if len(rest) == 1 else "get")
            calls.add((group, rest[0], verb))
            paths.append(os.path.relpath(f, REPO) + ": " + path + query)
    return calls, paths


def check_dashboard_configmaps(objs):
    """One ConfigMap per dashboards/*.json for the Grafana sidecar, holding that file verbatim."""
    n0 = len(errors)
    files = {os.path.basename(p): p for p in glob.glob(os.path.join(DASHBOARDS_DIR, "*.json"))}
    cms = [o for o in objs if o["kind"] == "ConfigMap"]
    if len(cms) != len(objs) or len(cms) != len(files):
        fail(f"deploy/kubernetes/dashboards: {len(files)} dashboards but objects "
             f"{[(o['kind'], o['metadata']['name']) for o in objs]}; rerun dashboards/make-dashboards.py")
    seen = set()
    sizes = []
    for cm in cms:
        name = cm["metadata"]["name"]
        if cm["metadata"].get("labels", {}).get(GRAFANA_SIDECAR_LABEL[0]) != GRAFANA_SIDECAR_LABEL[1]:
            fail(f"ConfigMap {name}: label {GRAFANA_SIDECAR_LABEL[0]}: \"{GRAFANA_SIDECAR_LABEL[1]}\" (Grafana sidecar)")
        if cm["metadata"].get("namespace") != NS:
            fail(f"ConfigMap {name} is not in namespace {NS}")
        data = cm.get("data", {})
        if len(data) != 1 or next(iter(data)) not in files:
            fail(f"ConfigMap {name}: data must hold one dashboards/*.json file: keys {sorted(data)}")
            continue
        (key_, text), = data.items()
        seen.add(key_)
        with open(files[key_]) as f:
            want = f.read()
        if text != want:
            fail(f"ConfigMap {name}: data {key_} differs from dashboards/{key_} (drift); "
                 "rerun dashboards/make-dashboards.py")
        size = len(json.dumps(cm, separators=(",", ":")).encode())
        sizes.append(f"{name} {size // 1024} KiB")
        if size >= min(CONFIGMAP_MAX, ANNOTATIONS_MAX):
            fail(f"ConfigMap {name}: {size} bytes; ConfigMaps hold at most 1 MiB and `kubectl apply` stores the "
                 f"object in a 256 KiB annotation (use server-side apply or split the dashboard)")
    if set(files) - seen:
        fail(f"dashboards without a ConfigMap: {sorted(set(files) - seen)}; rerun dashboards/make-dashboards.py")
    if len(errors) == n0:
        ok(f"deploy/kubernetes/dashboards: one ConfigMap per dashboard, label {GRAFANA_SIDECAR_LABEL[0]}="
           f"{GRAFANA_SIDECAR_LABEL[1]}, data = dashboards/*.json verbatim, sizes under 256 KiB ({', '.join(sizes)})")
    return len(errors) == n0


def check_exporter(objs, binary):
    n0 = len(errors)
    ds = one(objs, "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    labels = ds["spec"]["template"]["metadata"]["labels"]
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    if not (pod.get("hostPID") and pod.get("hostNetwork")):
        fail("DaemonSet: hostPID and hostNetwork are required (host processes; abstract control sockets)")
    if sc.get("capabilities", {}).get("drop") != ["ALL"] or set(sc.get("capabilities", {}).get("add", [])) != CAPS:
        fail(f"DaemonSet: capabilities must drop ALL and add exactly {sorted(CAPS)}: {sc.get('capabilities')}")
    if sc.get("privileged") or sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem"):
        fail("DaemonSet: not privileged, no privilege escalation, read-only root filesystem")
    res = c.get("resources", {})
    if not res.get("requests", {}).get("cpu") or not res.get("requests", {}).get("memory") \
            or not res.get("limits", {}).get("memory"):
        fail("DaemonSet: cpu/memory requests and a memory limit are required")
    vols = {v["name"]: v for v in pod["volumes"]}
    for m in c["volumeMounts"]:
        hp = vols[m["name"]].get("hostPath")
        if hp and not m.get("readOnly") and hp["path"] not in RW_HOSTPATHS:
            fail(f"DaemonSet: hostPath {hp['path']} mounted read-write")
    if pod.get("nodeSelector", {}).get(GVISOR_NODE_LABEL[0]) != GVISOR_NODE_LABEL[1]:
        fail(f"DaemonSet: nodeSelector {GVISOR_NODE_LABEL}")
    untolerated = [t for t in MUST_TOLERATE if not any(tolerates(tol, t) for tol in pod.get("tolerations", []))]
    if untolerated:
        fail(f"DaemonSet: must run on gVisor nodes whatever else taints them; does not tolerate {untolerated} "
             f"(tolerations {pod.get('tolerations')})")
    check_priority(objs, pod)
    args = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "") for a in c["args"])
    mounts = {m["mountPath"]: vols[m["name"]] for m in c["volumeMounts"]}
    with open(os.path.join(REPO, "deploy", "containerd", "runsc.toml"), "rb") as f:
        shim_root = tomllib.load(f)["root"]
    if args.get("runsc.root-parent") != shim_root or \
            mounts.get(shim_root, {}).get("hostPath", {}).get("path") != shim_root:
        fail(f"DaemonSet: --runsc.root-parent and its mount must be the shims' root {shim_root}")
    for flag, path in (("path.procfs", "/proc"), ("path.cgroupfs", "/sys/fs/cgroup"), ("path.devfs", "/dev")):
        if mounts.get(args.get(flag, ""), {}).get("hostPath", {}).get("path") != path:
            fail(f"DaemonSet: --{flag} must point at the mount of the host's {path}")
    rp = args.get("runsc.path", "")
    if not any(rp.startswith(mp + "/") and v.get("hostPath") for mp, v in mounts.items()):
        fail(f"DaemonSet: --runsc.path {rp} is not inside a hostPath mount (the node's runsc)")
    binary, flags = exporter_flags(binary)
    if flags is not None:
        unknown = sorted(a for a in args if a not in flags)
        if unknown:
            fail(f"DaemonSet: flags unknown to {binary} --help: {unknown}")
        else:
            ok(f"DaemonSet flags are all in `{os.path.relpath(binary, REPO)} --help`")
    else:
        print("     (no gvisor-exporter binary found: flags not checked; pass --exporter)")
    port = next(p for p in c["ports"] if p["name"] == "metrics")
    listen = args.get("web.listen-address", ":9787")
    if not listen.endswith(f":{port['containerPort']}") or port["containerPort"] != 9787:
        fail(f"DaemonSet: --web.listen-address {listen} vs port {port}")
    # Bound to the pod IP (= the node's primary IP under hostNetwork), not every host interface.
    env = {e["name"]: e for e in c.get("env", [])}
    if listen not in LISTEN_ADDRESSES or \
            env.get("POD_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "status.podIP":
        fail(f"DaemonSet: --web.listen-address must be one of {sorted(LISTEN_ADDRESSES)} with env POD_IP from "
             f"the downward API status.podIP (got {listen!r}, env {env.get('POD_IP')})")
    for probe in ("readinessProbe", "livenessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        if get.get("path") != "/healthz":
            fail(f"DaemonSet: {probe} should GET /healthz")
        # The kubelet probes the pod IP unless httpGet.host is set: the address the exporter binds.
        if "host" in get or get.get("port") not in ("metrics", port["containerPort"]):
            fail(f"DaemonSet: {probe} must probe the pod IP (no httpGet.host) on the metrics port: {get}")

    def selects(sel):
        return all(labels.get(k) == v for k, v in sel.get("matchLabels", sel).items())
    for o in objs:
        kind = o["kind"]
        if kind == "Service":
            if not selects(o["spec"]["selector"]) or o["spec"]["ports"][0]["targetPort"] != "metrics" \
                    or o["spec"]["ports"][0]["port"] != 9787:
                fail("Service does not select the exporter pods on port metrics/9787")
        if kind in ("ServiceMonitor", "PodMonitor"):
            eps = o["spec"].get("endpoints") or o["spec"].get("podMetricsEndpoints")
            target = o if kind == "PodMonitor" else one(objs, "Service")
            if kind == "ServiceMonitor" and not all(o["spec"]["selector"]["matchLabels"].get(k) == v
                                                    for k, v in target["metadata"]["labels"].items()
                                                    if k in o["spec"]["selector"]["matchLabels"]):
                fail("ServiceMonitor does not select the Service")
            if kind == "PodMonitor" and not selects(o["spec"]["selector"]):
                fail("PodMonitor does not select the exporter pods")
            job_from = (target["metadata"]["labels"] if kind == "ServiceMonitor" else labels).get(o["spec"]["jobLabel"])
            if job_from != JOB:
                fail(f"{kind}: job label would be {job_from!r}, the alerts expect {JOB!r}")
            if [e["port"] for e in eps] != ["metrics"] or any(e.get("path", "/metrics") != "/metrics" for e in eps):
                fail(f"{kind}: must scrape port metrics at /metrics")
            if not any(r.get("targetLabel") == "instance" for e in eps for r in e.get("relabelings", [])):
                fail(f"{kind}: instance should be relabelled to the node name (the dashboards' Node variable)")
            # The operator's target labels namespace/pod/container must not rename the
            # workload's (exported_*): tests/e2e/test_dashboards_e2e.py proves it live.
            if not all(e.get("honorLabels") is True for e in eps):
                fail(f"{kind}: every endpoint needs honorLabels: true (docs/deploy.md, section 8)")
            for e in eps:
                clash = [r["targetLabel"] for r in e.get("relabelings", [])
                         if r.get("targetLabel") in ("namespace", "pod", "container")]
                if clash:
                    fail(f"{kind}: relabelings set {clash}, the workload labels of the exporter's series")
        if kind == "PrometheusRule":
            with open(os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.prometheusrule.yaml")) as f:
                src = yaml.safe_load(f)
            if o["spec"] != src["spec"]:
                fail("rendered PrometheusRule differs from deploy/prometheus/gvisor-exporter.prometheusrule.yaml")
        if kind == "ClusterRole":
            for rule in o["rules"]:
                if set(rule["verbs"]) - {"get", "list", "watch"}:
                    fail(f"ClusterRole: not read-only: {rule}")
            granted = {(g, r, v) for rule in o["rules"] for g in rule.get("apiGroups", [])
                       for r in rule.get("resources", []) for v in rule["verbs"]}
            used, paths = kube_api_calls()
            if granted != used:
                fail(f"ClusterRole grants {sorted(granted)}, the code in exporter/sources/kube/ calls "
                     f"{sorted(used)} ({paths}): grant exactly those")
        if kind == "ClusterRoleBinding":
            sa = one(objs, "ServiceAccount")
            if o["subjects"] != [{"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": NS}] or \
                    o["roleRef"]["name"] != one(objs, "ClusterRole")["metadata"]["name"]:
                fail("ClusterRoleBinding does not bind the ServiceAccount to the ClusterRole")
        if kind not in ("Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass") and \
                o["metadata"].get("namespace") != NS:
            fail(f"{kind} {o['metadata']['name']} is not in namespace {NS}")
    if pod.get("serviceAccountName") != one(objs, "ServiceAccount")["metadata"]["name"]:
        fail("DaemonSet does not use the ServiceAccount")
    return len(errors) == n0


def check_examples(objs):
    n0 = len(errors)
    rcs = {o["metadata"]["name"]: o for o in objs if o["kind"] == "RuntimeClass"}
    if set(rcs) != {"gvisor", "gvisor-kvm", "gvisor-ptrace"}:
        fail(f"RuntimeClasses {sorted(rcs)}")
        return False
    for name, rc in rcs.items():
        sched = rc.get("scheduling", {})
        if sched.get("nodeSelector", {}).get(GVISOR_NODE_LABEL[0]) != GVISOR_NODE_LABEL[1] or \
                not any(t.get("key") == GVISOR_TAINT for t in sched.get("tolerations", [])) or \
                not rc.get("overhead", {}).get("podFixed", {}).keys() >= {"cpu", "memory"}:
            fail(f"RuntimeClass {name}: scheduling (node label, taint toleration) and overhead.podFixed cpu+memory")
    namespaces = {o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"}
    if not SANDBOXED_NAMESPACES <= namespaces:
        fail(f"namespaces {sorted(SANDBOXED_NAMESPACES)} must be defined")
    policies = {o["metadata"]["name"]: o for o in objs if o["kind"] == "ClusterPolicy"}
    enforce = [p for p in policies.values() if any("validate" in r for r in p["spec"]["rules"])]
    mutate = [p for p in policies.values() if any("mutate" in r for r in p["spec"]["rules"])]
    if len(enforce) != 1 or len(mutate) != 1:
        fail(f"expected one validating and one mutating ClusterPolicy: {sorted(policies)}")
        return False
    # Fields and types are the schema's (step 2); here what it cannot see.
    for p in policies.values():
        if p["apiVersion"] != "kyverno.io/v1":
            fail(f"ClusterPolicy {p['metadata']['name']}: apiVersion {p['apiVersion']} (kyverno.io/v1 expected)")
        for r in p["spec"]["rules"]:
            if sum(a in r for a in ("mutate", "validate", "generate", "verifyImages")) != 1 or \
                    ("mutate" in r) == ("validate" in r):
                fail(f"ClusterPolicy {p['metadata']['name']}: rule {r.get('name')} must either mutate or validate")
            for block in r["match"].get("any", []) + r["match"].get("all", []):
                res = block.get("resources", {})
                if res.get("kinds") != ["Pod"] or set(res.get("namespaces", [])) != SANDBOXED_NAMESPACES:
                    fail(f"ClusterPolicy {p['metadata']['name']}: match {block}")
            if not (r["match"].get("any") or r["match"].get("all")):
                fail(f"ClusterPolicy {p['metadata']['name']}: empty match")
    (vrule,) = [r for r in enforce[0]["spec"]["rules"] if "validate" in r]
    # The rule's failureAction (Kyverno >= 1.13) overrides the deprecated spec-wide one; the default is Audit.
    action = vrule["validate"].get("failureAction") or enforce[0]["spec"].get("validationFailureAction") or "Audit"
    if str(action).lower() != "enforce":
        fail(f"validating ClusterPolicy must Enforce (failure action {action})")
    pattern = vrule["validate"]["pattern"]["spec"]["runtimeClassName"]
    if not all(fnmatch.fnmatchcase(n, pattern) for n in rcs) or fnmatch.fnmatchcase("runc", pattern) \
            or fnmatch.fnmatchcase("", pattern):
        fail(f"validate pattern {pattern!r} must accept {sorted(rcs)} and reject runc / none")
    (mrule,) = [r for r in mutate[0]["spec"]["rules"] if "mutate" in r]
    patch = mrule["mutate"]["patchStrategicMerge"]["spec"]
    gv = rcs["gvisor"]
    if patch.get("runtimeClassName") != "gvisor" or patch.get("overhead") != gv["overhead"]["podFixed"] or \
            patch.get("nodeSelector") != gv["scheduling"]["nodeSelector"]:
        fail("mutating ClusterPolicy must inject runtimeClassName gvisor with RuntimeClass gvisor's "
             "overhead.podFixed and nodeSelector (the API server rejects a different overhead)")
    pre = json.dumps(mrule.get("preconditions", {}))
    if "runtimeClassName" not in pre:
        fail("mutating ClusterPolicy must only touch pods without a runtimeClassName")
    for o in objs:
        spec = o.get("spec", {}).get("template", {}).get("spec")
        if spec is None:
            continue
        ns = o["metadata"].get("namespace")
        rc = spec.get("runtimeClassName")
        if ns in SANDBOXED_NAMESPACES and not fnmatch.fnmatchcase(rc or "", pattern):
            fail(f"{o['kind']} {ns}/{o['metadata']['name']} would be rejected by the policy (runtimeClassName {rc})")
        if rc and rc not in rcs:
            fail(f"{o['kind']} {o['metadata']['name']}: RuntimeClass {rc} is not defined")
    jobs = {o["metadata"]["name"]: o["spec"]["template"]["spec"] for o in objs if o["kind"] == "Job"}
    if set(jobs) != {"bench-runc", "bench-gvisor"} or jobs["bench-runc"].get("runtimeClassName") or \
            jobs["bench-gvisor"].get("runtimeClassName") != "gvisor" or \
            [c["command"] for c in jobs["bench-runc"]["containers"]] != \
            [c["command"] for c in jobs["bench-gvisor"]["containers"]]:
        fail("benchmark Jobs: bench-runc (no RuntimeClass) and bench-gvisor (gvisor) running the same command")
    if len(errors) == n0:
        ok("examples: RuntimeClasses, Kyverno policies (Pods in the sandboxed namespaces, Enforce, pattern, "
           "injected defaults = RuntimeClass gvisor), "
           "Deployment and benchmark Jobs agree")
    return len(errors) == n0


# ----------------------------------------------------------------------------- 3b the TLS variant
TLS_SECRETS = {"gvisor-exporter-tls", "gvisor-exporter-web-config", "gvisor-exporter-scrape-auth"}


def check_tls(objs, binary):
    """deploy/kubernetes/tls: the web config and certificate come from Secret mounts, the paths
    in web-config.example.yml are those mounts, probes and ServiceMonitor speak HTTPS, the
    ServiceMonitor's Secrets are the documented ones, and the exporter accepts the example file."""
    n0 = len(errors)
    ds = one(objs, "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    vols = {v["name"]: v for v in pod["volumes"]}
    secret_mounts = {m["mountPath"]: vols[m["name"]]["secret"]["secretName"]
                     for m in c["volumeMounts"] if "secret" in vols[m["name"]]}
    cfg_args = [a.split("=", 1)[1] for a in c["args"] if a.startswith("--web.config.file=")]
    if len(cfg_args) != 1 or os.path.dirname(cfg_args[0]) not in secret_mounts:
        fail(f"tls: --web.config.file {cfg_args} must be one file in a Secret mount {secret_mounts}")
    with open(os.path.join(REPO, "deploy", "kubernetes", "tls", "web-config.example.yml")) as f:
        example = yaml.safe_load(f)
    for key in ("cert_file", "key_file"):
        path = example["tls_server_config"][key]
        if secret_mounts.get(os.path.dirname(path)) != "gvisor-exporter-tls":
            fail(f"tls: web-config.example.yml {key} {path} is not in the gvisor-exporter-tls mount")
    for probe in ("readinessProbe", "livenessProbe"):
        if c[probe]["httpGet"].get("scheme") != "HTTPS":
            fail(f"tls: {probe} must use scheme HTTPS (the port speaks TLS only)")
    sm = one(objs, "ServiceMonitor")
    (ep,) = sm["spec"]["endpoints"]
    refs = {ep["tlsConfig"]["ca"]["secret"]["name"], ep["basicAuth"]["username"]["name"],
            ep["basicAuth"]["password"]["name"]}
    if ep.get("scheme") != "https" or not ep["tlsConfig"].get("serverName") or not ep.get("honorLabels"):
        fail("tls: ServiceMonitor needs scheme https, tlsConfig.serverName and honorLabels: true")
    if not refs <= TLS_SECRETS or set(secret_mounts.values()) | refs != TLS_SECRETS:
        fail(f"tls: Secrets used {set(secret_mounts.values()) | refs} != documented {TLS_SECRETS}")
    if binary:
        # The example file (with a real hash in place of the placeholder) must pass the exporter's
        # own parser: it then fails only on the certificate file, which only exists in the pod.
        d = tempfile.mkdtemp(prefix="gve-deploy-webcfg-")
        try:
            example["basic_auth_users"] = {
                "prometheus": "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"}
            cfg = os.path.join(d, "web-config.yml")
            with open(cfg, "w") as f:
                yaml.safe_dump(example, f)
            r = subprocess.run([binary, f"--web.config.file={cfg}", "--web.listen-address=127.0.0.1:0",
                                "--runsc.root-parent=", "--cri.endpoint="],
                               capture_output=True, text=True, timeout=30)
            want = "cannot read cert_file /etc/gvisor-exporter/tls/tls.crt"
            if r.returncode == 0 or want not in r.stderr:
                fail(f"tls: exporter on web-config.example.yml: exit {r.returncode}, {r.stderr[-500:]}")
        finally:
            shutil.rmtree(d, ignore_errors=True)
    if len(errors) == n0:
        ok("deploy/kubernetes/tls: web config and certificate from Secret mounts, HTTPS probes, "
           "ServiceMonitor https + tlsConfig + basicAuth + honorLabels, example web config accepted")
    return len(errors) == n0


# ----------------------------------------------------------------------------- 4 run the benchmark
def run_bench(objs):
    """Runs the ConfigMap's bench.sh at SCALE=1 in a real gVisor sandbox (busybox rootfs)."""
    if os.geteuid() != 0 or not shutil.which("runsc"):
        print("     (benchmark script not run: needs root and runsc)")
        return
    sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
    from gvisor_env import Runsc  # tests/e2e helper: sandboxes torn down by PID
    script = one(objs, "ConfigMap", "bench-script")["data"]["bench.sh"]
    d = tempfile.mkdtemp(prefix="gve-deploy-bench-")
    r = Runsc(d, f"gve-deploy-bench-{os.getpid()}")
    try:
        for applet in ("date", "rm", "uname"):
            os.symlink("busybox", os.path.join(r.rootfs, "bin", applet))
        os.makedirs(os.path.join(r.rootfs, "bench"))
        # The Job mounts an emptyDir on /tmp; this sandbox's rootfs is read-only, /dev/shm is its tmpfs.
        with open(os.path.join(r.rootfs, "bench", "bench.sh"), "w") as f:
            f.write(script.replace("/tmp/", "/dev/shm/"))
        sid = f"gvbench{os.getpid()}"
        r.run_sandbox(sid, pod="bench", namespace="gvisor-bench", uid="u")
        t0 = time.time()
        out = r.cmd("exec", sid, "/bin/sh", "-c", "SCALE=1 /bin/sh /bench/bench.sh 2>&1", timeout=120, check=False)
        phases = re.findall(r"^(syscalls|cpu|file|exec) (\d+) ms$", out, re.M)
        if [p for p, _ in phases] == ["syscalls", "cpu", "file", "exec"] * 3:
            ok(f"benchmark Jobs' script ran in a gVisor sandbox at SCALE=1 in {time.time() - t0:.1f}s: "
               + ", ".join(f"{p} {ms} ms" for p, ms in phases[:4]))
        else:
            fail(f"benchmark script in gVisor printed:\n{out[-1500:]}")
    finally:
        r.cleanup()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubectl", action="append", default=[], help="another kubectl to render with (repeatable)")
    ap.add_argument("--exporter", help="gvisor-exporter binary whose --help lists the valid flags")
    ap.add_argument("--no-run", action="store_true", help="do not run the benchmark script in gVisor")
    args = ap.parse_args()
    t0 = time.time()
    ks = kubectls(args.kubectl)
    if not ks:
        fail("no kubectl found (Debian package kubernetes-client, or any kubectl >= 1.20)")
        print("check_manifests: FAILED")
        return 1
    root, tmp = REPO, None
    if not os.path.exists(os.path.join(REPO, PROM_KUSTOMIZATION)):
        fail(f"{PROM_KUSTOMIZATION} is missing: deploy/kubernetes includes ../prometheus. It should read:\n"
             + PROM_KUSTOMIZATION_TEXT + "     (checking the rest on a temp copy with that file)")
        tmp = tempfile.mkdtemp(prefix="gve-deploy-copy-")
        shutil.copytree(os.path.join(REPO, "deploy"), os.path.join(tmp, "deploy"))
        with open(os.path.join(tmp, PROM_KUSTOMIZATION), "w") as f:
            f.write(PROM_KUSTOMIZATION_TEXT)
        root = tmp
    try:
        rendered = render_all(root, ks)
        validate_schemas(rendered)
        for rel in ("deploy/kubernetes", "deploy/kubernetes/podmonitor", "deploy/kubernetes/exporter",
                    "deploy/kubernetes/tls"):
            if rel in rendered:
                try:
                    if check_exporter(rendered[rel], args.exporter):
                        ok(f"{rel}: DaemonSet privileges, flags and mounts; Service/monitors/RBAC/namespaces consistent")
                except (AssertionError, KeyError, StopIteration, ValueError) as e:
                    fail(f"{rel}: {type(e).__name__}: {e}")
        if "deploy/kubernetes/dashboards" in rendered:
            try:
                check_dashboard_configmaps(rendered["deploy/kubernetes/dashboards"])
            except (AssertionError, KeyError, ValueError, OSError) as e:
                fail(f"deploy/kubernetes/dashboards: {type(e).__name__}: {e}")
        if "deploy/kubernetes/tls" in rendered:
            try:
                check_tls(rendered["deploy/kubernetes/tls"], exporter_flags(args.exporter)[0])
            except (AssertionError, KeyError, StopIteration, ValueError, TypeError, OSError) as e:
                fail(f"deploy/kubernetes/tls: {type(e).__name__}: {e}")
        if "deploy/kubernetes/examples" in rendered:
            try:
                check_examples(rendered["deploy/kubernetes/examples"])
                if not args.no_run:
                    run_bench(rendered["deploy/kubernetes/examples"])
            except (AssertionError, KeyError, StopIteration, ValueError, RuntimeError, OSError) as e:
                fail(f"examples: {type(e).__name__}: {e}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"check_manifests: {'FAILED' if errors else 'passed'} ({len(errors)} errors, {time.time() - t0:.1f}s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
