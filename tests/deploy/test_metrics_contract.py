"""The metric names the dashboards, rules and docs rely on are the ones the workers register."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from healthmon.alerting.metrics import BridgeMetrics
from healthmon.serving.account_series import ACCOUNT_FAMILIES, AccountSeries
from healthmon.serving.metrics import Metrics
from tests.deploy.promql import BRIDGE_METRICS, HEALTHMON_METRICS
from tests.deploy.promstack import REPO

BOUNDED_LABELS = {"topic", "outcome", "reason", "kind", "severity", "status", "band", "tier", "operation",
                  "version", "policy_version", "le"}


def _families(registry: CollectorRegistry | None = None) -> dict[str, tuple[str, set[str]]]:
    families = {}
    for family in (registry or Metrics().registry).collect():
        if family.name.startswith("healthmon_"):
            labels = {name for sample in family.samples for name in sample.labels}
            families[family.name] = (family.type, labels)
    return families


def test_workers_register_exactly_the_documented_metrics() -> None:
    assert {name: kind for name, (kind, _) in _families().items()} == HEALTHMON_METRICS


def test_the_bridge_registers_exactly_the_documented_metrics() -> None:
    assert {name: kind for name, (kind, _) in _families(BridgeMetrics().registry).items()} == BRIDGE_METRICS


@pytest.mark.parametrize("registry", [lambda: Metrics().registry, lambda: BridgeMetrics().registry],
                         ids=["worker", "bridge"])
def test_metric_labels_are_bounded(registry) -> None:
    for name, (_, labels) in _families(registry()).items():
        assert labels <= BOUNDED_LABELS, f"{name} has unbounded labels {labels - BOUNDED_LABELS}"


def test_only_the_per_account_series_carry_account_labels() -> None:
    # the one place account_id is a label (issue #23): the per-account series, capped and off by default
    series = AccountSeries("all", 30)
    metrics = Metrics(account_series=series)
    series.observe("acme", {"account_id": "acme", "tier": "key", "csm": "Alice Smith", "score": 40.0, "band": "red",
                            "as_of": 0, "metrics": {"days_since_last_activity": 3, "open_urgent_tickets": 1},
                            "score_7d_ago": 58.0, "score_30d_ago": 71.0}, "key")
    per_account = {name for name, _, _ in ACCOUNT_FAMILIES}
    families = _families(metrics.registry)
    assert per_account <= set(families)  # every per-account family has its series for a fully known account
    for name, (_, labels) in families.items():
        if name in per_account:
            assert labels == {"account_id", "tier", "csm", "band"}, name
        else:
            assert labels <= BOUNDED_LABELS, f"{name} has unbounded labels {labels - BOUNDED_LABELS}"


def test_operations_doc_lists_every_metric() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    exposed = {name + ("_total" if kind == "counter" else "")
               for name, kind in {**HEALTHMON_METRICS, **BRIDGE_METRICS}.items()}
    missing = sorted(name for name in exposed if f"`{name}" not in doc)
    assert not missing, f"docs/operations.md does not document {missing}"
