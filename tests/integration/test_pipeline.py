"""Over the real broker: produce, consume, count; events keyed by anything reach their account's partition."""

from __future__ import annotations

import time

import orjson
import pytest

from tests.fixtures import metric_value

pytestmark = pytest.mark.integration


async def test_produce_consume_count_with_and_without_account_keys(worker_factory, topic_io):
    worker = worker_factory()
    settings = worker.settings
    worker.wait_ready()
    now = int(time.time() * 1000)
    topic = settings.topics.input_names["usage"]
    keyed, unkeyed = [], []
    for n in range(200):
        account = f"acc-{n % 20:03d}"
        event = {"event_id": f"e{n}", "account_id": account, "user_id": f"u{n % 7}", "feature": "reports",
                 "occurred_at": now - (200 - n) * 1000}
        (keyed if n % 2 else unkeyed).append((account, orjson.dumps(event)))
    for account, value in keyed:
        await topic_io.send(topic, [value], key=account.encode())
    # No key: the producer scatters these over partitions; healthmon must move each to its account's partition.
    for _account, value in unkeyed:
        await topic_io.send(topic, [value], key=None)
    deadline = time.monotonic() + 60
    ok = 0.0
    while time.monotonic() < deadline:
        text = worker.get("/metrics")[1]
        ok = metric_value(text, "healthmon_events_total", topic="product-usage", outcome="ok")
        if ok >= 200:
            break
        time.sleep(0.5)
    assert ok == 200, worker.log_tail()
    assert metric_value(text, "healthmon_messages_total", topic="product-usage") == 200
    # Redelivering the same events counts them as duplicates, never twice.
    for account, value in keyed[:10]:
        await topic_io.send(topic, [value], key=account.encode())
    deadline = time.monotonic() + 30
    dup = 0.0
    while time.monotonic() < deadline and dup < 10:
        dup = metric_value(worker.get("/metrics")[1], "healthmon_events_total", topic="product-usage",
                           outcome="duplicate")
        time.sleep(0.3)
    assert dup == 10
    assert metric_value(worker.get("/metrics")[1], "healthmon_events_total", topic="product-usage",
                        outcome="ok") == 200
