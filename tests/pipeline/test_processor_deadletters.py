"""One judgement per event: an event is judged at its first decode, and every dead letter names its input position."""

from __future__ import annotations

import orjson
import pytest

from healthmon.config import Settings
from healthmon.ingest import partition_for
from tests.ingest.malformed import GOOD_USAGE
from tests.pipeline.test_processor import PARTITIONS, _processor

ACCOUNT = "acc-1"
HOME = partition_for(ACCOUNT, PARTITIONS)
ELSEWHERE = (HOME + 1) % PARTITIONS  # a null or junk key lands the event away from its account's partition
KEYS = {"null key": None, "non-UTF-8 key": b"\xff\xfe\x80", "account key": ACCOUNT.encode()}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(kafka={"broker_url": "kafka://127.0.0.1:9"}, redis={"url": ""}, topics={"partitions": PARTITIONS},
                    store={"data_dir": tmp_path})


def _usage(occurred_at: object) -> bytes:
    return orjson.dumps({**GOOD_USAGE, "account_id": ACCOUNT, "occurred_at": occurred_at})


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
@pytest.mark.parametrize("occurred_at", [
    "1970-01-01T00:00:00Z", 0, "0001-01-01T00:00:00Z", "1999-12-31T23:59:59.999Z", 946_684_799_999,
    "2000-01-01T00:59:59+01:00",
])
async def test_an_event_before_2000_is_dead_lettered_at_its_input_position_and_never_repartitioned(
        settings, key, occurred_at):
    processor = _processor(settings, {})
    usage = settings.topics.input_names["usage"]
    await processor.on_message(usage, ELSEWHERE, 41, key, _usage(occurred_at))
    assert processor.topics.repartition.sent == []
    [(dl_key, body)] = processor.topics.deadletter.sent
    letter = orjson.loads(body)
    assert letter["reason"] == "schema_violation"
    # before the epoch nothing is representable; after it, HEALTHMON_MIN_OCCURRED_AT (2000-01-01) decides
    assert letter["error"].startswith(("occurred_at: before 2000-01-01T00:00:00Z, the earliest time accepted",
                                       "occurred_at: before 1970-01-01T00:00:00Z, the earliest time representable"))
    assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (usage, ELSEWHERE, 41)
    assert dl_key == key


@pytest.mark.parametrize("key", list(KEYS.values()), ids=list(KEYS))
@pytest.mark.parametrize("occurred_at", ["2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00", 946_684_800_000])
async def test_an_event_at_the_bound_is_accepted_on_both_sides_of_the_repartition_topic(settings, key, occurred_at):
    processor = _processor(settings, {})
    await processor.on_message(settings.topics.input_names["usage"], ELSEWHERE, 41, key, _usage(occurred_at))
    assert processor.topics.deadletter.sent == []
    [(moved_key, moved)] = processor.topics.repartition.sent
    repartition = settings.repartition_topic
    await processor.on_message(repartition, HOME, 0, moved_key, moved)
    assert processor.topics.deadletter.sent == []
    assert processor.metrics.events.labels("product-usage", "ok")._value.get() == 1


async def test_a_repartitioned_message_that_crashes_is_dead_lettered_at_its_input_position(settings):
    processor = _processor(settings, {})
    usage = settings.topics.input_names["usage"]
    await processor.on_message(usage, ELSEWHERE, 41, None, _usage("2026-11-18T09:00:00Z"))
    [(moved_key, moved)] = processor.topics.repartition.sent
    repartition = settings.repartition_topic
    await processor.dead_letter_crash(repartition, HOME, 3, moved_key, moved, RuntimeError("boom"))
    [(_, body)] = processor.topics.deadletter.sent
    letter = orjson.loads(body)
    assert letter["reason"] == "processing_error" and letter["error"] == "RuntimeError: boom"
    assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (usage, ELSEWHERE, 41)
    assert processor.metrics.events.labels("product-usage", "dead_letter")._value.get() == 1


async def test_a_repartition_message_without_a_source_is_dead_lettered_where_it_is(settings):
    processor = _processor(settings, {})
    repartition = settings.repartition_topic
    await processor.dead_letter_crash(repartition, HOME, 3, b"k", b"not json", ValueError("bad"))
    letter = orjson.loads(processor.topics.deadletter.sent[0][1])
    assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (repartition, HOME, 3)
