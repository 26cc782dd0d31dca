"""Over the real broker: two applications reading the same inputs keep their internal topics apart."""

from __future__ import annotations

import time

import orjson
import pytest

from healthmon.ingest import partition_for
from healthmon.kafka.broker import free_port
from tests.fixtures import metric_value
from tests.ingest.malformed import GOOD_USAGE

pytestmark = pytest.mark.integration

ACCOUNTS = [f"acc-{n}" for n in range(6)]


def wait_ok(worker, count: int, timeout_s: float = 90.0) -> None:
    """Wait until `worker` has applied `count` usage events."""
    deadline = time.monotonic() + timeout_s
    ok = 0.0
    while time.monotonic() < deadline:
        ok = metric_value(worker.get("/metrics")[1], "healthmon_events_total", topic="product-usage", outcome="ok")
        if ok >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"{ok} of {count} events applied\n{worker.log_tail()}")


async def test_two_app_ids_on_one_broker_each_repartition_through_their_own_topic(worker_factory, topic_io):
    production = worker_factory()
    settings = production.settings
    # A shadow deployment beside production: the same input topics, its own app id, view and port.
    shadow_settings = settings.replace(worker={"app_id": settings.worker.app_id + "-shadow"},
                                       redis={"prefix": settings.redis.prefix + "shadow:"}, http={"port": free_port()})
    shadow = worker_factory(settings=shadow_settings)
    production.wait_ready()
    shadow.wait_ready()
    assert settings.repartition_topic == f"{settings.worker.app_id}-events-by-account"
    assert shadow_settings.repartition_topic == f"{settings.worker.app_id}-shadow-events-by-account"

    usage = settings.topics.input_names["usage"]
    partitions = settings.topics.partitions
    now = int(time.time() * 1000) - 60_000
    sent = 0
    for account in ACCOUNTS:
        # Every event on a partition its account does not own, as an unkeyed producer would place it.
        wrong = (partition_for(account, partitions) + 1) % partitions
        values = [orjson.dumps({**GOOD_USAGE, "account_id": account, "event_id": f"{account}-{n}",
                                "occurred_at": now + n}) for n in range(5)]
        await topic_io.send(usage, values, key=None, partition=wrong)
        sent += len(values)

    wait_ok(production, sent)
    wait_ok(shadow, sent)
    # Each application moved every event through its own topic, and read only those: a shared topic would
    # hold both applications' packs, twice the events.
    for topic in (settings.repartition_topic, shadow_settings.repartition_topic):
        packs = await topic_io.read(topic, min_count=1, timeout_s=30)
        assert sum(len(entry["events"]) for record in packs for entry in orjson.loads(record.value)["entries"]) \
            == sent, topic
    for worker in (production, shadow):
        text = worker.get("/metrics")[1]
        assert metric_value(text, "healthmon_events_total", topic="product-usage", outcome="ok") == sent
        assert metric_value(text, "healthmon_events_total", topic="product-usage", outcome="duplicate") == 0
