"""The stall watch: which owned partitions stopped making progress with messages left to process."""

from __future__ import annotations

import pytest

from streams.stallwatch import PartitionProgress, StallWatch

STALL_MS = 60_000


def progress(committed: int, highwater: int | None = 100, in_flight: int = 0, key: str = "t[0]") -> PartitionProgress:
    return PartitionProgress(key, committed, highwater, in_flight)


def stalled_keys(watch: StallWatch, now_ms: int, *rows: PartitionProgress) -> list:
    return [p.key for p in watch.check(now_ms, list(rows))]


@pytest.mark.parametrize("first, later, stalled", [
    # stuck below the end, nothing on its way: re-read
    (progress(10), progress(10), True),
    # the commit moved: progress
    (progress(10), progress(11), False),
    # caught up: nothing left to process
    (progress(100), progress(100), False),
    # messages below the first acked offset are on their way (queued, held by the aligner, processing)
    (progress(10, in_flight=3), progress(10, in_flight=3), False),
    (progress(10), progress(10, in_flight=1), False),
    # the end is not known yet (never fetched)
    (progress(10, highwater=None), progress(10, highwater=None), False),
])
def test_a_partition_is_stalled_only_when_stuck_below_its_end_with_nothing_on_its_way(first, later, stalled):
    watch = StallWatch(STALL_MS)
    assert stalled_keys(watch, 0, first) == []
    assert stalled_keys(watch, STALL_MS, later) == (["t[0]"] if stalled else [])


def test_it_waits_the_whole_stall_time_and_reports_each_stuck_offset_once():
    watch = StallWatch(STALL_MS)
    assert stalled_keys(watch, 0, progress(10)) == []
    assert stalled_keys(watch, STALL_MS - 1, progress(10)) == []
    assert stalled_keys(watch, STALL_MS, progress(10)) == ["t[0]"]
    # re-reading did not help (nothing there to deliver): not reported again for the same offset
    assert stalled_keys(watch, 5 * STALL_MS, progress(10)) == []
    # it moved, then stuck again: a new stall, reported after a whole stall time
    assert stalled_keys(watch, 6 * STALL_MS, progress(20)) == []
    assert stalled_keys(watch, 7 * STALL_MS - 1, progress(20)) == []
    assert stalled_keys(watch, 7 * STALL_MS, progress(20)) == ["t[0]"]


def test_activity_in_between_restarts_the_clock():
    watch = StallWatch(STALL_MS)
    watch.check(0, [progress(10)])
    watch.check(STALL_MS // 2, [progress(10, in_flight=2)])  # busy: its messages are being processed
    assert stalled_keys(watch, STALL_MS, progress(10)) == []
    assert stalled_keys(watch, STALL_MS // 2 + STALL_MS, progress(10)) == ["t[0]"]


def test_partitions_are_judged_apart_and_forgotten_when_no_longer_owned():
    watch = StallWatch(STALL_MS)
    watch.check(0, [progress(10, key="a"), progress(10, key="b")])
    assert stalled_keys(watch, STALL_MS, progress(10, key="a"), progress(11, key="b")) == ["a"]
    # "a" is revoked, then comes back: its clock starts again
    watch.check(STALL_MS + 1, [progress(11, key="b")])
    assert stalled_keys(watch, 2 * STALL_MS, progress(10, key="a")) == []
    assert stalled_keys(watch, 3 * STALL_MS, progress(10, key="a")) == ["a"]


def test_reset_starts_every_clock_again():
    watch = StallWatch(STALL_MS)
    watch.check(0, [progress(10)])
    watch.reset()
    assert stalled_keys(watch, STALL_MS, progress(10)) == []
    assert stalled_keys(watch, 2 * STALL_MS, progress(10)) == ["t[0]"]


def test_no_stall_is_counted_while_the_broker_does_not_answer():
    # A broker pause longer than the stall time: no commit could move, so it is no stall (the drill
    # `broker-pause` re-read every partition before the watch knew of the broker).
    watch = StallWatch(STALL_MS)
    assert stalled_keys(watch, 0, progress(10)) == []
    assert watch.check(STALL_MS, [progress(10)], broker_reachable=False) == []
    assert watch.check(3 * STALL_MS, [progress(10)], broker_reachable=False) == []
    # it answers again: the clock starts from there, and a partition still stuck then is reported
    assert stalled_keys(watch, 4 * STALL_MS - 1, progress(10)) == []
    assert stalled_keys(watch, 4 * STALL_MS, progress(10)) == ["t[0]"]
