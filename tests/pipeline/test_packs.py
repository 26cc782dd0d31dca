"""Repartition packs: moved events wait per destination partition, go out as one message, and are applied once."""

from __future__ import annotations

import orjson
import pytest

from healthmon.config import Settings
from healthmon.ingest import partition_for
from healthmon.ingest.repartition import Source, decode_pack, encode_repartitioned, pack_entries
from healthmon.pipeline.packs import RepartitionPacks
from tests.core.builders import T0, usage
from tests.ingest.malformed import GOOD_USAGE
from tests.pipeline.test_processor import PARTITIONS, _processor

ACCOUNTS = ["acc-1", "acc-2", "acc-3", "acc-4", "acc-5", "acc-6"]


def entry(n: int) -> bytes:
    return encode_repartitioned("usage", Source("product-usage", 0, n), [(None, usage(T0 + n, f"u{n}"))])


def test_a_pack_goes_out_when_it_holds_enough_events_and_the_rest_when_taken():
    packs = RepartitionPacks(max_events=3, max_bytes=1 << 20)
    assert packs.add(1, entry(0), 1) == [] and packs.add(2, entry(1), 1) == [] and packs.add(1, entry(2), 1) == []
    [(partition, body)] = packs.add(1, entry(3), 1)
    assert partition == 1 and [e.source.offset for e in decode_pack(body)] == [0, 2, 3]
    assert len(packs) == 1
    [(partition, body)] = packs.take()
    assert partition == 2 and [e.source.offset for e in decode_pack(body)] == [1]
    assert packs.take() == [] and len(packs) == 0


def test_an_entry_that_would_overflow_a_pack_sends_the_pack_first_and_a_big_entry_goes_alone():
    size = len(entry(0))
    packs = RepartitionPacks(max_events=100, max_bytes=size * 2)
    assert packs.add(0, entry(0), 1) == []
    assert packs.add(0, entry(1), 1) != []  # exactly full: sent
    big = encode_repartitioned("usage", Source("product-usage", 0, 9), [(i, usage(T0 + i, f"u{i}")) for i in range(9)])
    assert packs.add(0, entry(2), 1) == []
    sent = packs.add(0, big, 9)
    assert [[e.source.offset for e in decode_pack(body)] for _, body in sent] == [[2], [9]]


def test_a_bare_entry_from_an_earlier_release_reads_as_a_pack_of_one():
    [decoded] = decode_pack(entry(7))
    assert decoded.source == Source("product-usage", 0, 7)
    assert [e.source for e in pack_entries(entry(7))] == [Source("product-usage", 0, 7)]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(kafka={"broker_url": "kafka://127.0.0.1:9"}, redis={"url": ""}, topics={"partitions": PARTITIONS},
                    store={"data_dir": tmp_path})


def packing(settings: Settings):
    processor = _processor(settings, {})
    processor.outputs.packs = RepartitionPacks()
    return processor


async def test_moved_events_wait_in_packs_then_are_applied_once_per_pack_and_a_redelivery_is_a_duplicate(settings):
    processor = packing(settings)
    usage_topic = settings.topics.input_names["usage"]
    moved = 0
    for n in range(60):
        account = ACCOUNTS[n % len(ACCOUNTS)]
        away = (partition_for(account, PARTITIONS) + 1) % PARTITIONS
        value = orjson.dumps({**GOOD_USAGE, "account_id": account, "event_id": f"e{n}",
                              "occurred_at": "2026-11-18T09:00:00Z", "user_id": f"u{n}"})
        await processor.on_message(usage_topic, away, n, None, value)
        moved += 1
    assert processor.topics.repartition.sent == []  # waiting in packs
    await processor.flush_repartition()
    sent = processor.topics.repartition.sent
    homes = processor.topics.repartition.partitions
    assert len(sent) == len(set(homes)) <= PARTITIONS  # one pack per destination partition
    for (key, body), home in zip(sent, homes):
        assert {e.items[0][1].account_id for e in decode_pack(body)} <= \
            {a for a in ACCOUNTS if partition_for(a, PARTITIONS) == home}
        await processor.on_message(settings.repartition_topic, home, 0, key, body)
    ok = processor.metrics.events.labels("product-usage", "ok")
    assert ok._value.get() == moved
    for (key, body), home in zip(sent, homes):  # redelivered after a crash: nothing counts twice
        await processor.on_message(settings.repartition_topic, home, 0, key, body)
    assert ok._value.get() == moved
    assert processor.metrics.events.labels("product-usage", "duplicate")._value.get() == moved


async def test_a_pack_that_crashes_is_dead_lettered_once_per_entry_at_each_input_position(settings):
    processor = packing(settings)
    usage_topic = settings.topics.input_names["usage"]
    account = ACCOUNTS[0]
    home = partition_for(account, PARTITIONS)
    away = (home + 1) % PARTITIONS
    for offset in (41, 42):
        value = orjson.dumps({**GOOD_USAGE, "account_id": account, "event_id": f"e{offset}"})
        await processor.on_message(usage_topic, away, offset, None, value)
    await processor.flush_repartition()
    [(key, body)] = processor.topics.repartition.sent
    await processor.dead_letter_crash(settings.repartition_topic, home, 3, key, body, RuntimeError("boom"))
    letters = [orjson.loads(v) for _, v in processor.topics.deadletter.sent]
    assert [(d["source_topic"], d["source_partition"], d["source_offset"]) for d in letters] == \
        [(usage_topic, away, 41), (usage_topic, away, 42)]
    assert {d["reason"] for d in letters} == {"processing_error"}
