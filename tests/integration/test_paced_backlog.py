"""Over the real broker: two workers start on a backlog of unkeyed Segment tracks, one partition holding most of
the history. Its partitions drain at their own speed, yet paced against each other across both workers,
no account gets one partition's events so far ahead of another's that the older ones come too late."""

from __future__ import annotations

import asyncio
import random
import time

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaProducer

from healthmon.ingest import partition_for
from healthmon.ingest.repartition import decode_pack_marks
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import free_port
from healthmon.kafka.connect import bootstrap_of
from tests.fixtures import metric_value

pytestmark = pytest.mark.integration

ACCOUNTS = [f"acc-{n:02d}" for n in range(20)]
DAYS = 12
#: events on partition 0; the others hold a tenth of that each, spread over the same days
HEAVY = 12_000
LIGHT = 1_200
DAY_MS = 86_400_000


def _track(n: int, account: str, at_ms: int) -> bytes:
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_ms / 1000)) + f".{at_ms % 1000:03d}Z"
    return orjson.dumps({"type": "track", "messageId": f"t-{n}", "userId": f"u-{account}", "event": "reports",
                         "timestamp": at, "context": {"groupId": account}})


def _outcomes(workers, outcome: str) -> float:
    return sum(metric_value(w.get("/metrics")[1], "healthmon_events_total", topic="product-usage", outcome=outcome)
               for w in workers)


@pytest.mark.parametrize("merge, keyed", [(False, False), (True, False), (True, True)],
                         ids=["arrival-order", "merged-by-event-time", "keyed-merged"])
async def test_two_workers_drain_a_segment_backlog_with_no_event_too_late(worker_factory, settings_factory, topic_io,
                                                                            tmp_path, merge: bool, keyed: bool) -> None:
    base = settings_factory(alignment={"merge_moved_events": merge})
    tracks = base.topics.prefix + "segment-tracks"
    (tmp_path / "inputs.yaml").write_text(yaml.safe_dump(
        {"inputs": [{"topic": tracks, "kind": "usage", "format": "segment"}]}))
    settings = base.replace(ingest={"inputs_file": str(tmp_path / "inputs.yaml")})
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka, inputs=[tracks],
                        app_id=settings.worker.app_id)
    partitions = settings.topics.partitions
    # The history is on the broker before any worker starts, in event-time order within each partition.
    rng = random.Random(22)
    start = int(time.time() * 1000) - (DAYS + 1) * DAY_MS
    placed: list[tuple[int, int, str]] = []
    for partition, count in [(0, HEAVY), *((p, LIGHT) for p in range(1, partitions))]:
        times = sorted(rng.randrange(start, start + DAYS * DAY_MS) for _ in range(count))
        # keyed: each partition holds its own accounts' tracks, so nothing moves, and the repartition topic
        # carries marks alone
        accounts = [a for a in ACCOUNTS if partition_for(a, partitions) == partition] if keyed else ACCOUNTS
        assert accounts
        placed += [(partition, at, rng.choice(accounts)) for at in times]
    await _send(settings, tracks, [(p, _track(n, account, at)) for n, (p, at, account) in enumerate(placed)])

    first = worker_factory(settings)
    second = worker_factory(settings.replace(http={"port": free_port()}, store={"data_dir": str(tmp_path / "d2")}))
    workers = (first, second)
    for worker in workers:
        worker.wait_ready()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and _outcomes(workers, "ok") + _outcomes(workers, "too_late") < len(placed):
        await asyncio.sleep(1)
    ok, late = _outcomes(workers, "ok"), _outcomes(workers, "too_late")
    assert ok + late >= len(placed), first.log_tail() + second.log_tail()  # a rebalance may apply some twice
    assert all(metric_value(w.get("/metrics")[1], "healthmon_messages_total", topic="product-usage")
               for w in workers), "one worker read every partition: the test shows nothing"
    assert late == 0, f"{late:.0f} of {len(placed)} events too late"
    # each worker knew the other's partitions through the progress topic: the pace never went on without one
    assert sum(metric_value(w.get("/metrics")[1], "healthmon_pace_gave_up_total", topic=t)
               for w in workers for t in ("product-usage", "repartition")) == 0
    # The packs carry progress marks exactly when HEALTHMON_MERGE_MOVED_EVENTS is on: with it off, nobody reads them
    assert settings.alignment.merge_moved_events is merge
    packs = await topic_io.read(settings.repartition_topic, min_count=1, timeout_s=30)
    marked = [record.offset for record in packs if decode_pack_marks(record.value)[1]]
    assert packs and bool(marked) is merge, f"{len(marked)} of {len(packs)} packs carry marks"
    # and no moved partition's progress went unknown until the pace gave up on it
    assert "no worker published the progress" not in first.log_path.read_text() + second.log_path.read_text()


async def _send(settings, topic: str, messages: list[tuple[int, bytes]]) -> None:
    """Send each message to its partition, unkeyed, as Segment's destination sends them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_of(settings.kafka.broker_url), acks=1,
                                enable_idempotence=False, linger_ms=20)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, partition=p) for p, value in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
