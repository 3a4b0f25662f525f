#!/usr/bin/env python3
"""Turns every panel query of a Grafana dashboard into a Prometheus recording rule, so that
`promtool check rules` parses each expression (a PromQL syntax error fails it, naming the panel).
Grafana's own interval variables become fixed durations; any other `$variable` is an error (it
would not be PromQL). Rules are written as JSON, which is YAML.

    python3 scripts/dashboard-rules.py DASHBOARD.json > rules.yml && promtool check rules rules.yml
    python3 scripts/dashboard-rules.py --list DASHBOARD.json    # one expression per line
"""
import json, re, sys

GRAFANA_INTERVALS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}

def expressions(dashboard):
    for panel in dashboard["panels"]:
        for panel in [panel] + panel.get("panels", []):  # rows may hold panels
            for target in panel.get("targets", []):
                yield panel["title"], target["refId"], target["expr"]

def promql(expr):
    for variable, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, value)
    if "$" in expr:
        raise SystemExit(f"unknown Grafana variable in {expr!r}")
    return expr

def main(argv):
    listing = argv[:1] == ["--list"]
    path = argv[-1]
    with open(path, encoding="utf-8") as f:
        found = list(expressions(json.load(f)))
    if not found:
        raise SystemExit(f"{path}: no panel queries")
    if listing:
        for _, _, expr in found:
            print(promql(expr))
        return
    rules = [{"record": f"dashboard:panel_{n}", "expr": promql(expr),
              "labels": {"panel": title, "ref": ref}} for n, (title, ref, expr) in enumerate(found)]
    json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, sys.stdout, indent=1)

main(sys.argv[1:])
