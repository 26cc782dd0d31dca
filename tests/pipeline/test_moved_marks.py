"""Marks: each worker writes its input partitions' progress into the repartition topic after the events it moved,
and the receiver applies each moved entry in its turn, recording only the offsets it has released whole."""

from __future__ import annotations

import pytest

from healthmon.config import Settings
from healthmon.ingest import partition_for
from healthmon.ingest.repartition import Source, decode_pack, decode_pack_marks, encode_pack, encode_repartitioned
from healthmon.pipeline.moved_merge import MovedMerge
from healthmon.pipeline.pacing import Pace, Progress
from healthmon.pipeline.packs import RepartitionPacks
from tests.core.builders import T0, usage
from tests.pipeline.test_processor import PARTITIONS, _processor

HOUR = 3_600_000


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(kafka={"broker_url": "kafka://127.0.0.1:9"}, redis={"url": ""}, topics={"partitions": PARTITIONS},
                    store={"data_dir": tmp_path})


def entry(n: int, account: str = "acc-1") -> bytes:
    event = usage(T0 + n, f"u{n}", account=account)
    return encode_repartitioned("usage", Source("product-usage", 1, n), [(None, event)])


def test_marks_travel_after_the_entries_and_a_pack_without_them_reads_as_before():
    body = encode_pack([entry(1)], [("segment-tracks", 2, 5 * HOUR, False)])
    entries, marks = decode_pack_marks(body)
    assert [e.source for e in entries] == [Source("product-usage", 1, 1)]
    assert marks == [("segment-tracks", 2, 5 * HOUR, False)]
    assert decode_pack_marks(encode_pack([entry(1)]))[1] == [] and len(decode_pack(body)) == 1


def test_packs_carry_the_marks_and_a_partition_gets_them_alone_when_they_enter_another_interval():
    marks = [("segment-tracks", 0, 5 * HOUR + 10, False)]
    packs = RepartitionPacks()
    packs.marks, packs.partitions, packs.interval_ms, packs.heartbeat_ms = lambda: list(marks), 3, HOUR, 1000
    packs.add(1, entry(1), 1)
    taken = packs.take(now_ms=100)
    assert sorted(p for p, _ in taken) == [0, 1, 2]  # never told: every partition gets them
    assert all(decode_pack_marks(body)[1] == marks for _, body in taken)
    assert [len(decode_pack(body)) for p, body in sorted(taken)] == [0, 1, 0]
    marks[0] = ("segment-tracks", 0, 5 * HOUR + 50, False)
    assert not packs.marks_moved() and packs.take(now_ms=200) == []  # the same interval: no news to a receiver
    marks[0] = ("segment-tracks", 0, 6 * HOUR, False)
    assert packs.marks_moved()
    assert sorted(p for p, _ in packs.take(now_ms=300)) == [0, 1, 2]
    assert sorted(p for p, _ in packs.take(now_ms=1300)) == [0, 1, 2]  # a heartbeat


def test_a_partition_is_not_marked_caught_up_while_what_it_released_is_being_processed():
    pace = Pace({"segment-tracks": 2}, 3 * HOUR, 10_000, moved={"moved": 2})
    pace.queued("segment-tracks", 0, 5 * HOUR)
    pace.released("segment-tracks", 0, 5 * HOUR, None)
    pace.settle("segment-tracks", 0, queued=False, caught_up=True)  # the broker has nothing more
    owned = [("segment-tracks", 0), ("moved", 0)]
    assert pace.marks(owned) == [("segment-tracks", 0, 5 * HOUR, False)]
    pace.processed()
    pace.settle("segment-tracks", 0, queued=False, caught_up=True)
    assert pace.marks(owned) == [("segment-tracks", 0, 5 * HOUR, True)]


async def test_an_account_s_entries_released_across_messages_all_apply_and_a_redelivery_is_a_duplicate(settings):
    processor = _processor(settings, {})
    account = "acc-1"
    home = partition_for(account, PARTITIONS)
    merge = MovedMerge(settings.repartition_topic, {"product-usage": PARTITIONS}, HOUR, 0)
    # message 10 holds an event later than message 11's: 11 is released whole first
    bodies = {10: encode_pack([entry(5, account), entry(2 * HOUR, account)]), 11: encode_pack([entry(HOUR, account)])}
    for offset, body in bodies.items():
        inbound = processor.decode(settings.repartition_topic, home, offset, None, body)
        entries, removals, marks = processor.moved_entries(inbound.repartitioned, inbound.marks or [])
        merge.add(home, offset, inbound, entries, removals)
    for source in range(PARTITIONS):
        merge.mark(home, ("product-usage", source), Progress(0, True))
    while (head := merge.head(home)) is not None and merge.allows(home, head, 0):
        await processor.process_moved(merge.pop(home), 0)
    ok = processor.metrics.events.labels("product-usage", "ok")
    assert ok._value.get() == 3
    state = processor.state_of(account)
    assert state is not None and state.positions["repartition"] == 11
    inbound = processor.decode(settings.repartition_topic, home, 10, None, bodies[10])
    again = MovedMerge(settings.repartition_topic, {}, HOUR, 0)
    again.add(home, 10, inbound, processor.moved_entries(inbound.repartitioned, [])[0])
    while again.head(home) is not None:
        await processor.process_moved(again.pop(home), 0)
    assert ok._value.get() == 3
    assert processor.metrics.events.labels("product-usage", "duplicate")._value.get() == 2
