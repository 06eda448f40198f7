#!/usr/bin/python3
"""Static checks of the Grafana dashboards in dashboards/ (no Grafana, no network).

For every dashboards/*.json:
* it is what dashboards/make-dashboards.py generates (run it after editing), and so
  are the Grafana-sidecar ConfigMaps in deploy/kubernetes/dashboards/;
* current schema (schemaVersion >= 36), a unique uid, a `datasource` variable of
  type datasource/prometheus, and instance, runtimeclass, namespace and pod
  variables;
* RuntimeClass: the namespace, pod (and sandbox) variable queries are filtered by
  $runtimeclass, and every target that selects pods ($pod) uses $runtimeclass too
  (per-sandbox series joined to gvisor_sandbox_info's runtime_class);
* panel ids are unique (rows' nested panels included), panels fit the 24-column
  grid and do not overlap;
* cluster and job: `cluster` and `job` variables come first (after datasource);
  `cluster` includes All with allValue .* (so a Prometheus without a cluster label
  matches everything), `job` is multi-value with default gvisor-exporter; every
  vector selector of every target and variable query matches cluster=~"$cluster"
  and job=~"$job" (the cluster and job variables' own queries: the ones before
  them), and every join on a sandbox (`on (... sandbox_id)`) includes cluster and job;
* every panel with targets has a unit (fieldConfig.defaults.unit);
* every panel, target and query variable uses the datasource variable
  (${datasource}) and nothing else;
* every metric name in every expression and variable query is in METRICS.md, one
  of SYSCALL_METRICS (the syscall metrics being implemented), or a recording rule
  of deploy/prometheus/gvisor-exporter.rules.yml (the e2e test loads those rules);
* `promtool test rules`: one join over the same node and sandbox in two clusters, without a
  cluster label and under another job sums exactly the series of each cluster/job choice;
* every expression parses: `promtool check rules` on a temp rules file holding
  them all (template variables substituted), when promtool is installed;
* Grafana's own dashboard schema accepts the files (validate-dashboards.mjs with
  the npm package @grafana/schema pinned in tests/deploy/package.json; needs
  `npm ci --prefix tests/deploy`, or --no-grafana-schema to skip).

Exit 0 when all hold, 1 otherwise. Run: /usr/bin/python3 tests/deploy/check_dashboards.py
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARDS = os.path.join(REPO, "dashboards")
METRICS_MD = os.path.join(REPO, "METRICS.md")
RULES = os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.rules.yml")

# Being implemented (syscall statistics issue); not in METRICS.md yet. Remove
# from here once METRICS.md lists them.
SYSCALL_METRICS = {
    "gvisor_container_syscalls_total",
    "gvisor_container_syscall_errors_total",
    "gvisor_container_syscalls_unimplemented_total",
    "gvisor_sandbox_syscall_events_dropped_total",
    "gvisor_sandbox_syscall_session_state",
}
DS = {"type": "prometheus", "uid": "${datasource}"}
REQUIRED_VARS = ("datasource", "cluster", "job", "instance", "runtimeclass", "namespace", "pod")
# Every selector is scoped by these, in this order (the first variables after datasource).
SCOPE_VARS = ("cluster", "job")
DEFAULT_JOB = "gvisor-exporter"   # the ServiceMonitor/PodMonitor's job (tests/deploy/check_manifests.py JOB)
# Variables listed from gvisor_sandbox_info, which must be narrowed to the RuntimeClass.
RC_FILTERED_VARS = ("namespace", "pod", "sandbox")

# Values used to substitute Grafana variables where a concrete expression is needed.
GRAFANA_BUILTINS = {"__rate_interval": "10s", "__interval": "2s", "__range": "5m", "__range_s": "300",
                    "__range_ms": "300000", "__interval_ms": "2000"}

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "atan2", "inf", "nan"}


def metrics_md_names():
    with open(METRICS_MD) as f:
        return set(re.findall(r"^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \|", f.read(), re.M))


def recording_rule_names():
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    return {r["record"] for g in doc["groups"] for r in g["rules"] if "record" in r}


def substitute(expr, values=None):
    """Replaces Grafana variables ($x, ${x}, ${x:fmt}, [[x]]) by values[x] (".*" for
    template variables by default, GRAFANA_BUILTINS for $__ ones)."""
    values = dict(GRAFANA_BUILTINS, **(values or {}))

    def one(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, ".*")
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)\]\]|\$([A-Za-z_][A-Za-z0-9_]*)",
                  one, expr)


def uses_var(expr, name):
    """Whether a Grafana expression references template variable `name` ($x, ${x}, ${x:fmt}, [[x]])."""
    return re.search(r"\$\{%s(?::[^}]*)?\}|\[\[%s\]\]|\$%s(?![A-Za-z0-9_])" % ((re.escape(name),) * 3), expr) is not None


def metric_names(expr):
    """Metric names an expression reads (PromQL, or Grafana's label_values(...))."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)   # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                                            # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                           # range/subquery
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    m = re.match(r"\s*label_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$", e, re.S)
    if m:
        e = m.group(1)
    names = set()
    for tok in re.finditer(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?", e):
        name, call = tok.group(1), tok.group(2)
        if call or name.lower() in KEYWORDS or re.fullmatch(r"\d.*", name):
            continue
        names.add(name)
    return names


def scoped_by(matchers, name):
    """Whether a selector's matchers (text inside {}) hold name=~"$name" (or ${name}, ${name:fmt})."""
    return re.search(r'(?<![\w])%s\s*=~\s*"\$(?:%s(?![\w])|\{%s(?::[^}"]*)?\})"' % ((re.escape(name),) * 3),
                     matchers) is not None


def unscoped_selectors(expr, names=SCOPE_VARS):
    """Metric names of the vector selectors in expr (bare names included) that do not
    match every label of `names` against its variable."""
    sel = r'([A-Za-z_:][A-Za-z0-9_:]*)\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}'
    rest = re.sub(sel, lambda m: " " if all(scoped_by(m.group(2), n) for n in names) else m.group(0), expr)
    return metric_names(rest)


def unscoped_joins(expr):
    """`on (...)` label lists of joins on a sandbox that lack a SCOPE_VARS label."""
    out = []
    for m in re.finditer(r"\bon\s*\(([^)]*)\)", expr):
        labels = {x.strip() for x in m.group(1).split(",")}
        if "sandbox_id" in labels and not set(SCOPE_VARS) <= labels:
            out.append(m.group(0))
    return out


def all_panels(dash):
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []) or []:
            yield q


def targets(dash):
    """(panel, target) for every target of every panel."""
    for p in all_panels(dash):
        for t in p.get("targets", []) or []:
            yield p, t


def variable_queries(dash):
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            yield v, (q.get("query") if isinstance(q, dict) else q)


def check_dashboard(path, allowed, errors):
    name = os.path.basename(path)

    def err(msg):
        errors.append(f"{name}: {msg}")

    with open(path) as f:
        dash = json.load(f)
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        err(f"schemaVersion {dash.get('schemaVersion')!r} is not current (>= 36)")
    if not dash.get("uid") or not dash.get("title"):
        err("uid and title are required")
    tvars = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    for n in REQUIRED_VARS:
        if n not in tvars:
            err(f"template variable {n!r} missing")
    dsv = tvars.get("datasource", {})
    if dsv.get("type") != "datasource" or dsv.get("query") != "prometheus":
        err("variable 'datasource' must be of type datasource with query prometheus")

    ids = [p.get("id") for p in all_panels(dash)]
    dup = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    if dup or None in ids:
        err(f"panel ids not unique or missing: {dup}")
    cells = {}
    for p in all_panels(dash):
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24 or g["w"] < 1:
            err(f"panel {p.get('id')} {p.get('title')!r}: bad gridPos {g}")
            continue
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    err(f"panel {p.get('id')} overlaps panel {cells[(x, y)]}")
                    break
                cells[(x, y)] = p.get("id")
            else:
                continue
            break

    for p in all_panels(dash):
        label = f"panel {p.get('id')} {p.get('title')!r}"
        if p.get("type") == "row":
            if p.get("targets"):
                err(f"{label}: a row has targets")
            continue
        if p.get("datasource") != DS:
            err(f"{label}: datasource {p.get('datasource')} is not {DS}")
        if p.get("targets"):
            unit = ((p.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
            if not unit:
                err(f"{label}: no unit (fieldConfig.defaults.unit)")
        elif p.get("type") not in ("text", "row"):
            err(f"{label}: no targets")
    for p, t in targets(dash):
        label = f"panel {p.get('id')} {p.get('title')!r} target {t.get('refId')}"
        if t.get("datasource") != DS:
            err(f"{label}: datasource {t.get('datasource')} is not {DS}")
        expr = t.get("expr", "")
        if not expr.strip():
            err(f"{label}: empty expr")
        unknown = metric_names(expr) - allowed
        if unknown:
            err(f"{label}: metrics not in METRICS.md / syscall list / recording rules: {sorted(unknown)}")
        if uses_var(expr, "pod") and not uses_var(expr, "runtimeclass"):
            err(f"{label}: selects pods ($pod) but ignores $runtimeclass")
        unscoped = unscoped_selectors(expr)
        if unscoped or not all(uses_var(expr, n) for n in SCOPE_VARS):
            err(f"{label}: selectors of {sorted(unscoped) or expr!r} ignore $cluster or $job "
                '(each needs cluster=~"$cluster", job=~"$job")')
        for j in unscoped_joins(expr):
            err(f"{label}: join {j!r} ignores cluster or job")
    for v, q in variable_queries(dash):
        if v.get("datasource") != DS:
            err(f"variable {v.get('name')}: datasource {v.get('datasource')} is not {DS}")
        unknown = metric_names(q or "") - allowed
        if unknown or not q:
            err(f"variable {v.get('name')}: query {q!r} reads unknown metrics {sorted(unknown)}")
        if v.get("name") in RC_FILTERED_VARS and not uses_var(q or "", "runtimeclass"):
            err(f"variable {v.get('name')}: query {q!r} is not filtered by $runtimeclass")
        # A scope variable is filtered by the scope variables before it; every other one by all.
        need = SCOPE_VARS[:SCOPE_VARS.index(v["name"])] if v.get("name") in SCOPE_VARS else SCOPE_VARS
        unscoped = unscoped_selectors(q or "", need) if need else set()
        if unscoped or not all(uses_var(q or "", n) for n in need):
            err(f"variable {v.get('name')}: query {q!r} ignores " + " or ".join(f"${n}" for n in need))
        for j in unscoped_joins(q or ""):
            err(f"variable {v.get('name')}: join {j!r} ignores cluster or job")
    names = [v.get("name") for v in dash.get("templating", {}).get("list", [])]
    if names[:1 + len(SCOPE_VARS)] != ["datasource", *SCOPE_VARS]:
        err(f"variables must start with datasource, {', '.join(SCOPE_VARS)} (every other one depends on them): {names}")
    cl, jb = tvars.get("cluster", {}), tvars.get("job", {})
    if cl.get("type") != "query" or not cl.get("includeAll") or cl.get("allValue") != ".*":
        err("variable cluster: a query variable with All = .* (a Prometheus without a cluster label lists no "
            "cluster; All must still match every series)")
    if jb.get("type") != "query" or not jb.get("multi") or \
            (jb.get("current") or {}).get("value") not in ([DEFAULT_JOB], DEFAULT_JOB):
        err(f"variable job: a multi-value query variable defaulting to {DEFAULT_JOB!r}: {jb.get('current')}")

    # Any other datasource reference anywhere (besides Grafana's built-in annotation).
    builtin = {"type": "grafana", "uid": "-- Grafana --"}

    def walk(o):
        if isinstance(o, dict):
            for k, val in o.items():
                if k == "datasource" and val not in (DS, builtin):
                    err(f"datasource reference {val!r} is not the datasource variable")
                walk(val)
        elif isinstance(o, list):
            for x in o:
                walk(x)
    walk(dash)
    return dash


def promtool_parse(dashes, errors):
    """Every expression (variables substituted) through `promtool check rules`."""
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.path.exists(promtool):
        print("SKIP promtool parse check: promtool not installed (Debian package prometheus)")
        return
    rules, where = [], []
    for name, dash in dashes.items():
        for p, t in targets(dash):
            rules.append({"record": f"dashboard:check:{len(rules)}", "expr": substitute(t["expr"])})
            where.append(f"{name} panel {p['id']} {p['title']!r} {t['refId']}")
    with tempfile.TemporaryDirectory(prefix="gve-dash-check-") as d:
        # One file per expression so that an error names its panel.
        for i, r in enumerate(rules):
            path = os.path.join(d, f"r{i}.yml")
            with open(path, "w") as f:
                yaml.safe_dump({"groups": [{"name": "g", "rules": [r]}]}, f)
        res = subprocess.run([promtool, "check", "rules", *[os.path.join(d, f"r{i}.yml") for i in range(len(rules))]],
                             capture_output=True, text=True)
        if res.returncode != 0:
            out = res.stdout + res.stderr
            # stderr names each failing file: "<dir>/r<i>.yml: <line>:<col>: ... could not parse ..."
            bad = {int(m.group(1)) for m in re.finditer(r"/r(\d+)\.yml: ", res.stderr)}
            for i in sorted(bad):
                errors.append(f"{where[i]}: promtool cannot parse {rules[i]['expr']!r}")
            if not bad:
                errors.append("promtool check rules failed:\n" + out[-3000:])
        else:
            print(f"ok   promtool parses all {len(rules)} expressions")


def promtool_scopes(dashes, errors):
    """`promtool test rules` on one join of the node overview (memory overhead per RuntimeClass:
    `* on (...) group_left`) over the same node and sandbox names in clusters east and west, in
    a Prometheus without a cluster label, and under another job: each cluster/job choice must
    sum exactly its own series (a join without cluster and job finds duplicates and fails)."""
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not os.path.exists(promtool):
        print("SKIP promtool cluster/job test: promtool not installed (Debian package prometheus)")
        return
    dash = dashes.get("gvisor-node-overview.json", {})
    exprs = [t["expr"] for p, t in targets(dash) if p.get("title") == "Memory overhead per RuntimeClass"]
    if len(exprs) != 1:
        errors.append("promtool cluster/job test: panel 'Memory overhead per RuntimeClass' not found")
        return
    series = []
    # (cluster, job, overhead): "" = no cluster label (a single Prometheus).
    for cluster, job, value in (("east", DEFAULT_JOB, 100), ("west", DEFAULT_JOB, 20), ("", DEFAULT_JOB, 3),
                                ("east", "other", 1000)):
        lab = (f'cluster="{cluster}", ' if cluster else "") + \
            f'job="{job}", instance="node-1", namespace="ns", pod="p", sandbox_id="sb1"'
        series.append({"series": f"gvisor_sandbox_memory_overhead_bytes{{{lab}}}", "values": f"{value}x5"})
        series.append({"series": f'gvisor_sandbox_info{{{lab}, runtime_class="gvisor"}}', "values": "1x5"})
    cases = (({"cluster": ".*", "job": DEFAULT_JOB}, 123), ({"cluster": "east", "job": DEFAULT_JOB}, 100),
             ({"cluster": "west", "job": DEFAULT_JOB}, 20), ({"cluster": ".*", "job": ".*"}, 1123),
             ({"cluster": "east", "job": "other"}, 1000))
    tests = [{"expr": substitute(exprs[0], vals), "eval_time": "2m",
              "exp_samples": [{"labels": '{runtime_class="gvisor"}', "value": want}]} for vals, want in cases]
    with tempfile.TemporaryDirectory(prefix="gve-dash-scope-") as d:
        path = os.path.join(d, "test.yml")
        with open(path, "w") as f:
            yaml.safe_dump({"rule_files": [], "evaluation_interval": "1m",
                            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}]}, f)
        res = subprocess.run([promtool, "test", "rules", path], capture_output=True, text=True)
    if res.returncode != 0:
        errors.append("promtool cluster/job test (same node and sandbox in two clusters, no cluster, another job):\n"
                      + (res.stdout + res.stderr)[-3000:])
    else:
        print(f"ok   promtool: cluster/job scoping sums only the chosen series ({len(cases)} choices, "
              "two clusters, no cluster label, another job)")


def grafana_schema(paths, errors):
    here = os.path.dirname(os.path.abspath(__file__))
    node_modules = os.environ.get("GVE_DEPLOY_NODE_MODULES", os.path.join(here, "node_modules"))
    if not shutil.which("node") or not os.path.isdir(os.path.join(node_modules, "@grafana", "schema")):
        errors.append(f"Grafana schema check: needs node and {node_modules}/@grafana/schema: "
                      "run `npm ci --prefix tests/deploy` (or pass --no-grafana-schema)")
        return
    r = subprocess.run(["node", os.path.join(here, "validate-dashboards.mjs"), *paths], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, GVE_DEPLOY_NODE_MODULES=node_modules))
    for line in r.stdout.splitlines():
        print(("ok   " if line.startswith("valid") else "     ") + line)
    if r.returncode != 0:
        errors.append("Grafana dashboard schema: " + (r.stdout + r.stderr)[-3000:])


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-grafana-schema", action="store_true",
                    help="skip the check against Grafana's dashboard schema (needs Node.js + npm ci)")
    ap.add_argument("--dashboards", default=DASHBOARDS,
                    help="directory of dashboard JSON files (default: the repo's; another one skips the generator check)")
    args = ap.parse_args()
    errors = []
    if os.path.abspath(args.dashboards) == DASHBOARDS:
        gen = subprocess.run([sys.executable, os.path.join(DASHBOARDS, "make-dashboards.py"), "--check"],
                             capture_output=True, text=True)
        if gen.returncode != 0:
            errors.append("dashboards/*.json are not what make-dashboards.py writes:\n" + gen.stdout + gen.stderr)
    allowed = metrics_md_names() | SYSCALL_METRICS | recording_rule_names()
    paths = sorted(glob.glob(os.path.join(args.dashboards, "*.json")))
    if len(paths) < 3:
        errors.append(f"expected 3 dashboards in {args.dashboards}, found {paths}")
    dashes, uids = {}, {}
    for path in paths:
        n0 = len(errors)
        dash = check_dashboard(path, allowed, errors)
        dashes[os.path.basename(path)] = dash
        if dash.get("uid") in uids:
            errors.append(f"{os.path.basename(path)}: uid {dash['uid']} also used by {uids[dash['uid']]}")
        uids[dash.get("uid")] = os.path.basename(path)
        n = sum(1 for _ in targets(dash))
        print(f"{'ok  ' if len(errors) == n0 else 'FAIL'} {os.path.basename(path)}: "
              f"{sum(1 for _ in all_panels(dash))} panels, {n} targets")
    promtool_parse(dashes, errors)
    promtool_scopes(dashes, errors)
    if not args.no_grafana_schema:
        grafana_schema(paths, errors)
    for e in errors:
        print("ERROR", e)
    print(f"check_dashboards: {'FAILED' if errors else 'passed'} ({len(errors)} errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
