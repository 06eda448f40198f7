#!/usr/bin/python3
"""Generates the Grafana dashboards in this directory (JSON, schemaVersion 39).

  make-dashboards.py           rewrite gvisor-*.json and deploy/kubernetes/dashboards/
  make-dashboards.py --check   exit 1 when a file differs from what this script writes

Besides the JSON files it writes one ConfigMap per dashboard for the Grafana
sidecar (label grafana_dashboard: "1", the kube-prometheus-stack convention;
annotation grafana_folder: gVisor) and their kustomization.yaml, in
deploy/kubernetes/dashboards/ (kubectl apply -k deploy/kubernetes/dashboards).

The JSON files are what users import; this script is their source so that ids,
layout, units and the datasource stay consistent. Every panel queries the
`datasource` variable; every metric is in METRICS.md (or is one of the syscall
metrics listed in SYSCALL_METRICS of tests/deploy/check_dashboards.py).
tests/deploy/check_dashboards.py checks the files; tests/e2e/test_dashboards_e2e.py
runs every query on a real Prometheus scraping the exporter on real sandboxes.

Conventions: CPU is in cores (CPU seconds per second, unit "short", "(cores)" in
the title); rates use $__rate_interval; per-sandbox selectors carry instance,
namespace and pod (+ sandbox_id / container where the view has those variables).
RuntimeClass: only gvisor_sandbox_info carries runtime_class (from the CRI mapping:
the pod's runtime handler through --runtime.classes or the Kubernetes API; ""
when CRI is off). Every dashboard has a `runtimeclass` variable (after instance;
namespace, pod and sandbox are listed from gvisor_sandbox_info filtered by it),
and every per-sandbox series is restricted to it with
`and on (cluster, job, instance, sandbox_id) gvisor_sandbox_info{..., runtime_class=~"$runtimeclass"}`
(in_rc()); its "All" value .* also matches "", so nodes without CRI show
everything. The RuntimeClass panels group by it with `* on (cluster, job, instance, sandbox_id)
group_left (runtime_class)`. Node-level series (NODE) are not filtered.

Cluster and job: every selector (targets and variable queries, SCOPE) starts with
`cluster=~"$cluster", job=~"$job"`; joins match on (cluster, job, instance,
sandbox_id) (JOIN). `job` lists the jobs scraping the exporter (multi-value,
default gvisor-exporter: the ServiceMonitor/PodMonitor's job, what the alerts
expect). `cluster` lists the `cluster` label values (an external label of each
Prometheus, as kube-prometheus' multi-cluster setup adds them); unlike
kubernetes-mixin (`cluster="$cluster"`, hidden unless showMultiCluster is set at
generation time) it is always shown, includes All and matches with =~ and
allValue .*: on a Prometheus without a cluster label the list is empty, All (.*)
matches the absent (empty) label, so one JSON serves single- and multi-cluster
setups without regeneration.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DS = {"type": "prometheus", "uid": "${datasource}"}
TAGS = ["gvisor", "gvisor-exporter"]

# Selectors (Grafana substitutes the variables; multi-value variables as regex).
SCOPE = 'cluster=~"$cluster", job=~"$job"'   # every selector: the chosen cluster(s) and scrape job(s)
NODE = SCOPE + ', instance=~"$instance"'
JOIN = "cluster, job, instance, sandbox_id"   # one sandbox's series (absent labels match as empty)
DEFAULT_JOB = "gvisor-exporter"               # the ServiceMonitor/PodMonitor's job (deploy/kubernetes)
POD = NODE + ', namespace=~"$namespace", pod=~"$pod"'
SANDBOX = POD + ', sandbox_id=~"$sandbox"'
CONTAINER = POD + ', container=~"$container"'
RI = "$__rate_interval"
RC = 'runtime_class=~"$runtimeclass"'
RC_INFO = f"gvisor_sandbox_info{{{POD}, {RC}}}"   # the selected pods of the selected RuntimeClass


def in_rc(vector):
    """Restricts a per-sandbox instant vector (with instance and sandbox_id) to the
    sandboxes of the selected RuntimeClass; keeps its labels. `and` binds looser
    than comparisons and arithmetic, so `x == 1` may be passed; use the result as
    a whole expression or inside parentheses."""
    return f"{vector} and on ({JOIN}) {RC_INFO}"


def sel(metric, s, cmp=""):
    """metric{s} (+ a comparison such as " == 1") restricted to the selected RuntimeClass."""
    return in_rc(f"{metric}{{{s}}}{cmp}")


def rate(metric, s):
    """rate(metric{s}[$__rate_interval]) of per-sandbox series, restricted to the
    selected RuntimeClass (node-level series: node_rate)."""
    return in_rc(f"rate({metric}{{{s}}}[{RI}])")


def node_rate(metric):
    """rate() of a node-level series (no sandbox_id): not filtered by RuntimeClass."""
    return f"rate({metric}{{{NODE}}}[{RI}])"


class Builder:
    """Lays panels out on Grafana's 24-column grid, row by row, with unique ids."""

    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.x = 0
        self.y = 0
        self.row_h = 0

    def _id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def row(self, title):
        self._newline()
        self.panels.append({"collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
                            "id": self._id(), "panels": [], "title": title, "type": "row"})
        self.y += 1

    def _newline(self):
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0

    def _place(self, w, h):
        if self.x + w > 24:
            self._newline()
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def panel(self, kind, title, description, unit, targets, w=12, h=8, options=None,
              custom=None, defaults=None, overrides=None, transformations=None):
        tgts = []
        for i, t in enumerate(targets):
            if isinstance(t, str):
                t = {"expr": t}
            t = dict(t)
            tgt = {"datasource": DS, "editorMode": "code", "expr": t.pop("expr"),
                   "refId": chr(ord("A") + i)}
            fmt = t.pop("format", "table" if kind == "table" else "time_series")
            instant = t.pop("instant", kind in ("table", "bargauge"))
            tgt.update({"format": fmt, "instant": instant, "range": not instant,
                        "legendFormat": t.pop("legend", "__auto")})
            if t:
                raise ValueError(f"unknown target keys {t}")
            tgts.append(tgt)
        fd = {"unit": unit}
        if custom is not None:
            fd["custom"] = custom
        elif kind == "timeseries":
            fd["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                            "showPoints": "never", "spanNulls": False,
                            "stacking": {"mode": "none", "group": "A"}}
        fd.update(defaults or {})
        p = {"datasource": DS, "description": description,
             "fieldConfig": {"defaults": fd, "overrides": overrides or []},
             "gridPos": self._place(w, h), "id": self._id(), "options": options or _options(kind),
             "targets": tgts, "title": title, "type": kind}
        if transformations:
            p["transformations"] = transformations
        self.panels.append(p)
        return p


def _options(kind):
    if kind == "timeseries":
        return {"legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table",
                           "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "desc"}}
    if kind == "stat":
        return {"colorMode": "value", "graphMode": "area", "justifyMode": "auto",
                "orientation": "auto", "textMode": "auto",
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if kind == "bargauge":
        return {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                "valueMode": "color", "namePlacement": "auto", "sizing": "auto",
                "minVizHeight": 16, "minVizWidth": 8, "maxVizHeight": 300,
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if kind == "table":
        return {"cellHeight": "sm", "showHeader": True, "footer": {"show": False, "reducer": ["sum"]}}
    if kind == "state-timeline":
        return {"showValue": "never", "mergeValues": True, "alignValue": "left", "rowHeight": 0.9,
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "single", "sort": "none"}}
    raise ValueError(kind)


def stacked():
    return {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 40, "showPoints": "never",
            "spanNulls": False, "stacking": {"mode": "normal", "group": "A"}}


def hide_columns(*names):
    """Table transformation: hide Time and the given columns (e.g. Value of _info series)."""
    return [{"id": "organize", "options": {"excludeByName": {n: True for n in ("Time", "__name__", "job") + names},
                                           "indexByName": {}, "renameByName": {}}}]


def variable_query(name, label, query, multi=True, default=None):
    current = {"selected": True, "text": ["All"], "value": ["$__all"]} if multi else {}
    if default is not None:
        current = {"selected": True, "text": [default], "value": [default]}
    return {"current": current, "datasource": DS, "hide": 0,
            "includeAll": multi, "allValue": ".*" if multi else None, "label": label,
            "multi": multi, "name": name, "options": [],
            "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "regex": "", "skipUrlSync": False, "sort": 1, "type": "query"}


def variables(*names):
    out = [{"current": {"selected": False, "text": "default", "value": "default"}, "hide": 0,
            "includeAll": False, "label": "Data source", "multi": False,
            "name": "datasource", "options": [], "query": "prometheus", "refresh": 1, "regex": "",
            "skipUrlSync": False, "type": "datasource"}]
    # Each one filtered by the ones before it (cluster, job, instance, runtimeclass, namespace, pod).
    q = {
        "instance": ("Node (instance)", f"label_values(gvisor_exporter_build_info{{{SCOPE}}}, instance)"),
        "runtimeclass": ("RuntimeClass", f"label_values(gvisor_sandbox_info{{{NODE}}}, runtime_class)"),
        "namespace": ("Namespace", f"label_values(gvisor_sandbox_info{{{NODE}, {RC}}}, namespace)"),
        "pod": ("Pod", f'label_values(gvisor_sandbox_info{{{NODE}, {RC}, namespace=~"$namespace"}}, pod)'),
        "sandbox": ("Sandbox", f"label_values({RC_INFO}, sandbox_id)"),
        # gvisor_container_info has no runtime_class; $pod is already filtered by it.
        "container": ("Container", "label_values(gvisor_container_info{" + POD + "}, container)"),
    }
    # Cluster: empty list and All (.*) without a cluster label, see the module docstring.
    out.append(variable_query("cluster", "Cluster", "label_values(gvisor_exporter_build_info, cluster)"))
    out.append(variable_query("job", "Job", 'label_values(gvisor_exporter_build_info{cluster=~"$cluster"}, job)',
                              default=DEFAULT_JOB))
    for n in names:
        out.append(variable_query(n, *q[n]))
    return out


def dashboard(uid, title, description, panels, templating):
    return {
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                  "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                  "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"asDropdown": False, "icon": "external link", "includeVars": True, "keepTime": True,
                   "tags": ["gvisor-exporter"], "targetBlank": False, "title": "gVisor dashboards",
                   "tooltip": "", "type": "dashboards", "url": ""}],
        "liveNow": False,
        "panels": panels,
        "refresh": "30s",
        "schemaVersion": 39,
        "tags": TAGS,
        "templating": {"list": templating},
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


def cpu_overhead(by, sel):
    return (f"sum by ({by}) ({rate('gvisor_sandbox_cgroup_cpu_usage_seconds_total', sel)})\n"
            f"- sum by ({by}) ({rate('gvisor_sandbox_cpu_seconds_total', sel)})")


# --------------------------------------------------------------------------- node overview
def node_overview():
    b = Builder()
    b.row("Sandboxes")
    b.panel("stat", "Running sandboxes", "Running gVisor sandboxes (pods) on the selected nodes, over all runsc roots.",
            "short", [f"sum(gvisor_sandboxes{{{NODE}}})"], w=4, h=4)
    b.panel("stat", "Memory overhead (total)",
            "gVisor's memory overhead of the selected pods: host PSS of sentry, gofers and stubs minus in-sandbox memory.",
            "bytes", [f"sum({sel('gvisor_sandbox_memory_overhead_bytes', POD)})"], w=5, h=4)
    b.panel("stat", "Host memory of sandboxes (PSS)",
            "Sum of PSS over every host process of the selected sandboxes.",
            "bytes", [f"sum({sel('gvisor_sandbox_host_memory_pss_bytes', POD)})"], w=5, h=4)
    b.panel("stat", "CPU overhead (cores)",
            "Host CPU of the selected sandboxes' cgroups minus the CPU their applications used inside the sandbox.",
            "short", [cpu_overhead("instance", POD).replace("sum by (instance) ", "sum ")], w=5, h=4)
    b.panel("stat", "Oldest snapshot", "Age of the oldest snapshot served by the selected exporters (normally below one poll interval).",
            "s", [f"max(gvisor_exporter_snapshot_age_seconds{{{NODE}}})"], w=5, h=4,
            defaults={"thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                                 {"color": "red", "value": 60}]}})
    b.panel("timeseries", "Sandboxes per runsc root",
            "Running sandboxes found under each runsc root (k8s.io = Kubernetes; other containerd namespaces are separate roots).",
            "short", [{"expr": f"sum by (instance, root) (gvisor_sandboxes{{{NODE}}})", "legend": "{{instance}} {{root}}"}],
            w=8, custom=stacked())
    b.panel("timeseries", "Sandboxes per platform",
            "Sandboxes by runsc platform (ptrace, systrap, kvm).",
            "short", [{"expr": f"count by (platform) ({sel('gvisor_sandbox_platform_info', POD)})", "legend": "{{platform}}"}],
            w=8, custom=stacked())
    b.panel("timeseries", "Sandboxes per RuntimeClass",
            "Running sandboxes by the RuntimeClass of their pod (from the CRI runtime handler and --runtime.classes; "
            "empty when the exporter has no CRI endpoint).",
            "short", [{"expr": f"count by (runtime_class) ({RC_INFO})", "legend": "{{runtime_class}}"}],
            w=8, custom=stacked())
    b.panel("timeseries", "Memory overhead per RuntimeClass",
            "Sum of the pods' memory overhead (host PSS minus in-sandbox memory) by RuntimeClass; compare with the "
            "RuntimeClass's declared overhead.podFixed times its pod count.",
            "bytes", [{"expr": f"sum by (runtime_class) (gvisor_sandbox_memory_overhead_bytes{{{POD}}}\n"
                               f"  * on ({JOIN}) group_left (runtime_class) {RC_INFO})",
                       "legend": "{{runtime_class}}"}], w=8)
    b.panel("stat", "Unsandboxed pods in sandboxed namespaces",
            "Ready pods in the exporter's --policy.sandboxed-namespaces that do not run under gVisor (from the CRI "
            "runtime; 0 when none, or when the policy or CRI is not configured). Should always be 0.",
            "short", [f"sum(gvisor_policy_unsandboxed_pods{{{NODE}}}) or on () vector(0)"], w=8, h=8,
            defaults={"thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None},
                                                                 {"color": "red", "value": 1}]}})
    b.panel("bargauge", "Sandboxes per network mode and stats path",
            "Sandboxes by network mode (none/host/sandbox) and by the path that served their in-sandbox stats at the last poll "
            "(control_socket is the cheap one; cli is the fallback; none means no stats).",
            "short", [{"expr": f"count by (network) ({sel('gvisor_sandbox_platform_info', POD)})", "legend": "network {{network}}"},
                      {"expr": f"count by (path) ({sel('gvisor_sandbox_stats_path_info', POD, ' == 1')})", "legend": "stats via {{path}}"}],
            w=8)

    b.row("Memory overhead")
    b.panel("timeseries", "Node memory: host vs in-sandbox",
            "Per node: host PSS of all sandboxes, what the sentries account inside them, and the overhead (PSS-based and cgroup-based).",
            "bytes", [
                {"expr": f"sum by (instance) ({sel('gvisor_sandbox_host_memory_pss_bytes', POD)})", "legend": "{{instance}} host PSS"},
                {"expr": f"sum by (instance) ({sel('gvisor_sandbox_memory_total_bytes', POD)})", "legend": "{{instance}} in-sandbox"},
                {"expr": f"sum by (instance) ({sel('gvisor_sandbox_memory_overhead_bytes', POD)})", "legend": "{{instance}} overhead (PSS)"},
                {"expr": f"sum by (instance) ({sel('gvisor_sandbox_memory_overhead_cgroup_bytes', POD)})",
                 "legend": "{{instance}} overhead (cgroup)"}])
    b.panel("timeseries", "Memory overhead per pod",
            "gVisor's memory overhead of each pod (host PSS minus in-sandbox memory). An idle sandbox needs about 15-20 MiB.",
            "bytes", [{"expr": f"sum by (namespace, pod) ({sel('gvisor_sandbox_memory_overhead_bytes', POD)})",
                       "legend": "{{namespace}}/{{pod}}"}])
    b.panel("bargauge", "Top 10 pods by memory overhead", "Pods with the largest gVisor memory overhead now.",
            "bytes", [{"expr": f"topk(10, sum by (namespace, pod) ({sel('gvisor_sandbox_memory_overhead_bytes', POD)}))",
                       "legend": "{{namespace}}/{{pod}}"}], w=8)
    b.panel("bargauge", "Memory overhead per namespace", "Sum of the pods' memory overhead per namespace.",
            "bytes", [{"expr": f"sum by (namespace) ({sel('gvisor_sandbox_memory_overhead_bytes', POD)})",
                       "legend": "{{namespace}}"}], w=8)
    b.panel("table", "Pods by overhead", "Every selected pod: memory overhead, host PSS and in-sandbox memory (now).",
            "bytes", [
                {"expr": f"sum by (namespace, pod) ({sel('gvisor_sandbox_memory_overhead_bytes', POD)})"},
                {"expr": f"sum by (namespace, pod) ({sel('gvisor_sandbox_host_memory_pss_bytes', POD)})"},
                {"expr": f"sum by (namespace, pod) ({sel('gvisor_sandbox_memory_total_bytes', POD)})"}],
            w=8, transformations=[{"id": "merge", "options": {}}] + hide_columns() + [
                {"id": "organize", "options": {"renameByName": {"Value #A": "overhead", "Value #B": "host PSS",
                                                                "Value #C": "in-sandbox"}}},
                {"id": "sortBy", "options": {"sort": [{"field": "overhead", "desc": True}]}}])

    b.row("CPU overhead")
    b.panel("timeseries", "Node CPU: host vs in-sandbox (cores)",
            "Per node: CPU charged to the sandboxes' host cgroups, CPU their applications used inside the sandboxes "
            "(sentry accounting), and the difference (gVisor's CPU overhead).",
            "short", [
                {"expr": f"sum by (instance) ({rate('gvisor_sandbox_cgroup_cpu_usage_seconds_total', POD)})",
                 "legend": "{{instance}} host cgroup"},
                {"expr": f"sum by (instance) ({rate('gvisor_sandbox_cpu_seconds_total', POD)})",
                 "legend": "{{instance}} in-sandbox"},
                {"expr": cpu_overhead("instance", POD), "legend": "{{instance}} overhead"}])
    b.panel("timeseries", "CPU overhead per pod (cores)",
            "rate(gvisor_sandbox_cgroup_cpu_usage_seconds_total) - rate(gvisor_sandbox_cpu_seconds_total) per pod. "
            "Can be slightly negative (the sentry accounts in 10 ms ticks).",
            "short", [{"expr": cpu_overhead("namespace, pod", POD), "legend": "{{namespace}}/{{pod}}"}])
    b.panel("bargauge", "Top 10 pods by CPU overhead (cores)", "Pods with the largest gVisor CPU overhead now.",
            "short", [{"expr": f"topk(10, {cpu_overhead('namespace, pod', POD)})", "legend": "{{namespace}}/{{pod}}"}], w=12)
    b.panel("timeseries", "CPU overhead share per pod",
            "Share of each pod's host CPU that is gVisor overhead (about 100% for an idle sandbox). Absent while the cgroup uses no CPU.",
            "percentunit", [{"expr": f"({cpu_overhead('namespace, pod', POD)})\n/ (sum by (namespace, pod) "
                                     f"({rate('gvisor_sandbox_cgroup_cpu_usage_seconds_total', POD)}) > 0)",
                             "legend": "{{namespace}}/{{pod}}"}], w=12)

    b.row("Exporter health")
    b.panel("state-timeline", "Collector success",
            "1 when the source worked for every sandbox at the last poll; 0 when it failed for at least one "
            "(see errors below and docs/runbooks.md).",
            "bool", [{"expr": f"min by (instance, collector) (gvisor_exporter_collector_success{{{NODE}}})",
                      "legend": "{{instance}} {{collector}}"}],
            custom={"fillOpacity": 70, "lineWidth": 0},
            defaults={"mappings": [{"type": "value", "options": {"0": {"text": "failing", "color": "red", "index": 0},
                                                                 "1": {"text": "ok", "color": "green", "index": 1}}}],
                      "color": {"mode": "thresholds"},
                      "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                                   {"color": "green", "value": 1}]}})
    b.panel("timeseries", "Collector duration", "Time each source took during the last poll (summed over sandboxes), "
            "and the wall time of the whole poll.", "s", [
                {"expr": f"max by (instance, collector) (gvisor_exporter_collector_duration_seconds{{{NODE}}})",
                 "legend": "{{instance}} {{collector}}"},
                {"expr": f"max by (instance) (gvisor_exporter_poll_duration_seconds{{{NODE}}})",
                 "legend": "{{instance}} whole poll"}])
    b.panel("timeseries", "Errors by source and reason",
            "Errors met while reading sources. not_found is routine (a sandbox went away mid-poll); others have runbooks.",
            "cps", [{"expr": f"sum by (instance, source, reason) ({node_rate('gvisor_exporter_errors_total')})",
                     "legend": "{{instance}} {{source}}/{{reason}}"}], w=8)
    b.panel("timeseries", "Snapshot age", "Seconds since the served snapshot was taken; alert GVisorExporterSnapshotStale at 60 s.",
            "s", [{"expr": f"max by (instance) (gvisor_exporter_snapshot_age_seconds{{{NODE}}})", "legend": "{{instance}}"}],
            w=8)
    b.panel("timeseries", "Polls and suppressed log lines", "Polls completed per second, and error log lines dropped by the rate limit.",
            "cps", [{"expr": f"sum by (instance) ({node_rate('gvisor_exporter_polls_total')})", "legend": "{{instance}} polls"},
                    {"expr": f"sum by (instance) ({node_rate('gvisor_exporter_log_messages_suppressed_total')})",
                     "legend": "{{instance}} suppressed log lines"}], w=8)
    b.panel("table", "Exporter and runsc versions, KVM",
            "Exporter build, the runsc binary it found (version empty: runsc missing), and whether /dev/kvm is usable.",
            "none", [{"expr": f"gvisor_exporter_build_info{{{NODE}}}"},
                     {"expr": f"gvisor_runsc_info{{{NODE}}}"},
                     {"expr": f"gvisor_node_kvm_usable{{{NODE}}}"}], w=24, h=6,
            transformations=[{"id": "merge", "options": {}}] + hide_columns("Value #A", "Value #B") + [
                {"id": "organize", "options": {"renameByName": {"Value #C": "kvm usable", "version": "version"}}}])
    return dashboard("gvisor-node-overview", "gVisor / Node overview",
                     "gVisor sandboxes on the selected nodes: counts by root and platform, memory and CPU overhead, "
                     "top pods, exporter health. Data: gvisor-exporter.",
                     b.panels, variables("instance", "runtimeclass", "namespace", "pod"))


# --------------------------------------------------------------------------- pod / sandbox view
def pod_view():
    b = Builder()
    S = SANDBOX
    by = "namespace, pod"
    b.row("Sandbox")
    b.panel("stat", "In-sandbox memory", "Memory the sentry accounts to the application (runsc usage Total).", "bytes",
            [f"sum({sel('gvisor_sandbox_memory_total_bytes', S)})"], w=4, h=4)
    b.panel("stat", "Host memory (PSS)", "PSS of the sandbox's sentry, gofers and stubs.", "bytes",
            [f"sum({sel('gvisor_sandbox_host_memory_pss_bytes', S)})"], w=4, h=4)
    b.panel("stat", "Memory overhead", "Host PSS minus in-sandbox memory.", "bytes",
            [f"sum({sel('gvisor_sandbox_memory_overhead_bytes', S)})"], w=4, h=4)
    b.panel("stat", "Host cgroup memory", "Memory charged to the sandbox's host cgroup (what the kernel charges the pod).", "bytes",
            [f"sum({sel('gvisor_sandbox_cgroup_memory_usage_bytes', S)})"], w=4, h=4)
    b.panel("stat", "Tasks in sandbox", "Threads running inside the sandbox, as counted by the sentry.", "short",
            [f"sum({sel('gvisor_sandbox_pids', S)})"], w=4, h=4)
    b.panel("stat", "Poll time", "Wall time the exporter spent reading this sandbox at its last poll.", "s",
            [f"max({sel('gvisor_sandbox_poll_duration_seconds', S)})"], w=4, h=4)
    b.panel("table", "Platform and configuration",
            "How the sandbox runs (from the sentry command line or runsc metadata), which path served its stats, and "
            "its pod's RuntimeClass and runtime handler (from CRI; empty without a CRI endpoint).",
            "none", [{"expr": sel('gvisor_sandbox_platform_info', S)},
                     {"expr": sel('gvisor_sandbox_stats_path_info', S, ' == 1')},
                     {"expr": f"gvisor_sandbox_info{{{S}, {RC}}}"}],
            w=24, h=5, transformations=[{"id": "merge", "options": {}}] + hide_columns("Value #A", "Value #B", "Value #C"))
    b.panel("table", "Containers", "Containers of the sandbox (the pause container has container=\"\").", "none",
            [{"expr": sel('gvisor_container_info', S)}], w=24, h=5, transformations=hide_columns("Value"))

    b.row("Memory")
    b.panel("timeseries", "In-sandbox vs host memory",
            "What the sentry accounts inside the sandbox, against the host's view: PSS of its processes, the host cgroup's "
            "usage and working set. The gap is gVisor's overhead.",
            "bytes", [
                {"expr": f"sum by ({by}) ({sel('gvisor_sandbox_memory_total_bytes', S)})", "legend": "{{pod}} in-sandbox"},
                {"expr": f"sum by ({by}) ({sel('gvisor_sandbox_host_memory_pss_bytes', S)})", "legend": "{{pod}} host PSS"},
                {"expr": f"sum by ({by}) ({sel('gvisor_sandbox_cgroup_memory_usage_bytes', S)})", "legend": "{{pod}} host cgroup usage"},
                {"expr": f"sum by ({by}) ({sel('gvisor_sandbox_cgroup_memory_working_set_bytes', S)})",
                 "legend": "{{pod}} host cgroup working set"}])
    b.panel("timeseries", "In-sandbox memory by category",
            "The sentry's memory categories (they add up to the in-sandbox total). Needs --collector.memory.full (default).",
            "bytes", [{"expr": f"sum by (category) ({sel('gvisor_sandbox_memory_bytes', S)})", "legend": "{{category}}"}],
            custom=stacked())
    b.panel("timeseries", "Host PSS by role", "PSS of the sandbox's host processes: sentry, gofers, platform stubs, helpers.",
            "bytes", [{"expr": f"sum by (role) ({sel('gvisor_sandbox_host_memory_pss_bytes', S)})", "legend": "{{role}}"}],
            w=8, custom=stacked())
    b.panel("timeseries", "Host RSS by role", "RSS of the host processes by role (double counts shared pages; prefer PSS).",
            "bytes", [{"expr": f"sum by (role) ({sel('gvisor_sandbox_host_memory_rss_bytes', S)})", "legend": "{{role}}"}], w=8)
    b.panel("timeseries", "Host cgroup memory.stat",
            "Selected memory.stat entries of the sandbox's host cgroup. Application memory lives in a memfd: it shows as shmem.",
            "bytes", [{"expr": f"sum by (type) ({sel('gvisor_sandbox_cgroup_memory_stat_bytes', S)})", "legend": "{{type}}"}], w=8)

    b.row("CPU")
    b.panel("timeseries", "CPU: in-sandbox vs host vs cgroup (cores)",
            "CPU the sentry accounts to the application, CPU of the sandbox's host processes, and CPU charged to its host cgroup.",
            "short", [
                {"expr": f"sum by ({by}) ({rate('gvisor_sandbox_cpu_seconds_total', S)})", "legend": "{{pod}} in-sandbox"},
                {"expr": f"sum by ({by}) ({rate('gvisor_sandbox_host_cpu_seconds_total', S)})", "legend": "{{pod}} host processes"},
                {"expr": f"sum by ({by}) ({rate('gvisor_sandbox_cgroup_cpu_usage_seconds_total', S)})",
                 "legend": "{{pod}} host cgroup"}])
    b.panel("timeseries", "CPU per container (cores)",
            "In-sandbox CPU of each container (sentry accounting, 10 ms granularity; absent when stats came from the CLI fallback).",
            "short", [{"expr": f"sum by (container) ({rate('gvisor_container_cpu_seconds_total', S)})",
                       "legend": "{{container}}"}], custom=stacked())
    b.panel("timeseries", "Host CPU by role and mode (cores)", "CPU of the sandbox's host processes by role and user/system.",
            "short", [{"expr": f"sum by (role, mode) ({rate('gvisor_sandbox_host_cpu_seconds_total', S)})",
                       "legend": "{{role}} {{mode}}"}], custom=stacked())
    b.panel("timeseries", "Host cgroup CPU by mode (cores)", "CPU charged to the sandbox's host cgroup, user and system.",
            "short", [{"expr": f"sum by (mode) ({rate('gvisor_sandbox_cgroup_cpu_seconds_total', S)})",
                       "legend": "{{mode}}"}], custom=stacked())

    b.row("Overhead over time")
    b.panel("timeseries", "Memory overhead", "Host memory minus in-sandbox memory, measured with PSS and with the host cgroup.",
            "bytes", [{"expr": f"sum by ({by}) ({sel('gvisor_sandbox_memory_overhead_bytes', S)})", "legend": "{{pod}} (PSS)"},
                      {"expr": f"sum by ({by}) ({sel('gvisor_sandbox_memory_overhead_cgroup_bytes', S)})", "legend": "{{pod}} (cgroup)"}],
            w=8)
    b.panel("timeseries", "CPU overhead (cores)", "Host cgroup CPU minus in-sandbox CPU.",
            "short", [{"expr": cpu_overhead(by, S), "legend": "{{pod}}"}], w=8)
    b.panel("timeseries", "CPU overhead share", "Share of the sandbox's host CPU that is gVisor overhead.",
            "percentunit", [{"expr": f"({cpu_overhead(by, S)})\n/ (sum by ({by}) "
                                     f"({rate('gvisor_sandbox_cgroup_cpu_usage_seconds_total', S)}) > 0)",
                             "legend": "{{pod}}"}], w=8)

    b.row("Host processes")
    b.panel("timeseries", "Host processes by role", "Sentry, gofers (one per container), platform stubs and short-lived helpers.",
            "short", [{"expr": f"sum by (role) ({sel('gvisor_sandbox_host_processes', S)})", "legend": "{{role}}"}], w=6)
    b.panel("timeseries", "Host threads by role", "Threads of the sandbox's host processes.",
            "short", [{"expr": f"sum by (role) ({sel('gvisor_sandbox_host_threads', S)})", "legend": "{{role}}"}], w=6)
    b.panel("timeseries", "Context switches", "Context switches per second of the host processes by role and type. "
            "On ptrace, about one voluntary switch per application syscall on each side.",
            "cps", [{"expr": f"sum by (role, type) ({rate('gvisor_sandbox_host_context_switches_total', S)})",
                     "legend": "{{role}} {{type}}"}], w=6)
    b.panel("timeseries", "Page faults", "Page faults per second of the host processes by role and type (minor, major).",
            "cps", [{"expr": f"sum by (role, type) ({rate('gvisor_sandbox_host_page_faults_total', S)})",
                     "legend": "{{role}} {{type}}"}], w=6)
    return dashboard("gvisor-sandbox", "gVisor / Pod (sandbox)",
                     "One gVisor sandbox (pod) in depth: in-sandbox vs host memory and CPU, memory categories, PSS by role, "
                     "overhead over time, host processes, context switches, page faults. Data: gvisor-exporter.",
                     b.panels, variables("instance", "runtimeclass", "namespace", "pod", "sandbox"))


# --------------------------------------------------------------------------- syscalls
def syscalls():
    b = Builder()
    C = CONTAINER
    calls = "gvisor_container_syscalls_total"
    errs = "gvisor_container_syscall_errors_total"
    unimpl = "gvisor_container_syscalls_unimplemented_total"
    drops = "gvisor_sandbox_syscall_events_dropped_total"
    state = "gvisor_sandbox_syscall_session_state"
    unimpl_range = in_rc(f"increase({unimpl}{{{C}}}[$__range])")
    active = sel(state, POD + ', state="active"', " == 1")
    b.row("Overview")
    b.panel("stat", "Syscalls", "System calls per second of the selected containers (counted from trace-session enter events).",
            "ops", [f"sum({rate(calls, C)})"], w=5, h=4)
    b.panel("stat", "Failing syscalls", "System calls per second that returned an error.", "ops",
            [f"sum({rate(errs, C)})"], w=5, h=4)
    b.panel("stat", "Unimplemented syscalls in range", "Calls of system calls gVisor does not implement, over the time range.",
            "short", [f"sum({unimpl_range})"], w=5, h=4)
    b.panel("stat", "Dropped trace events", "Trace events the sandboxes dropped per second (the consumer was too slow). "
            "Counts are then too low.", "cps", [f"sum({rate(drops, POD)})"], w=5, h=4)
    b.panel("stat", "Sandboxes with an active session", "Sandboxes whose syscall statistics come from the exporter's trace session.",
            "short", [f"count({active})"], w=4, h=4)

    b.row("Top syscalls")
    b.panel("bargauge", "Top 15 syscalls", "Most frequent system calls now.", "ops",
            [{"expr": f"topk(15, sum by (syscall) ({rate(calls, C)}))", "legend": "{{syscall}}"}], w=8, h=10)
    b.panel("timeseries", "Top 10 syscalls over time", "Rate of the most frequent system calls.", "ops",
            [{"expr": f"topk(10, sum by (syscall) ({rate(calls, C)}))", "legend": "{{syscall}}"}], w=16, h=10)
    b.panel("timeseries", "Syscalls per container", "System calls per second of each container.", "ops",
            [{"expr": f"sum by (namespace, pod, container) ({rate(calls, C)})",
              "legend": "{{namespace}}/{{pod}} {{container}}"}], w=24)

    b.row("Errors")
    b.panel("bargauge", "Top 15 failing syscalls by errno", "System calls returning errors, by errno.", "ops",
            [{"expr": f"topk(15, sum by (syscall, errno) ({rate(errs, C)}))", "legend": "{{syscall}} {{errno}}"}],
            w=8, h=10)
    b.panel("timeseries", "Error share per syscall", "Failing calls / all calls, per system call.", "percentunit",
            [{"expr": f"sum by (syscall) ({rate(errs, C)})\n/ (sum by (syscall) ({rate(calls, C)}) > 0)",
              "legend": "{{syscall}}"}], w=8, h=10)
    b.panel("timeseries", "Errors by errno", "Failing calls per second by errno.", "ops",
            [{"expr": f"sum by (errno) ({rate(errs, C)})", "legend": "{{errno}}"}], w=8, h=10)

    b.row("Unimplemented syscalls")
    b.panel("table", "Unimplemented syscalls hit (time range)",
            "Which containers called system calls gVisor does not implement, and how often, over the time range. "
            "Such calls fail with ENOSYS inside the sandbox; the application may behave differently than on runc.",
            "short", [{"expr": f"sum by (namespace, pod, container, syscall) ({unimpl_range})"}],
            w=12, transformations=hide_columns())
    b.panel("timeseries", "Unimplemented syscalls over time", "Calls per second of unimplemented system calls.", "ops",
            [{"expr": f"sum by (syscall) ({rate(unimpl, C)})", "legend": "{{syscall}}"}], w=12)

    b.row("Trace sessions and drops")
    b.panel("table", "Trace session per sandbox",
            "State of each sandbox's syscall trace session: active (the exporter's), foreign (another consumer's session "
            "exists; the exporter does not displace it), error.",
            "none", [{"expr": sel(state, POD, " == 1")}], w=12, transformations=hide_columns("Value"))
    b.panel("timeseries", "Sessions by state", "Sandboxes per trace-session state.", "short",
            [{"expr": f"count by (state) ({sel(state, POD, ' == 1')})", "legend": "{{state}}"}], w=6, custom=stacked())
    b.panel("timeseries", "Dropped trace events per pod", "Events dropped per second by each sandbox's sink.", "cps",
            [{"expr": f"sum by (namespace, pod) ({rate(drops, POD)})", "legend": "{{namespace}}/{{pod}}"}], w=6)
    return dashboard("gvisor-syscalls", "gVisor / Syscalls",
                     "Per-container system call statistics from gVisor trace sessions (opt-in per pod or namespace): top "
                     "syscalls, errors, unimplemented syscalls, dropped events. Data: gvisor-exporter.",
                     b.panels, variables("instance", "runtimeclass", "namespace", "pod", "container"))


DASHBOARDS = {
    "gvisor-node-overview.json": node_overview,
    "gvisor-pod.json": pod_view,
    "gvisor-syscalls.json": syscalls,
}


def render(fn):
    return json.dumps(fn(), indent=2, sort_keys=False) + "\n"


# ConfigMaps for the Grafana sidecar ---------------------------------------------------
CM_DIR = os.path.join(os.path.dirname(HERE), "deploy", "kubernetes", "dashboards")
CM_NAMESPACE = "gvisor-exporter"
CM_LABEL = ("grafana_dashboard", "1")          # kube-prometheus-stack's sidecar.dashboards.label / labelValue
CM_FOLDER = ("grafana_folder", "gVisor")       # honoured with sidecar.dashboards.folderAnnotation: grafana_folder
GENERATED = "# Generated by dashboards/make-dashboards.py from dashboards/{src}: do not edit.\n"


def configmap_name(json_name):
    return "gvisor-exporter-dashboard-" + json_name[len("gvisor-"):-len(".json")]


def render_configmap(json_name, text):
    """A ConfigMap holding one dashboard's JSON (a YAML literal block: the JSON text verbatim)."""
    body = "".join("    " + line + "\n" for line in text.splitlines())
    return (GENERATED.format(src=json_name) +
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
            f"  name: {configmap_name(json_name)}\n  namespace: {CM_NAMESPACE}\n"
            "  labels:\n    app.kubernetes.io/name: gvisor-exporter\n    app.kubernetes.io/component: dashboards\n"
            f'    {CM_LABEL[0]}: "{CM_LABEL[1]}"\n'
            f"  annotations:\n    {CM_FOLDER[0]}: {CM_FOLDER[1]}\n"
            f"data:\n  {json_name}: |\n{body}")


def render_kustomization():
    files = "".join(f"  - {configmap_name(n)}.yaml\n" for n in DASHBOARDS)
    return (GENERATED.format(src="*.json") +
            "# The dashboards as ConfigMaps for Grafana's dashboard sidecar (kube-prometheus-stack:\n"
            "# sidecar.dashboards.enabled, label grafana_dashboard=1). The sidecar only looks in Grafana's\n"
            "# own namespace unless sidecar.dashboards.searchNamespace is ALL (or lists gvisor-exporter);\n"
            "# otherwise set this namespace to Grafana's. Guide: docs/deploy.md.\n"
            "#   kubectl apply -k deploy/kubernetes/dashboards\n"
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            f"namespace: {CM_NAMESPACE}\nresources:\n{files}")


def outputs():
    """{path: text} of every generated file."""
    out = {}
    for name, fn in DASHBOARDS.items():
        text = render(fn)
        out[os.path.join(HERE, name)] = text
        out[os.path.join(CM_DIR, configmap_name(name) + ".yaml")] = render_configmap(name, text)
    out[os.path.join(CM_DIR, "kustomization.yaml")] = render_kustomization()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    bad = 0
    for path, text in outputs().items():
        if args.check:
            try:
                with open(path) as f:
                    cur = f.read()
            except FileNotFoundError:
                cur = None
            if cur != text:
                print(f"{path}: differs from make-dashboards.py output; rerun dashboards/make-dashboards.py")
                bad = 1
            else:
                print(f"{path}: up to date")
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {path}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
