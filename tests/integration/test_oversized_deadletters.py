"""Over the real broker: a message far over every size limit is dead-lettered as a bounded record."""

from __future__ import annotations

import base64
import hashlib
import time

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.fixtures import metric_value
from tests.ingest.malformed import GOOD_USAGE

pytestmark = pytest.mark.integration

TWO_MB = 2 * 1024 * 1024


async def _send_large(bootstrap: str, topic: str, value: bytes, key: bytes) -> None:
    # The client's own limit (1 MB by default) would refuse it before the broker sees it.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks=1,
                                max_request_size=4 * TWO_MB)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, partition=0)
    finally:
        await producer.stop()


async def test_a_2mb_message_gets_a_bounded_too_large_dead_letter_and_the_next_event_counts(worker_factory,
                                                                                          topic_io):
    worker = worker_factory(ingest={"deadletter_max_raw_bytes": 65_536})
    settings = worker.settings
    worker.wait_ready()
    now = int(time.time() * 1000)
    big = orjson.dumps({**GOOD_USAGE, "event_id": "big", "occurred_at": now - 60_000,
                        "properties": {"blob": "x" * TWO_MB}})
    assert len(big) > TWO_MB
    usage = settings.topics.input_names["usage"]
    await _send_large(topic_io.bootstrap, usage, big, key=b"acc-1")
    good = orjson.dumps({**GOOD_USAGE, "event_id": "after-big", "occurred_at": now - 30_000})
    await topic_io.send(usage, [good], key=b"acc-1", partition=0)

    records = await topic_io.read(settings.topics.deadletter_name, min_count=1, timeout_s=60)
    letters = [orjson.loads(r.value) for r in records]
    assert [d["reason"] for d in letters] == ["too_large"], worker.log_tail()
    [letter] = letters
    assert len(records[0].value) < 200_000
    assert letter["raw_bytes"] == len(big)
    assert letter["raw_sha256"] == hashlib.sha256(big).hexdigest()
    assert letter["raw_truncated"] is True
    assert base64.b64decode(letter["raw_base64"]) == big[:65_536]
    assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (usage, 0, 0)
    assert base64.b64decode(letter["key_base64"]) == b"acc-1"

    deadline = time.monotonic() + 30
    ok = 0.0
    while time.monotonic() < deadline and ok < 1:
        text = worker.get("/metrics")[1]
        ok = metric_value(text, "healthmon_events_total", topic="product-usage", outcome="ok")
        time.sleep(0.3)
    assert ok == 1, worker.log_tail()
    assert metric_value(text, "healthmon_dead_letters_total", reason="too_large") == 1
    assert "MessageSizeTooLarge" not in worker.log_path.read_text(errors="replace")
