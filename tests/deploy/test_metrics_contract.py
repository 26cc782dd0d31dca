"""The metric names the dashboards, rules and docs rely on are the ones the workers register."""

from __future__ import annotations

from healthmon.serving.metrics import Metrics
from tests.deploy.promql import HEALTHMON_METRICS
from tests.deploy.promstack import REPO

BOUNDED_LABELS = {"topic", "outcome", "reason", "kind", "severity", "status", "band", "tier", "operation",
                  "version", "policy_version", "le"}


def _families() -> dict[str, tuple[str, set[str]]]:
    families = {}
    for family in Metrics().registry.collect():
        if family.name.startswith("healthmon_"):
            labels = {name for sample in family.samples for name in sample.labels}
            families[family.name] = (family.type, labels)
    return families


def test_workers_register_exactly_the_documented_metrics() -> None:
    assert {name: kind for name, (kind, _) in _families().items()} == HEALTHMON_METRICS


def test_metric_labels_are_bounded() -> None:
    for name, (_, labels) in _families().items():
        assert labels <= BOUNDED_LABELS, f"{name} has unbounded labels {labels - BOUNDED_LABELS}"


def test_operations_doc_lists_every_metric() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    exposed = {name + ("_total" if kind == "counter" else "") for name, kind in HEALTHMON_METRICS.items()}
    missing = sorted(name for name in exposed if f"`{name}" not in doc)
    assert not missing, f"docs/operations.md does not document {missing}"
