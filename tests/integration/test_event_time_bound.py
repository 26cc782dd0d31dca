"""Over the real broker: an event dated before 2000 is judged once, at its input position, whatever its key."""

from __future__ import annotations

import time

import orjson
import pytest

from healthmon.ingest import partition_for
from tests.fixtures import metric_value
from tests.ingest.malformed import GOOD_USAGE

pytestmark = pytest.mark.integration

ACCOUNT = "acc-bound"
ANCIENT = {"1970": "1970-01-01T00:00:00Z", "year-1": "0001-01-01T00:00:00Z", "1999": "1999-12-31T23:59:59Z"}
#: each one's error: under the floor (HEALTHMON_MIN_OCCURRED_AT, 2000-01-01 by default), or before any time a
#: floor can be set to (1970, since the floor became a setting)
WHY = {"1970": "occurred_at: before 2000-01-01T00:00:00Z, the earliest time accepted",
       "year-1": "occurred_at: before 1970-01-01T00:00:00Z, the earliest time representable",
       "1999": "occurred_at: before 2000-01-01T00:00:00Z, the earliest time accepted"}


async def test_events_before_2000_with_null_and_non_utf8_keys_are_dead_lettered_at_their_input_position(
        worker_factory, topic_io):
    worker = worker_factory()
    settings = worker.settings
    worker.wait_ready()
    usage = settings.topics.input_names["usage"]
    # Not the account's partition: an event accepted here would travel through the repartition topic.
    partition = (partition_for(ACCOUNT, settings.topics.partitions) + 1) % settings.topics.partitions
    sent = []
    offset = 0
    for key in (None, b"\xff\xfe\x80"):
        for name, occurred_at in ANCIENT.items():
            raw = orjson.dumps({**GOOD_USAGE, "account_id": ACCOUNT, "event_id": f"{name}-{key!r}",
                                "occurred_at": occurred_at})
            await topic_io.send(usage, [raw], key=key, partition=partition)
            sent.append((offset, key, raw, WHY[name]))
            offset += 1
    good = orjson.dumps({**GOOD_USAGE, "account_id": ACCOUNT, "event_id": "good",
                         "occurred_at": int(time.time() * 1000) - 60_000})
    await topic_io.send(usage, [good], key=None, partition=partition)

    records = await topic_io.read(settings.topics.deadletter_name, min_count=len(sent), timeout_s=60)
    letters = sorted((orjson.loads(r.value) for r in records), key=lambda d: d["source_offset"])
    assert len(letters) == len(sent), worker.log_tail()
    for letter, (offset, key, _raw, why) in zip(letters, sent):
        assert letter["reason"] == "schema_violation", letter
        assert letter["error"].startswith(why), letter
        assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == \
            (usage, partition, offset)
        assert letter["key_base64"] is None if key is None else letter["key_base64"] == "//6A"

    deadline = time.monotonic() + 30
    ok = 0.0
    while time.monotonic() < deadline and ok < 1:
        text = worker.get("/metrics")[1]
        ok = metric_value(text, "healthmon_events_total", topic="product-usage", outcome="ok")
        time.sleep(0.3)
    assert ok == 1, worker.log_tail()
    assert metric_value(text, "healthmon_dead_letters_total", reason="processing_error") == 0
