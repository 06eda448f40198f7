"""End-to-end: every query of the Grafana dashboards (dashboards/*.json) on a real
Prometheus (Debian's /usr/bin/prometheus, loopback, temp dir, stopped by its PID)
scraping the real exporter every second, which watches real runsc sandboxes.

Template variables are substituted as Grafana would: $instance, $namespace, $pod,
$sandbox, $container with values of a running sandbox (regex-escaped like
Grafana's multi-value variables) and, in a second pass, with the "All" value
(.*); $__rate_interval = 10s, $__interval = 2s, $__range = 5m. Every variable query
(label_values) must return values, and every panel target must return at least
one series (instant query; range query too for time-series targets).

Part A — node overview and pod dashboards: every target MUST return data.
  The exporter's error counters only exist after an error, so a garbled state
  file in the runsc root makes the "Errors by source and reason" panel real.
Part B — syscalls dashboard: the syscall metrics are being implemented. Every
  expression must PARSE (Prometheus answers status=success, data or not); only a
  target whose metrics ALL appear in the exporter's /metrics must return data
  (so, once the exporter serves gvisor_container_syscalls_total, the call panels
  are checked for data; error/unimplemented/drop panels as soon as their
  metrics appear). The exporter traces every sandbox (--syscalls.all) when its
  --help offers that flag.
"""
import glob
import json
import os
import re
import subprocess
import time

import pytest

from gvisor_env import Exporter

try:  # the Prometheus helper may move to gvisor_env; until then it lives in the rules e2e test
    from gvisor_env import Prometheus
except ImportError:
    from test_prometheus_e2e import Prometheus

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARDS = os.path.join(REPO, "dashboards")
RULES = os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.rules.yml")
MUST_HAVE_DATA = ("gvisor-node-overview.json", "gvisor-pod.json")   # part A
PARSE_ONLY_UNTIL_EXPORTED = ("gvisor-syscalls.json",)              # part B

# Switches of the syscall-statistics feature: runsc flags for the sandboxes to trace
# (none: the exporter attaches itself), and exporter flags, used only when the binary
# has them (see syscall_exporter_args).
SYSCALL_SANDBOX_FLAGS = []


def syscall_exporter_args(exporter_bin, workdir):
    """Trace every sandbox, when the exporter under test knows how (its --help says)."""
    text = subprocess.run([exporter_bin, "--help"], capture_output=True, text=True).stdout
    if "--syscalls.all" not in text:
        return []
    return ["--syscalls.all", f"--syscalls.record-file={workdir}/dash-trace-sessions-{N}.json"]

BUILTINS = {"__rate_interval": "10s", "__interval": "2s", "__range": "5m", "__range_s": "300",
            "__interval_ms": "2000", "__range_ms": "300000"}

N = os.getpid()
BURNER, APP = f"gvdb{N}", f"gvda{N}"
APP_CTR = f"gvda{N}-c"
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


def metric_names(expr):
    """gvisor_* metric names an expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return set(re.findall(r"(?<![\w:])(gvisor_[a-z0-9_]+)(?![\w:(])", e))


@pytest.fixture(scope="module")
def sandboxes(runsc, workdir):
    runsc.run_sandbox(BURNER, pod="burner", namespace="shop", uid="uid-db", args=["/bin/sh", "-c", BURN],
                      flags=SYSCALL_SANDBOX_FLAGS)
    runsc.run_sandbox(APP, pod="app", namespace="data", uid="uid-da", flags=SYSCALL_SANDBOX_FLAGS)
    runsc.add_container(APP, APP_CTR, "web", args=["/bin/sh", "-c", BURN])
    # A garbled state file: runsc_state parse errors, so gvisor_exporter_errors_total has series.
    with open(os.path.join(runsc.root, f"garbled{N}_sandbox:garbled{N}.state"), "w") as f:
        f.write('{"id": "garbled", "sandbox": {')
    return runsc


@pytest.fixture(scope="module")
def exporter(sandboxes, exporter_bin, workdir):
    e = Exporter(exporter_bin, workdir, [f"--runsc.root={sandboxes.root}", "--runsc.root-parent=",
                                         "--poll.interval=1s", *syscall_exporter_args(exporter_bin, workdir)])
    yield e
    e.stop()


@pytest.fixture(scope="module")
def prometheus(exporter):
    """Scrapes every second; ready once it holds >= 12 s of scrapes (a 10 s rate window)."""
    t0 = time.time()
    p = Prometheus(f"127.0.0.1:{exporter.port}", [RULES])
    try:
        p.wait_ready()
        deadline = time.time() + 40
        while True:
            n = p.query('count_over_time(gvisor_exporter_polls_total[1m])')
            cpu = p.query("rate(gvisor_sandbox_cgroup_cpu_usage_seconds_total[10s]) > 0")
            if n and n[0][1] >= 12 and len(cpu) >= 2:
                break
            assert time.time() < deadline, f"scrapes={n} cpu={cpu}\n{p.logs()}\n{exporter.logs()}"
            time.sleep(0.5)
        print(f"prometheus ready with data after {time.time() - t0:.1f}s")
        yield p
    finally:
        p.stop()


def variable_values(exporter, sandbox_id, container=None):
    """Grafana variable values of one running sandbox, read from the exporter itself."""
    s = exporter.scrape()
    (labels, _), = s.select("gvisor_sandbox_info", sandbox_id=sandbox_id)
    vals = {"instance": f"127.0.0.1:{exporter.port}", "namespace": labels["namespace"],
            "pod": labels["pod"], "sandbox": sandbox_id, "datasource": "prometheus",
            "runtimeclass": labels["runtime_class"]}
    if container is not None:
        vals["container"] = container
    return vals


def all_values():
    return {k: ".*" for k in ("instance", "namespace", "pod", "sandbox", "container", "runtimeclass")}


# Variables whose values come from the CRI mapping: this test's exporter has no
# CRI endpoint (test_cri_e2e.py checks runtime_class against a real containerd),
# so their only value is "" — which label_values, like Grafana, does not list.
CRI_VARIABLES = {"runtimeclass"}


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


# ----------------------------------------------------------------------------- part A
@pytest.mark.parametrize("name", MUST_HAVE_DATA)
def test_every_panel_returns_data(name, prometheus, exporter):
    dash = dashboards([name])[name]
    one = variable_values(exporter, BURNER, container="web")
    failures, checked = [], 0
    for vals_name, vals in (("one sandbox", one), ("All", all_values())):
        for var, q in variable_queries(dash):
            got = label_values(prometheus, substitute(q, vals))
            if not got and var not in CRI_VARIABLES:
                failures.append(f"[{vals_name}] variable {var}: {q!r} returned no values")
        for p, t in targets(dash):
            expr = substitute(t["expr"], vals)
            inst, rng = run_target(prometheus, expr, range_query=not t.get("instant"))
            checked += 1
            where = f"[{vals_name}] panel {p['id']} {p['title']!r} {t['refId']}"
            if not inst:
                failures.append(f"{where}: instant query returned no series: {expr}")
            if rng is not None and not rng:
                failures.append(f"{where}: range query returned no series: {expr}")
    print(f"{name}: {checked} target queries checked")
    assert not failures, "\n".join(failures) + "\n" + exporter.logs()[-1500:]


def test_sandbox_variable_selects_only_that_sandbox(prometheus, exporter):
    """Substitution is real: the pod view with the burner's values shows the burner only."""
    dash = dashboards(["gvisor-pod.json"])["gvisor-pod.json"]
    vals = variable_values(exporter, BURNER)
    (p, t), = [(p, t) for p, t in targets(dash) if p["title"] == "In-sandbox vs host memory"
               and "memory_total_bytes" in t["expr"]]
    res = prometheus.get("/api/v1/query", query=substitute(t["expr"], vals))["result"]
    assert [r["metric"]["pod"] for r in res] == ["burner"], res
    vals = variable_values(exporter, APP)
    (p, t), = [(p, t) for p, t in targets(dash) if p["title"] == "Host processes by role"]
    res = prometheus.get("/api/v1/query", query=substitute(t["expr"], vals))["result"]
    roles = {r["metric"]["role"]: float(r["value"][1]) for r in res}
    assert roles.get("sentry") == 1 and roles.get("gofer") == 2, roles   # pause + web containers


# ----------------------------------------------------------------------------- part B
def test_syscall_dashboard_parses_and_has_data_once_exported(prometheus, exporter):
    name = PARSE_ONLY_UNTIL_EXPORTED[0]
    dash = dashboards([name])[name]
    exposed = {n for n, _, _ in exporter.scrape().samples}
    feature = "gvisor_container_syscalls_total" in exposed
    print(f"syscall metrics exported: {sorted(n for n in exposed if 'syscall' in n) or 'none yet'}")
    failures, with_data, parse_only = [], 0, 0
    for vals_name, vals in (("one sandbox", variable_values(exporter, BURNER, container="")),
                            ("All", all_values())):
        for p, t in targets(dash):
            expr = substitute(t["expr"], vals)
            where = f"[{vals_name}] panel {p['id']} {p['title']!r} {t['refId']}"
            # Parses: Prometheus.get asserts status == "success" (a bad expression is a 400).
            try:
                inst, rng = run_target(prometheus, expr, range_query=not t.get("instant"))
            except Exception as e:  # noqa: BLE001 - report every failing expression at once
                failures.append(f"{where}: Prometheus rejected the query ({e}): {expr}")
                continue
            needed = metric_names(t["expr"])
            if feature and needed <= exposed and vals_name == "All":
                # Data is required only when every metric the target reads is exported.
                with_data += 1
                if not inst or (rng is not None and not rng):
                    failures.append(f"{where}: metrics {sorted(needed)} are exported but no series: {expr}")
            else:
                parse_only += 1
    print(f"{name}: {with_data} targets checked for data, {parse_only} for parsing only")
    assert not failures, "\n".join(failures)


def test_dashboard_files_are_the_ones_checked():
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DASHBOARDS, "*.json")))
    assert names == sorted(MUST_HAVE_DATA + PARSE_ONLY_UNTIL_EXPORTED), names
