"""The processor observes a message's event lags at once: the exposition is that of one observe per event."""

from __future__ import annotations

import asyncio

import orjson
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from healthmon.config import Settings
from healthmon.ingest import partition_for
from tests.pipeline.test_processor import PARTITIONS, _processor

NOW_MS = 1_788_220_800_000
BOUNDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400, 604800)


def _lines(registry: CollectorRegistry, name: str) -> list[str]:
    return [line.removeprefix(name) for line in generate_latest(registry).decode().splitlines()
            if line.startswith(name) and "_created" not in line and 'topic="product-usage"' in line]


def test_an_envelope_of_usage_events_fills_the_histogram_as_one_observe_each() -> None:
    settings = Settings(topics={"partitions": PARTITIONS}, redis={"url": ""})
    processor = _processor(settings, {})
    processor.wall_ms = lambda: NOW_MS
    lags_ms = [0, 50, 999, 1_000, 7_777, 3_600_000, 86_400_000, 90_000_000]
    events = [{"event_id": f"e{n}", "account_id": "acme", "user_id": "u1", "feature": "login",
               "occurred_at": NOW_MS - lag} for n, lag in enumerate(lags_ms)]
    topic = settings.topics.input_names["usage"]
    for offset, batch in enumerate((events[:5], events[5:])):
        asyncio.run(processor.on_message(topic, partition_for("acme", PARTITIONS), offset, b"acme",
                                         orjson.dumps({"events": batch})))
    expected = CollectorRegistry()
    each = Histogram("healthmon_event_lag_seconds", "lag", ["topic"], registry=expected, buckets=BOUNDS)
    for lag in lags_ms:  # in message order
        each.labels("product-usage").observe(lag / 1000)
    got = _lines(processor.metrics.registry, "healthmon_event_lag_seconds")
    assert got and got == _lines(expected, "healthmon_event_lag_seconds")
