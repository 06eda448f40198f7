#!/usr/bin/python3
"""Checks what promtool does not about deploy/prometheus/gvisor-exporter.rules.yml:

* every alert has a severity (critical|warning|info), summary, description and an
  absolute http(s) runbook_url (one base URL for all) whose #anchor is the GitHub
  anchor of the alert's `## <alert>` section in docs/runbooks.md, a `for:` of at
  least 5m (no alert on one scrape's noise), and every runbook section is an alert's;
* recording rule names follow level:metric:operations; names are unique;
* every gvisor_* metric the rules read is in METRICS.md (a typo would silently
  match nothing);
* tests/prometheus/rules_test.yml tests every alert firing and not firing and
  every recording rule's value.
"""
import os
import re
import sys
import urllib.parse

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.rules.yml")
TESTS = os.path.join(REPO, "tests", "prometheus", "rules_test.yml")
RUNBOOKS = os.path.join(REPO, "docs", "runbooks.md")
METRICS = os.path.join(REPO, "METRICS.md")

SEVERITIES = {"critical", "warning", "info"}
RECORD_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
METRIC_REF = re.compile(r"(?<![:\w])gvisor_[a-z0-9_]+(?![:\w])")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def seconds(d):
    m = DURATION.match(str(d))
    if not m or not any(m.groups()):
        raise ValueError(f"unsupported duration {d!r}")
    h, mi, s = (int(x or 0) for x in m.groups())
    return h * 3600 + mi * 60 + s


def github_anchor(heading):
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def heading_anchors(markdown):
    """Every anchor GitHub makes for the headings of `markdown`: ATX headings of
    any level outside fenced code, a repeated anchor suffixed -1, -2, ..."""
    anchors, seen, fence = set(), {}, None
    for line in markdown.splitlines():
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0]
            elif m.group(1)[0] == fence:
                fence = None
            continue
        m = None if fence else re.match(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", line)
        if not m:
            continue
        base = github_anchor(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        anchors.add(base if n == 0 else f"{base}-{n}")
    return anchors


def main():
    errors = []
    with open(RULES) as f:
        groups = yaml.safe_load(f)["groups"]
    rules = [r for g in groups for r in g["rules"]]
    alerts = [r for r in rules if "alert" in r]
    records = [r for r in rules if "record" in r]
    alert_names = [a["alert"] for a in alerts]
    record_names = [r["record"] for r in records]
    for kind, names in (("alert", alert_names), ("record", record_names)):
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            errors.append(f"duplicate {kind} names: {sorted(dup)}")
    group_names = [g["name"] for g in groups]
    if len(set(group_names)) != len(group_names):
        errors.append(f"duplicate group names: {group_names}")

    with open(RUNBOOKS) as f:
        runbook_text = f.read()
    sections = {github_anchor(h): h.strip() for h in re.findall(r"^## (.+)$", runbook_text, re.M)}
    anchors = heading_anchors(runbook_text)
    bases = set()

    for a in alerts:
        name = a["alert"]
        sev = a.get("labels", {}).get("severity")
        if sev not in SEVERITIES:
            errors.append(f"{name}: severity {sev!r} not in {sorted(SEVERITIES)}")
        ann = a.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if not str(ann.get(key, "")).strip():
                errors.append(f"{name}: missing annotation {key}")
        url = urllib.parse.urlsplit(str(ann.get("runbook_url", "")))
        if url.scheme not in ("http", "https") or not url.netloc:
            errors.append(f"{name}: runbook_url {ann.get('runbook_url')!r} is not an absolute http(s) URL")
        elif url.fragment not in anchors:
            errors.append(f"{name}: runbook_url anchor #{url.fragment} is no heading of docs/runbooks.md")
        elif url.fragment != github_anchor(name):
            errors.append(f"{name}: runbook_url points to #{url.fragment}, not to its own section "
                          f"#{github_anchor(name)}")
        bases.add(url._replace(fragment="").geturl())
        if github_anchor(name) not in sections:
            errors.append(f"{name}: no '## {name}' section in docs/runbooks.md")
        if "for" not in a or seconds(a["for"]) < 300:
            errors.append(f"{name}: needs `for:` of at least 5m, has {a.get('for')!r}")
        if "up" in re.findall(r"\b[a-z_]+\b", a["expr"]) and 'job="gvisor-exporter"' not in a["expr"]:
            errors.append(f"{name}: `up` must be restricted to job=\"gvisor-exporter\"")
    if len(bases) > 1:
        errors.append(f"alerts use different runbook base URLs: {sorted(bases)}")
    for anchor, heading in sections.items():
        if heading not in alert_names:
            errors.append(f"docs/runbooks.md: section '## {heading}' is not an alert of the rules file")

    for r in records:
        if not RECORD_NAME.match(r["record"]):
            errors.append(f"{r['record']}: not level:metric:operations")

    with open(METRICS) as f:
        documented = set(re.findall(r"^\| `(gvisor_[a-z0-9_]+)` \|", f.read(), re.M))
    for r in rules:
        for m in METRIC_REF.findall(r["expr"]):
            if m not in documented:
                errors.append(f"{r.get('alert') or r.get('record')}: reads {m}, which METRICS.md does not list")

    with open(TESTS) as f:
        tests = yaml.safe_load(f)
    if tests.get("rule_files") != ["../../deploy/prometheus/gvisor-exporter.rules.yml"]:
        errors.append(f"{TESTS}: rule_files must be the deployed rules file, is {tests.get('rule_files')}")
    firing, silent, valued = set(), set(), set()
    for t in tests["tests"]:
        for at in t.get("alert_rule_test", []):
            (firing if at.get("exp_alerts") else silent).add(at["alertname"])
        for pt in t.get("promql_expr_test", []):
            if pt.get("exp_samples"):
                valued.add(pt["expr"].strip())
    for name in alert_names:
        if name not in firing:
            errors.append(f"{name}: rules_test.yml has no case where it fires")
        if name not in silent:
            errors.append(f"{name}: rules_test.yml has no case where it does not fire")
    for name in record_names:
        if name not in valued:
            errors.append(f"{name}: rules_test.yml checks no value of it (promql_expr_test expr: {name})")
    for name in (firing | silent) - set(alert_names):
        errors.append(f"rules_test.yml tests unknown alert {name}")

    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    print(f"OK: {len(alert_names)} alerts, {len(record_names)} recording rules, "
          f"{len(sections)} runbook sections, every one tested")
    return 0


if __name__ == "__main__":
    sys.exit(main())
