"""The metric-name extractor the dashboard and rule tests rely on."""

from __future__ import annotations

import pytest

from tests.deploy.promql import exposed_names, is_known_metric, metric_names


@pytest.mark.parametrize(("expr", "names"), [
    ("up", {"up"}),
    ('up{job="healthmon"} == 0', {"up"}),
    ('absent(up{job="healthmon"} == 1)', {"up"}),
    ("sum by (band) (healthmon_accounts)", {"healthmon_accounts"}),
    ("sum(healthmon_accounts) by (band, tier)", {"healthmon_accounts"}),
    ('sum(healthmon_accounts{band="green"}) / sum(healthmon_accounts)', {"healthmon_accounts"}),
    ("histogram_quantile(0.99, sum by (le, topic) (rate(healthmon_event_lag_seconds_bucket[5m]))) > 300",
     {"healthmon_event_lag_seconds_bucket"}),
    ('time() - min by (topic) (healthmon_watermark_timestamp_seconds{topic=~".*"} > 0)',
     {"healthmon_watermark_timestamp_seconds"}),
    ("sum(rate(healthmon_dead_letters_total[5m])) / sum(rate(healthmon_events_total[5m])) > 1e-2",
     {"healthmon_dead_letters_total", "healthmon_events_total"}),
    ("rate(healthmon_messages_total[5m] offset 1h) * on (instance) group_left (version) healthmon_build_info",
     {"healthmon_messages_total", "healthmon_build_info"}),
    ('label_replace(healthmon_source_stale, "t", "$1", "topic", "(.*)")', {"healthmon_source_stale"}),
    ("sum(rate(healthmon_events_total[5m])) unless sum(rate(healthmon_typo_total[5m]))",
     {"healthmon_events_total", "healthmon_typo_total"}),
    ("healthmon:events:rate5m > bool 0", {"healthmon:events:rate5m"}),
])
def test_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


@pytest.mark.parametrize(("name", "known"), [
    ("healthmon_events_total", True),
    ("healthmon_events", False),  # a counter is only ever selected with its _total suffix
    ("healthmon_health_score_bucket", True),
    ("healthmon_health_score", False),
    ("healthmon_accounts", True),
    ("healthmon_accounts_total", False),
    ("healthmon_event_lag_seconds_count", True),
    ("process_resident_memory_bytes", True),
    ("up", True),
    ("healthmon_typo_total", False),
])
def test_is_known_metric(name: str, known: bool) -> None:
    assert is_known_metric(name) is known


def test_exposed_names_cover_every_type() -> None:
    assert {"healthmon_alerts_total", "healthmon_event_lag_seconds_sum", "healthmon_build_info"} <= exposed_names()
