"""The scrape job prometheus-operator generates from our shipped ServiceMonitor and
PodMonitor, for a real Prometheus in the e2e tests.

Users deploy with `kubectl apply -k deploy/kubernetes` (ServiceMonitor) or
`-k deploy/kubernetes/podmonitor`; the operator turns the monitor into a scrape
job with Kubernetes service discovery and a fixed list of relabelings. A plain
`static_configs` job has none of its target labels (namespace, pod, container,
service, endpoint, job from jobLabel), so it cannot show what those labels do to
the exporter's own namespace/pod/container labels. Here the job is derived from
the manifests as rendered by `kubectl kustomize`, in the order prometheus-operator's
config generator (pkg/prometheus/promcfg.go) writes it:

  1. `__tmp_prometheus_job_name` from job;
  2. keep: the monitor's selector.matchLabels on the Service's (ServiceMonitor) or
     Pod's (PodMonitor) labels, then the endpoint's port name;
  3. ServiceMonitor: node/pod from the endpoint address' target, namespace,
     service, pod, container, drop Failed/Succeeded pods, job = service name,
     then job from the Service's `jobLabel` label;
     PodMonitor: namespace, container, pod, job = <namespace>/<name>, then job
     from the Pod's `jobLabel` label;
  4. endpoint = the port name;
  5. the manifest's own `relabelings`;
  6. the shard keep (hashmod, one shard);
  and `honor_labels` / `honor_timestamps` / scheme / path / tls_config / basic_auth
  from the endpoint (Secret references resolved from what the test supplies).

Kubernetes service discovery itself is replaced by one static target whose
`__meta_kubernetes_*` labels are what discovery would give for the exporter's
pod of the DaemonSet (its labels and container from the rendered DaemonSet, the
Service's labels and port from the rendered Service, a node name and a
DaemonSet-style pod name): Prometheus applies the relabelings to them exactly
as it would to discovered ones.
"""
import json
import os
import re
import subprocess

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICE_MONITOR_DIR = os.path.join(REPO, "deploy", "kubernetes")
POD_MONITOR_DIR = os.path.join(REPO, "deploy", "kubernetes", "podmonitor")
TLS_DIR = os.path.join(REPO, "deploy", "kubernetes", "tls")

# The node and the exporter's pod as the cluster would name them.
NODE = "gvisor-node-1"
EXPORTER_POD = "gvisor-exporter-x7k2p"


def kustomize(directory):
    """Every object `kubectl kustomize DIR` renders (what `kubectl apply -k` applies)."""
    out = subprocess.run(["kubectl", "kustomize", directory], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def one(objects, kind):
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, rendered {[o['metadata']['name'] for o in found]}"
    return found[0]


def sanitize(name):
    """Prometheus' label-name sanitizing of Kubernetes label names (app.kubernetes.io/name)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _labels(prefix, labels):
    out = {}
    for k, v in labels.items():
        out[f"{prefix}_label_{sanitize(k)}"] = v
        out[f"{prefix}_labelpresent_{sanitize(k)}"] = "true"
    return out


def _selector_keeps(meta_prefix, selector):
    assert set(selector) <= {"matchLabels"}, f"only matchLabels is derived here: {selector}"
    return [{"action": "keep",
             "source_labels": [f"{meta_prefix}_label_{sanitize(k)}", f"{meta_prefix}_labelpresent_{sanitize(k)}"],
             "regex": f"({v});true"} for k, v in sorted(selector.get("matchLabels", {}).items())]


_RELABEL_KEYS = {"sourceLabels": "source_labels", "targetLabel": "target_label", "separator": "separator",
                 "regex": "regex", "replacement": "replacement", "modulus": "modulus", "action": "action"}


def _user_relabelings(relabelings):
    """The manifest's RelabelConfigs in Prometheus' spelling (the operator lowercases action)."""
    out = []
    for r in relabelings or []:
        unknown = set(r) - set(_RELABEL_KEYS)
        assert not unknown, f"relabeling fields not derived here: {unknown}"
        c = {_RELABEL_KEYS[k]: v for k, v in r.items()}
        if "action" in c:
            c["action"] = c["action"].lower()
        out.append(c)
    return out


def _shard():
    return [{"source_labels": ["__address__"], "target_label": "__tmp_hash", "modulus": 1, "action": "hashmod"},
            {"source_labels": ["__tmp_hash"], "regex": "0", "action": "keep"}]


def _container(daemonset, port_name):
    for c in daemonset["spec"]["template"]["spec"]["containers"]:
        for p in c.get("ports", []):
            if p.get("name") == port_name:
                return c, p
    raise AssertionError(f"no container of the DaemonSet has a port named {port_name!r}")


def _pod_meta(daemonset, container, port, address):
    meta = daemonset["metadata"]
    pod_labels = daemonset["spec"]["template"]["metadata"]["labels"]
    host = address.rsplit(":", 1)[0]
    out = {
        "__address__": address,
        "__meta_kubernetes_namespace": meta["namespace"],
        "__meta_kubernetes_pod_name": EXPORTER_POD,
        "__meta_kubernetes_pod_ip": host,
        "__meta_kubernetes_pod_host_ip": host,
        "__meta_kubernetes_pod_node_name": NODE,
        "__meta_kubernetes_pod_phase": "Running",
        "__meta_kubernetes_pod_ready": "true",
        "__meta_kubernetes_pod_controller_kind": "DaemonSet",
        "__meta_kubernetes_pod_controller_name": meta["name"],
        "__meta_kubernetes_pod_container_name": container["name"],
        "__meta_kubernetes_pod_container_port_name": port["name"],
        "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
        "__meta_kubernetes_pod_container_port_protocol": port.get("protocol", "TCP"),
    }
    out.update(_labels("__meta_kubernetes_pod", pod_labels))
    return out


def _secret(secrets, ref, what):
    key = (ref["name"], ref["key"])
    assert key in secrets, f"{what}: the test supplies no Secret {key} (has {sorted(secrets)})"
    return secrets[key]


def _endpoint_options(ep, job_name, secrets):
    """honor_labels, scheme, path and the HTTP client config of an endpoint. Secret
    references resolve through `secrets` {(name, key): value}: for tlsConfig the
    value is the path of a file holding the Secret's bytes (the operator mounts
    them into Prometheus' pod), for basicAuth the username/password itself (the
    operator writes them into the config)."""
    job = {"job_name": job_name, "honor_labels": bool(ep.get("honorLabels", False))}
    if "honorTimestamps" in ep:
        job["honor_timestamps"] = ep["honorTimestamps"]
    job["metrics_path"] = ep.get("path", "/metrics")
    if "scheme" in ep:
        job["scheme"] = ep["scheme"]
    tls = ep.get("tlsConfig")
    if tls:
        unknown = set(tls) - {"serverName", "ca", "cert", "keySecret", "insecureSkipVerify"}
        assert not unknown, f"tlsConfig fields not derived here: {unknown}"
        cfg = {}
        if "serverName" in tls:
            cfg["server_name"] = tls["serverName"]
        if "insecureSkipVerify" in tls:
            cfg["insecure_skip_verify"] = tls["insecureSkipVerify"]
        if "ca" in tls:
            cfg["ca_file"] = _secret(secrets, tls["ca"]["secret"], "tlsConfig.ca")
        if "cert" in tls:
            cfg["cert_file"] = _secret(secrets, tls["cert"]["secret"], "tlsConfig.cert")
        if "keySecret" in tls:
            cfg["key_file"] = _secret(secrets, tls["keySecret"], "tlsConfig.keySecret")
        job["tls_config"] = cfg
    auth = ep.get("basicAuth")
    if auth:
        job["basic_auth"] = {"username": _secret(secrets, auth["username"], "basicAuth.username"),
                             "password": _secret(secrets, auth["password"], "basicAuth.password")}
    return job


def _job(name, monitor, ep, meta_prefix, relabel, meta, address, interval, timeout, secrets):
    """The rest of both kinds' jobs: job from jobLabel, endpoint, the manifest's
    relabelings, the shard, and the endpoint's options around the static target."""
    if monitor["spec"].get("jobLabel"):
        relabel.append({"source_labels": [f"{meta_prefix}_label_{sanitize(monitor['spec']['jobLabel'])}"],
                        "target_label": "job", "regex": "(.+)", "replacement": "${1}"})
    relabel.append({"target_label": "endpoint", "replacement": ep["port"]})
    relabel += _user_relabelings(ep.get("relabelings"))
    relabel += _shard()
    job = _endpoint_options(ep, name, secrets or {})
    job.update({"scrape_interval": interval, "scrape_timeout": timeout,
                "static_configs": [{"targets": [address],
                                    "labels": {k: v for k, v in meta.items() if k != "__address__"}}],
                "relabel_configs": relabel})
    return job


def service_monitor_job(objects, address, interval="1s", timeout="1s", secrets=None):
    """The job for the rendered ServiceMonitor's first endpoint, its target at `address`."""
    sm, svc, ds = one(objects, "ServiceMonitor"), one(objects, "Service"), one(objects, "DaemonSet")
    ep = sm["spec"]["endpoints"][0]
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert ep["port"] in svc_ports, f"ServiceMonitor port {ep['port']!r} is not a port of the Service"
    target_port = svc_ports[ep["port"]].get("targetPort", ep["port"])
    container, port = _container(ds, target_port)
    ns = sm["metadata"]["namespace"]
    meta = _pod_meta(ds, container, port, address)
    meta.update(_labels("__meta_kubernetes_service", svc["metadata"].get("labels", {})))
    meta.update({
        "__meta_kubernetes_service_name": svc["metadata"]["name"],
        "__meta_kubernetes_endpoints_name": svc["metadata"]["name"],
        "__meta_kubernetes_endpoint_port_name": ep["port"],
        "__meta_kubernetes_endpoint_port_protocol": "TCP",
        "__meta_kubernetes_endpoint_ready": "true",
        "__meta_kubernetes_endpoint_node_name": NODE,
        "__meta_kubernetes_endpoint_address_target_kind": "Pod",
        "__meta_kubernetes_endpoint_address_target_name": EXPORTER_POD,
    })
    assert svc["metadata"]["namespace"] == ns, "the ServiceMonitor only selects Services of its namespace"
    relabel = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
    relabel += _selector_keeps("__meta_kubernetes_service", sm["spec"]["selector"])
    relabel += [{"action": "keep", "source_labels": ["__meta_kubernetes_endpoint_port_name"], "regex": ep["port"]}]
    for kind, label in (("Node", "node"), ("Pod", "pod")):
        relabel.append({"source_labels": ["__meta_kubernetes_endpoint_address_target_kind",
                                          "__meta_kubernetes_endpoint_address_target_name"],
                        "separator": ";", "regex": f"{kind};(.*)", "replacement": "${1}", "target_label": label})
    relabel += [
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {"action": "drop", "source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)"},
        {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "job", "replacement": "${1}"},
    ]
    return _job(f"serviceMonitor/{ns}/{sm['metadata']['name']}/0", sm, ep, "__meta_kubernetes_service",
                relabel, meta, address, interval, timeout, secrets)


def pod_monitor_job(objects, address, interval="1s", timeout="1s", secrets=None):
    """The job for the rendered PodMonitor's first endpoint, its target at `address`."""
    pm, ds = one(objects, "PodMonitor"), one(objects, "DaemonSet")
    ep = pm["spec"]["podMetricsEndpoints"][0]
    container, port = _container(ds, ep["port"])
    ns = pm["metadata"]["namespace"]
    assert ds["metadata"]["namespace"] == ns, "the PodMonitor only selects pods of its namespace"
    meta = _pod_meta(ds, container, port, address)
    relabel = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"}]
    relabel += _selector_keeps("__meta_kubernetes_pod", pm["spec"]["selector"])
    relabel += [{"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                 "regex": ep["port"]}]
    relabel += [
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"target_label": "job", "replacement": f"{ns}/{pm['metadata']['name']}"},
    ]
    return _job(f"podMonitor/{ns}/{pm['metadata']['name']}/0", pm, ep, "__meta_kubernetes_pod",
                relabel, meta, address, interval, timeout, secrets)


MONITORS = {"ServiceMonitor": (SERVICE_MONITOR_DIR, service_monitor_job),
            "PodMonitor": (POD_MONITOR_DIR, pod_monitor_job)}


def monitor_job(kind, address, directory=None, secrets=None):
    """(scrape job, rendered objects) for `kind` in MONITORS; `directory` renders
    another kustomization with that kind of monitor (deploy/kubernetes/tls)."""
    default_dir, make = MONITORS[kind]
    objects = kustomize(directory or default_dir)
    return make(objects, address, secrets=secrets), objects


if __name__ == "__main__":  # print the derived jobs: python3 tests/e2e/operator_scrape.py
    for k in MONITORS:
        print(json.dumps(monitor_job(k, "127.0.0.1:9787")[0], indent=1))
