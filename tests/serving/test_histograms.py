"""Observing a message's lags at once renders exactly what prometheus-client renders for one observe each."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from healthmon.serving.histograms import observe_all
from healthmon.serving.metrics import Metrics

BOUNDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400, 604800)


def _exposition(registry: CollectorRegistry) -> list[bytes]:
    """Return the registry's text exposition but its `_created` lines (the instant each series was made)."""
    return [line for line in generate_latest(registry).splitlines() if b"_created" not in line]


def _pair() -> tuple[CollectorRegistry, Histogram, CollectorRegistry, Histogram]:
    one, many = CollectorRegistry(), CollectorRegistry()
    return (one, Histogram("lag_seconds", "lag", ["topic"], registry=one, buckets=BOUNDS),
            many, Histogram("lag_seconds", "lag", ["topic"], registry=many, buckets=BOUNDS))


@pytest.mark.parametrize("batches", [
    pytest.param([[0.0, 0.05, 1, 86400, 604800, 604800.5, 1e9]], id="on-the-bounds-and-past-the-last"),
    pytest.param([[0.1] * 10, [0.2, 0.3] * 7, [0.7]], id="sums-that-round"),
    pytest.param([[random.Random(n).expovariate(1 / 60) for _ in range(100)] for n in range(20)],
                 id="envelopes-of-100"),
    pytest.param([[], [3.5], []], id="empty-messages"),
])
def test_the_exposition_is_that_of_observing_each_value(batches) -> None:
    one, each, many, at_once = _pair()
    for topic in ("product-usage", "support-tickets"):
        for batch in batches:
            for amount in batch:
                each.labels(topic).observe(amount)
            observe_all(at_once.labels(topic), batch)
    assert _exposition(many) == _exposition(one)
    assert any(line.startswith(b'lag_seconds_count{topic="product-usage"}') for line in _exposition(many))


def test_the_workers_lag_histogram_is_one_it_can_fill() -> None:
    metrics = Metrics()
    observe_all(metrics.event_lag.labels("product-usage"), [0.2, 7200.0])
    text = generate_latest(metrics.registry).decode()
    assert 'healthmon_event_lag_seconds_bucket{le="0.25",topic="product-usage"} 1.0' in text
    assert 'healthmon_event_lag_seconds_count{topic="product-usage"} 2.0' in text
