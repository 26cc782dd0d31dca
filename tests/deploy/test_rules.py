"""The pipeline alert rules: only exposed metrics, complete labels and annotations, every alert unit-tested."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.deploy.promql import is_known_metric, metric_names
from tests.deploy.promstack import REPO

RULE_FILES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
RULES = [rule for f in RULE_FILES for group in yaml.safe_load(f.read_text())["groups"] for rule in group["rules"]]
ALERTS = [r for r in RULES if "alert" in r]
RECORDED = {r["record"] for r in RULES if "record" in r}
SEVERITIES = {"critical", "error", "warning", "info"}
RULE_TESTS = [t for f in sorted((REPO / "deploy" / "prometheus" / "tests").glob("*.yml"))
              for t in yaml.safe_load(f.read_text())["tests"]]
OPERATIONS_DOC = REPO / "docs" / "operations.md"


def test_the_expected_alerts_exist() -> None:
    assert {a["alert"] for a in ALERTS} >= {
        "HealthmonConsumerStalled", "HealthmonDeadLetterSpike", "HealthmonEventLagHigh", "HealthmonSourceStale",
        "HealthmonWorkerDown", "HealthmonAllWorkersDown", "HealthmonBrokerUnreachable",
    }


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.get("alert") or r.get("record"))
def test_rules_use_only_exposed_metrics(rule: dict) -> None:
    names = metric_names(rule["expr"])
    unknown = sorted(n for n in names if not is_known_metric(n) and n not in RECORDED)
    assert not unknown, f"{rule['expr']!r} uses metrics healthmon does not expose: {unknown}"


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: r["alert"])
def test_alerts_carry_routing_labels_and_runbooks(rule: dict) -> None:
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["labels"]["component"] == "pipeline"  # Alertmanager routes these to the healthmon on-call
    assert rule.get("for"), "an alert without `for:` fires on a single bad scrape"
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    anchor = annotations["runbook_url"].split("#", 1)[1]
    headings = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", OPERATIONS_DOC.read_text(), re.M)}
    assert anchor in headings, f"docs/operations.md has no section #{anchor}"


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: r["alert"])
def test_alerts_are_unit_tested_firing_and_not_firing(rule: dict) -> None:
    cases = [case for t in RULE_TESTS for case in t.get("alert_rule_test", []) if case["alertname"] == rule["alert"]]
    assert any(case.get("exp_alerts") for case in cases), f"no promtool test shows {rule['alert']} firing"
    assert any(not case.get("exp_alerts") for case in cases), f"no promtool test shows {rule['alert']} not firing"


@pytest.mark.parametrize("rule", [r for r in ALERTS if "sum" not in r["expr"] and "max" not in r["expr"]],
                         ids=lambda r: r["alert"])
def test_unaggregated_alerts_are_per_instance_on_purpose(rule: dict) -> None:
    # each worker exposes only its partitions; only liveness may be judged per instance
    assert metric_names(rule["expr"]) == {"up"}
