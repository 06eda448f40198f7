#!/usr/bin/python3
"""promtool check rules on the groups of the generated PrometheusRule.

promtool does not read the prometheus-operator's PrometheusRule, so this
extracts spec.groups into a plain rules file in a temp dir and checks that.
Usage: check_prometheusrule.py [PROMETHEUSRULE_YAML] [--promtool PATH]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT = os.path.join(REPO, "deploy", "prometheus", "gvisor-exporter.prometheusrule.yaml")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file", nargs="?", default=DEFAULT)
    p.add_argument("--promtool", default=shutil.which("promtool") or "/usr/bin/promtool")
    args = p.parse_args()
    with open(args.file) as f:
        doc = yaml.safe_load(f)
    errors = []
    if doc.get("apiVersion") != "monitoring.coreos.com/v1":
        errors.append(f"apiVersion is {doc.get('apiVersion')!r}, want monitoring.coreos.com/v1")
    if doc.get("kind") != "PrometheusRule":
        errors.append(f"kind is {doc.get('kind')!r}, want PrometheusRule")
    if not doc.get("metadata", {}).get("name"):
        errors.append("metadata.name is missing")
    if set(doc.get("spec", {})) != {"groups"}:
        errors.append(f"spec must hold only groups, has {sorted(doc.get('spec', {}))}")
    groups = doc.get("spec", {}).get("groups")
    if not groups:
        errors.append("spec.groups is empty")
    if errors:
        print("\n".join(f"{args.file}: {e}" for e in errors), file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="gve-prometheusrule-")
    try:
        extracted = os.path.join(tmp, "groups.yml")
        with open(extracted, "w") as f:
            yaml.safe_dump({"groups": groups}, f, sort_keys=False)
        r = subprocess.run([args.promtool, "check", "rules", extracted])
        return r.returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
