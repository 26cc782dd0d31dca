"""Over the real broker: malformed messages land in the dead-letter topic, good ones keep flowing."""

from __future__ import annotations

import base64
import time

import orjson
import pytest

from tests.fixtures import metric_value
from tests.ingest.malformed import GOOD_USAGE, MALFORMED

pytestmark = pytest.mark.integration


def _now_ms() -> int:
    return int(time.time() * 1000)


def _good(n: int) -> bytes:
    return orjson.dumps({**GOOD_USAGE, "event_id": f"good-{n}", "occurred_at": _now_ms() - 60_000})


async def test_each_malformed_message_is_dead_lettered_and_the_agent_keeps_consuming(worker_factory, topic_io):
    worker = worker_factory(ingest={"max_message_bytes": 4096})
    settings = worker.settings
    worker.wait_ready()
    cases = [(m[0], m[1], m[2], m[3]) for m in MALFORMED if m[0] != "future"]
    future = orjson.dumps({**GOOD_USAGE, "event_id": "fut", "occurred_at": _now_ms() + 3_600_000})
    cases.append(("future", "usage", future, "future_timestamp"))
    sent_good = 0
    for n, (_name, kind, raw, _reason) in enumerate(cases):
        topic = settings.topics.input_names[kind]
        # A malformed message followed by a good one, on the same partition: the good one must still count.
        await topic_io.send(topic, [raw], key=b"acc-1", partition=0)
        await topic_io.send(settings.topics.input_names["usage"], [_good(n)], key=b"acc-1", partition=0)
        sent_good += 1
    records = await topic_io.read(settings.topics.deadletter_name, min_count=len(cases), timeout_s=60)
    letters = [orjson.loads(r.value) for r in records]
    assert len(letters) == len(cases), worker.log_tail()
    by_raw = {base64.b64decode(d["raw_base64"]): d for d in letters}
    for name, kind, raw, reason in cases:
        letter = by_raw.get(raw)
        assert letter is not None, f"{name}: not dead-lettered"
        assert letter["reason"] == reason, name
        assert letter["source_topic"] == settings.topics.input_names[kind], name
        assert letter["source_partition"] == 0
        assert letter["source_offset"] >= 0
        assert letter["error"]
        assert base64.b64decode(letter["key_base64"]) == b"acc-1"

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, text = worker.get("/metrics")
        ok = metric_value(text, "healthmon_events_total", topic="product-usage", outcome="ok")
        if ok >= sent_good:
            break
        time.sleep(0.5)
    assert ok == sent_good, worker.log_tail()
    dead = sum(metric_value(text, "healthmon_dead_letters_total", reason=r) for r in
               {c[3] for c in cases})
    assert dead == len(cases)
    assert worker.proc.poll() is None, "the worker must survive every malformed input"


async def test_batch_envelope_mixing_good_and_bad_events(worker_factory, topic_io):
    worker = worker_factory()
    settings = worker.settings
    worker.wait_ready()
    now = _now_ms()
    events = [
        {**GOOD_USAGE, "event_id": "b0", "occurred_at": now - 5000},
        {**GOOD_USAGE, "event_id": "b1", "feature": None, "occurred_at": now - 4000},
        {**GOOD_USAGE, "event_id": "b2", "occurred_at": now - 3000},
        {**GOOD_USAGE, "event_id": "b3", "occurred_at": "not a time"},
        {**GOOD_USAGE, "event_id": "b4", "occurred_at": now - 1000},
    ]
    await topic_io.send(settings.topics.input_names["usage"], [orjson.dumps({"events": events})], key=b"acc-1")
    records = await topic_io.read(settings.topics.deadletter_name, min_count=2, timeout_s=60)
    letters = sorted((orjson.loads(r.value) for r in records), key=lambda d: d["batch_index"])
    assert [(d["batch_index"], d["reason"]) for d in letters] == [(1, "schema_violation"), (3, "schema_violation")]
    assert orjson.loads(base64.b64decode(letters[0]["raw_base64"]))["event_id"] == "b1"
    deadline = time.monotonic() + 30
    ok = 0.0
    while time.monotonic() < deadline and ok < 3:
        ok = metric_value(worker.get("/metrics")[1], "healthmon_events_total", topic="product-usage", outcome="ok")
        time.sleep(0.3)
    assert ok == 3
