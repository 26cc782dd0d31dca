"""Moved events are merged at their account's partition by event time, one evaluation interval at a time."""

from __future__ import annotations

import itertools

import pytest

from healthmon.pipeline.alignment import Aligner, Backlog, Pending
from healthmon.pipeline.moved_merge import MovedMerge
from healthmon.pipeline.pacing import Progress
from healthmon.pipeline.pending import NO_EVENT_TIME

SEG = "segment-tracks"
MOVED = "events-by-account"
HOUR = 3_600_000
PARTITIONS = 3


def _merge(unknown_wait_ms: int = 10_000) -> MovedMerge:
    return MovedMerge(MOVED, {SEG: PARTITIONS}, HOUR, unknown_wait_ms)


def _entries(source: int, *events: tuple[int, int, str]) -> list[tuple[int, str, int, int, str, object]]:
    """Entries from `segment-tracks[source]`: (event time, source offset, account)."""
    return [(t, SEG, source, offset, account, f"{source}@{offset}:{account}") for t, offset, account in events]


def _drain(merge: MovedMerge, partition: int, now_ms: int = 0) -> list[object]:
    out = []
    while (head := merge.head(partition)) is not None and merge.allows(partition, head, now_ms):
        out.append(merge.pop(partition).entry)
    return out


#: two packs bound for partition 0, from sources 1 and 2, whose events interleave in event time
PACKS = [(10, _entries(1, (5 * HOUR + 30, 100, "a"), (6 * HOUR + 10, 101, "b"))),
         (11, _entries(2, (5 * HOUR + 20, 200, "a"), (5 * HOUR + 40, 201, "c"), (6 * HOUR + 5, 202, "a")))]
DONE = [((SEG, 1), Progress(0, True)), ((SEG, 2), Progress(0, True))]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(PACKS)))))
def test_the_release_order_depends_on_event_time_and_source_not_on_arrival(order):
    merge = _merge()
    for n in order:
        offset, entries = PACKS[n]
        merge.add(0, offset, f"pack{offset}", entries)
    for source, progress in DONE:
        merge.mark(0, source, progress)
    assert _drain(merge, 0) == ["2@200:a", "1@100:a", "2@201:c", "2@202:a", "1@101:b"]


def test_an_entry_waits_until_every_other_source_is_past_the_start_of_its_interval():
    merge = _merge()
    merge.add(0, 10, "pack", _entries(1, (5 * HOUR + 30, 100, "a"), (6 * HOUR + 10, 101, "b")))
    merge.mark(0, (SEG, 1), Progress(7 * HOUR, False))
    assert _drain(merge, 0) == []  # nothing known of source 2: anything of it may still come
    merge.mark(0, (SEG, 2), Progress(5 * HOUR - 1, False))
    assert _drain(merge, 0) == []  # source 2 may still move an event from before 5 h
    merge.mark(0, (SEG, 2), Progress(5 * HOUR, False))
    assert _drain(merge, 0) == ["1@100:a"]  # the rest of 5 h may come in any order: no evaluation falls inside
    merge.mark(0, (SEG, 2), Progress(5 * HOUR + 50, False))  # a lower mark than one read is no news
    merge.mark(0, (SEG, 2), Progress(5 * HOUR + 40, False))
    assert _drain(merge, 0) == []
    merge.mark(0, (SEG, 2), Progress(5 * HOUR + 50, True))  # caught up: it holds nothing back
    assert _drain(merge, 0) == ["1@101:b"]


def test_a_partition_is_no_source_of_its_own_moved_events():
    merge = _merge()
    merge.add(1, 10, "pack", _entries(2, (5 * HOUR, 100, "a")))
    merge.mark(1, (SEG, 0), Progress(5 * HOUR, False))
    merge.mark(1, (SEG, 2), Progress(5 * HOUR, False))
    assert _drain(merge, 1) == ["2@100:a"]


def test_a_source_no_mark_was_read_of_holds_for_the_unknown_wait_then_is_left_out_and_reported_once():
    merge = _merge(unknown_wait_ms=1000)
    merge.add(0, 10, "pack", _entries(1, (5 * HOUR, 100, "a")))
    merge.mark(0, (SEG, 1), Progress(9 * HOUR, False))
    assert _drain(merge, 0, now_ms=0) == []
    assert _drain(merge, 0, now_ms=999) == []
    assert _drain(merge, 0, now_ms=1000) == ["1@100:a"]
    assert merge.gave_up == {(0, SEG, 2): 1000}
    merge.gave_up.clear()
    merge.add(0, 11, "pack", _entries(1, (6 * HOUR, 101, "a")))
    assert _drain(merge, 0, now_ms=5000) == ["1@101:a"] and merge.gave_up == {}


def test_a_removal_goes_after_the_events_of_its_account_held_before_it():
    merge = _merge()
    merge.add(0, 10, "pack", [*_entries(1, (5 * HOUR, 100, "a"), (5 * HOUR + 5, 101, "b")),
                              (-1, SEG, 1, 102, "a", "removal-a")], removals=frozenset({2}))
    for source, progress in DONE:
        merge.mark(0, source, progress)
    assert _drain(merge, 0) == ["1@100:a", "removal-a", "1@101:b"]


def test_a_message_is_done_once_all_its_entries_are_processed_and_through_names_the_released_prefix():
    merge = _merge()
    merge.add(0, 10, "pack10", _entries(1, (5 * HOUR, 100, "a"), (7 * HOUR, 101, "b")))
    merge.add(0, 11, "pack11", _entries(2, (6 * HOUR, 200, "a")))
    for source, progress in DONE:
        merge.mark(0, source, progress)
    first, second, third = (merge.pop(0) for _ in range(3))
    assert [m.entry for m in (first, second, third)] == ["1@100:a", "2@200:a", "1@101:b"]
    # pack 11 is released whole before pack 10: an account that records 11 must not skip the rest of pack 10
    assert [first.through, second.through, third.through] == [9, 9, 11]
    merge.requeue(third)  # released, not processed (the agent stopped): held again, pack 10 not done
    assert not first.done() and second.done()
    assert merge.drop_partitions({0}) == ["pack10"]


def test_a_requeued_entry_goes_back_in_its_place():
    merge = _merge()
    merge.add(0, 10, "pack", _entries(1, (5 * HOUR, 100, "a"), (5 * HOUR + 1, 101, "b")))
    for source, progress in DONE:
        merge.mark(0, source, progress)
    first = merge.pop(0)
    merge.requeue(first)
    assert _drain(merge, 0) == ["1@100:a", "1@101:b"]


class _Caught:
    def backlog(self, topic: str, partition: int, received: int) -> Backlog:
        return Backlog.NONE


def _aligner(merge: MovedMerge) -> Aligner:
    return Aligner([SEG], 500, _Caught().backlog, lambda: 0, merge=merge)


def _pack(offset: int, partition: int = 0) -> Pending:
    return Pending(MOVED, partition, offset, -1, 0, (f"event{offset}", None))


def test_the_partition_s_own_events_wait_for_moved_events_of_earlier_intervals():
    merge = _merge()
    aligner = _aligner(merge)
    aligner.add(Pending(SEG, 0, 7, 6 * HOUR + 1, 0, ("own", None)))
    aligner.add_moved(_pack(10), _entries(1, (5 * HOUR + 30, 100, "a")), frozenset(),
                      [((SEG, 1), Progress(6 * HOUR + 5, False))])
    # source 2 may still move events from before 6 h: neither the 5 h entry's successors nor the own event go
    assert [(m.topic, m.offset) for m in aligner.release()] == []
    aligner.add_moved(_pack(11), [], frozenset(), [((SEG, 2), Progress(5 * HOUR + 40, False))])
    assert [(m.topic, m.offset) for m in aligner.release()] == [(MOVED, 10)]
    aligner.add_moved(_pack(12), _entries(2, (5 * HOUR + 50, 201, "c")), frozenset(),
                      [((SEG, 2), Progress(6 * HOUR, False))])
    released = aligner.release()
    assert [(m.topic, m.offset) for m in released] == [(MOVED, 12), (SEG, 7)]
    assert released[0].payload[0] == "event12" and released[0].payload[1].entry == "2@201:c"


def test_the_moved_topic_s_progress_is_its_first_held_entry():
    from healthmon.pipeline.pacing import Pace

    pace = Pace({SEG: PARTITIONS}, 3 * HOUR, 10_000, moved={MOVED: PARTITIONS})
    aligner = Aligner([SEG], 500, _Caught().backlog, lambda: 0, merge=_merge(), pace=pace)
    aligner.add_moved(_pack(10), _entries(1, (6 * HOUR, 100, "a")), frozenset(), [])
    aligner.add_moved(_pack(11), _entries(2, (5 * HOUR, 200, "a")), frozenset(), [])
    assert aligner.progress(MOVED, 0) == Progress(5 * HOUR, False)


def test_a_moved_entry_waits_while_the_partition_s_own_input_may_still_deliver_older_events():
    backlog = {"now": Backlog.ON_BROKER}  # e.g. just assigned after a rebalance, not fetched yet
    aligner = Aligner([SEG], 500, lambda topic, partition, received: backlog["now"], lambda: 0, merge=_merge())
    aligner.add_moved(_pack(10), _entries(1, (5 * HOUR, 100, "a")), frozenset(), DONE)
    assert aligner.release() == []
    backlog["now"] = Backlog.NONE
    assert [(m.topic, m.offset) for m in aligner.release()] == [(MOVED, 10)]


def test_a_moved_partition_read_to_its_end_is_caught_up_and_its_progress_is_published():
    from healthmon.pipeline.pacing import Pace

    ends = {(MOVED, 0): 11}  # the broker's last offset of events-by-account[0]: a message of marks alone

    def backlog(topic: str, partition: int, received: int) -> Backlog:
        return Backlog.NONE if received >= ends.get((topic, partition), -1) else Backlog.ON_BROKER

    pace = Pace({SEG: PARTITIONS}, 3 * HOUR, 10_000, moved={MOVED: PARTITIONS})
    aligner = Aligner([SEG], 500, backlog, lambda: 0, merge=_merge(), pace=pace)
    assert aligner.progress(MOVED, 0) is None  # nothing received yet: not known
    assert aligner.add_moved(_pack(11), [], frozenset(), DONE) is False  # marks alone: acked at once
    # read to its end, nothing held: caught up, so the pace need not wait for it (it waited the unknown wait)
    assert aligner.progress(MOVED, 0) == Progress(NO_EVENT_TIME, True)
