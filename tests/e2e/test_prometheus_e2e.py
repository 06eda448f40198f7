"""End-to-end: the deployed Prometheus rules on a real Prometheus scraping the
real exporter, which watches real runsc sandboxes.

deploy/prometheus/gvisor-exporter.rules.yml is loaded unchanged. Its [5m] rate
windows give values after two scrapes (1 s apart here), but rate() divides by
the whole window, so early CPU rates are scaled down by ~(seconds scraped)/300:
CPU figures are checked for sign, ratio and which sandbox burns CPU, not for
magnitude (tests/prometheus/rules_test.yml checks magnitudes). The alerts'
`for:` durations (>= 5m) do not elapse here: an alert whose expression holds is
"pending", and pending/firing alerts are compared with the expected set.
"""
import os
import subprocess
import time
import urllib.parse

import pytest
import yaml

from gvisor_env import SAMPLING_ONLY_RECORDS, Exporter, Prometheus

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.rules.yml")
PROMTOOL = "/usr/bin/promtool"
JOB = "gvisor-exporter"

N = os.getpid()
BURNER, IDLE, DEBUG = f"gvpb{N}", f"gvpi{N}", f"gvpd{N}"
# Burns ~0.3 s of CPU inside the sandbox every second (no syscalls in the loop):
# enough that the sentry's 10 ms accounting ticks are small next to it.
BURN = "while true; do i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 1; done"
MB = 1 << 20


@pytest.fixture(scope="module")
def sandboxes(runsc, workdir):
    runsc.run_sandbox(BURNER, pod="burner", namespace="shop", uid="uid-pb", args=["/bin/sh", "-c", BURN])
    runsc.run_sandbox(IDLE, pod="idle", namespace="data", uid="uid-pi")
    debug_log = os.path.join(workdir, "debug-log") + "/"
    os.makedirs(debug_log, exist_ok=True)
    runsc.run_sandbox(DEBUG, pod="dbg", namespace="debug", uid="uid-pd",
                      flags=["--debug", f"--debug-log={debug_log}", "--strace"])
    return runsc


@pytest.fixture(scope="module")
def exporter(sandboxes, exporter_bin, workdir):
    # No containerd on this test's node: CRI off, as documented for such nodes
    # (with the default endpoint gvisor_cri_up would be 0 and
    # GVisorCRIUnavailable pending, rightly).
    e = Exporter(exporter_bin, workdir, [f"--runsc.root={sandboxes.root}", "--runsc.root-parent=",
                                         "--poll.interval=1s", "--cri.endpoint="])
    yield e
    e.stop()


def recording_rules():
    with open(RULES) as f:
        return [r["record"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]
                if "record" in r and r["record"] not in SAMPLING_ONLY_RECORDS]


@pytest.fixture(scope="module")
def prometheus(exporter):
    p = Prometheus(f"127.0.0.1:{exporter.port}", [RULES])
    try:
        p.wait_ready()
        # Several scrapes, then every recording rule evaluated on them.
        deadline = time.time() + 40
        records = recording_rules()
        while True:
            scrapes = p.query(f'count_over_time(up{{job="{JOB}"}}[1m])')
            missing = [r for r in records if not p.query(r)]
            if scrapes and scrapes[0][1] >= 6 and not missing:
                break
            assert time.time() < deadline, \
                f"scrapes={scrapes} rules without data={missing}\n{p.logs()}\n{exporter.logs()}"
            time.sleep(0.5)
        yield p
    finally:
        p.stop()


def by(results, label):
    return {l.get(label, ""): v for l, v in results}


def test_target_up_and_rules_healthy(prometheus):
    assert by(prometheus.query(f'up{{job="{JOB}"}}'), "job") == {JOB: 1.0}
    groups = prometheus.get("/api/v1/rules")["groups"]
    with open(RULES) as f:
        want = [g["name"] for g in yaml.safe_load(f)["groups"]]
    assert sorted(g["name"] for g in groups) == sorted(want)
    for g in groups:
        for r in g["rules"]:
            assert r["health"] == "ok" and not r.get("lastError"), (g["name"], r)


def test_every_recording_rule_has_plausible_values(prometheus, exporter):
    q = prometheus.query
    seen = {}
    for record in recording_rules():
        res = q(record)
        assert res, f"{record}: no series"
        seen[record] = res
        print(record, [({k: v for k, v in l.items() if k not in ("__name__", "job")}, v) for l, v in res])

    instance = f"127.0.0.1:{exporter.port}"
    sandboxes = {BURNER, IDLE, DEBUG}

    # CPU, per sandbox (cores; see the module docstring about magnitudes).
    app = by(seen["namespace_pod:gvisor_sandbox_cpu_seconds:rate5m"], "sandbox_id")
    host = by(seen["namespace_pod:gvisor_sandbox_cgroup_cpu_usage_seconds:rate5m"], "sandbox_id")
    overhead = by(seen["namespace_pod:gvisor_cpu_overhead_seconds:rate5m"], "sandbox_id")
    ratio = by(seen["namespace_pod:gvisor_cpu_overhead:ratio_rate5m"], "sandbox_id")
    assert set(app) == set(host) == set(overhead) == sandboxes
    assert app[BURNER] > 0, "the burner's loop runs inside the sandbox"
    assert host[BURNER] > 0
    for sid in sandboxes:
        assert 0 <= app[sid] < 8 and 0 <= host[sid] < 8, (sid, app[sid], host[sid])
        # The host pays at least what the sentry accounts to the app, give or
        # take the sentry's 10 ms accounting ticks (a few of them per poll,
        # which over a window of seconds is up to ~15 % of the burner's CPU,
        # and, when a loaded machine lets the burner run little, two ticks
        # over the ~10 s rate window: 0.002 cores).
        assert overhead[sid] >= -0.15 * host[sid] - 2e-3, (sid, overhead[sid], host[sid])
        if sid in ratio and host[sid] > 0.02:  # a ratio of tick noise says nothing
            assert -0.15 <= ratio[sid] <= 1 + 1e-9, (sid, ratio[sid])
    assert BURNER in ratio
    ns_cpu = by(seen["namespace:gvisor_cpu_overhead_seconds:sum_rate5m"], "namespace")
    assert set(ns_cpu) == {"shop", "data", "debug"}
    assert ns_cpu["shop"] == pytest.approx(overhead[BURNER], rel=0.5, abs=1e-3)
    node_cpu = by(seen["instance:gvisor_cpu_overhead_seconds:sum_rate5m"], "instance")
    assert set(node_cpu) == {instance}
    # The node's sum of the per-sandbox overheads: the same tick-noise bound, summed.
    assert node_cpu[instance] >= -0.15 * sum(host.values()) - 2e-3 * len(sandboxes), (node_cpu, host)

    # Memory (bytes).
    pss = by(seen["namespace_pod:gvisor_sandbox_host_memory_pss_bytes:sum"], "sandbox_id")
    assert set(pss) == sandboxes
    for sid, v in pss.items():
        assert 1 * MB <= v <= 500 * MB, (sid, v)
    mem_ratio = by(seen["namespace_pod:gvisor_memory_overhead:ratio"], "sandbox_id")
    assert set(mem_ratio) == sandboxes
    for sid, v in mem_ratio.items():
        assert 0 < v < 1000, (sid, v)
    ns_mem = by(seen["namespace:gvisor_sandbox_memory_overhead_bytes:sum"], "namespace")
    assert set(ns_mem) == {"shop", "data", "debug"}
    for ns, v in ns_mem.items():
        assert 1 * MB <= v <= 500 * MB, (ns, v)
    node_mem = by(seen["instance:gvisor_sandbox_memory_overhead_bytes:sum"], "instance")
    assert set(node_mem) == {instance} and 3 * MB <= node_mem[instance] <= 1500 * MB
    node_pss = by(seen["instance:gvisor_sandbox_host_memory_pss_bytes:sum"], "instance")
    assert set(node_pss) == {instance}
    # The node sum is the sum of the pods (read a scrape apart: 10 % slack).
    assert abs(node_pss[instance] - sum(pss.values())) <= 0.1 * node_pss[instance]
    assert node_pss[instance] >= node_mem[instance]
    # The overhead agrees with the exporter's own inputs: PSS minus in-sandbox Total.
    # Compared at the instant the rule was evaluated (PSS is re-read in steps, see
    # --collector.host.pss-max-age, so a later instant may see the next step).
    evaluated = q("timestamp(namespace_pod:gvisor_memory_overhead:ratio)")
    assert {l["sandbox_id"] for l, _ in evaluated} == sandboxes
    for l, at in evaluated:
        sid = l["sandbox_id"]
        ratio_then = by(prometheus.query_at("namespace_pod:gvisor_memory_overhead:ratio", at), "sandbox_id")
        direct = by(prometheus.query_at("gvisor_sandbox_memory_overhead_bytes", at), "sandbox_id")
        total = by(prometheus.query_at("gvisor_sandbox_memory_total_bytes", at), "sandbox_id")
        assert direct[sid] == pytest.approx(ratio_then[sid] * total[sid], rel=0.2), (sid, at)

    # Sandboxes.
    assert by(seen["instance:gvisor_sandboxes:sum"], "instance") == {instance: 3.0}
    platforms = by(seen["instance_platform:gvisor_sandboxes:count"], "platform")
    assert sum(platforms.values()) == 3.0
    assert set(platforms) <= {"ptrace", "systrap", "kvm"}, platforms


def test_only_expected_alerts_are_active(prometheus):
    alerts = prometheus.get("/api/v1/alerts")["alerts"]
    active = sorted((a["labels"]["alertname"], a["labels"].get("sandbox_id", ""), a["state"]) for a in alerts)
    print("active alerts:", active)
    # The sandbox started with --debug --strace; both alerts have `for: 5m`, so pending.
    assert active == [("GVisorSandboxDebugEnabled", DEBUG, "pending"),
                      ("GVisorSandboxStraceEnabled", DEBUG, "pending")], active
    for a in alerts:
        assert a["labels"]["severity"] in ("critical", "warning", "info")
        # Absolute (Alertmanager shows it as a link), to the alert's own section.
        url = urllib.parse.urlsplit(a["annotations"]["runbook_url"])
        assert url.scheme in ("http", "https") and url.netloc, a["annotations"]["runbook_url"]
        assert url.path.endswith("/docs/runbooks.md")
        assert url.fragment == a["labels"]["alertname"].lower()


def test_promtool_accepts_the_exposition(exporter):
    text = exporter.scrape().text
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
