"""Over the real broker: events placed by CRC32 (librdkafka's default) reach their accounts, packed, none re-read."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from healthmon.bench.repartitioned import crc32_partition
from healthmon.bench.workload import produce_messages
from healthmon.ingest import partition_for
from tests.fixtures import metric_value
from tests.ingest.malformed import GOOD_USAGE

pytestmark = pytest.mark.integration

ACCOUNTS = [f"acct-{n:02d}" for n in range(30)]
#: more than Faust's stream buffer (16,384) holds: its poller blocks behind the input backlog
EVENTS = 24_000


def wait_ok(worker, count: int, timeout_s: float = 300.0) -> str:
    """Wait until `worker` has applied `count` usage events; return its metrics page."""
    deadline = time.monotonic() + timeout_s
    ok = 0.0
    while time.monotonic() < deadline:
        text = worker.get("/metrics")[1]
        ok = metric_value(text, "healthmon_events_total", topic="product-usage", outcome="ok")
        if ok >= count:
            return text
        time.sleep(0.5)
    raise AssertionError(f"{ok} of {count} events applied\n{worker.log_tail()}")


async def test_a_crc32_placed_backlog_is_applied_through_packs_without_a_stuck_partition(worker_factory, topic_io):
    # A stuck time far below how long the backlog takes: any partition that waits unseen is read again.
    worker = worker_factory(worker={"stuck_partition_seconds": 2.0})
    settings = worker.settings
    worker.wait_ready()
    partitions = settings.topics.partitions
    start = int(time.time() * 1000) - 3_600_000
    messages = []
    away = 0
    for n in range(EVENTS):
        account = ACCOUNTS[n % len(ACCOUNTS)]
        key = account.encode()
        placed = crc32_partition(key, partitions)
        away += placed != partition_for(account, partitions)
        body = orjson.dumps({**GOOD_USAGE, "account_id": account, "event_id": f"e-{n}", "occurred_at": start + n})
        messages.append(("usage", key, placed, body, 1))
    assert away > EVENTS // 2  # most go through the repartition topic
    await produce_messages(topic_io.bootstrap, settings.topics.input_names, messages)

    text = await asyncio.to_thread(wait_ok, worker, EVENTS)
    assert metric_value(text, "healthmon_partition_rereads_total", topic="repartition") == 0, worker.log_tail()
    assert "made no progress" not in worker.log_path.read_text()
    for outcome in ("duplicate", "dead_letter", "too_late"):
        assert metric_value(text, "healthmon_events_total", topic="product-usage", outcome=outcome) == 0, outcome

    # Every moved event went out once, in packs of many (one message per moved event before packs).
    packs = await topic_io.read(settings.repartition_topic, min_count=1, timeout_s=30)
    entries = [entry for record in packs for entry in orjson.loads(record.value)["entries"]]
    assert sum(len(entry["events"]) for entry in entries) == away
    assert len(packs) < away // 10, len(packs)
