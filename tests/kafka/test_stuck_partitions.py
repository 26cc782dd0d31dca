"""The stall watch: which owned partitions stopped making progress with messages left to process."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from streams.stallwatch import PartitionProgress, StallWatch, partition_progress

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


def test_processed_messages_waiting_for_the_next_commit_are_no_stall():
    # The commit interval (30 s by default) can be as long as the stall time: messages processed right
    # after the committed offset move it at the next commit. The bench read every partition again each
    # 30 s before the watch knew this.
    watch = StallWatch(STALL_MS)
    due = PartitionProgress("t[0]", 10, 100, 0, commit_due=True)
    assert stalled_keys(watch, 0, due) == []
    assert stalled_keys(watch, 5 * STALL_MS, due) == []
    # the commit went through and the rest is a hole nobody will fill: a stall after a whole stall time
    assert stalled_keys(watch, 6 * STALL_MS, progress(50)) == []
    assert stalled_keys(watch, 7 * STALL_MS, progress(50)) == ["t[0]"]


class _TP(NamedTuple):
    topic: str
    partition: int


TP0 = _TP("t", 0)


class _FaustConsumer:
    """The fields of Faust's consumer that `partition_progress` reads (a test double, no Faust)."""

    def __init__(self, committed: int, acked: list[int]) -> None:
        self._committed_offset = {TP0: committed}
        self._acked = {TP0: acked}
        self._unacked_messages: list = []

    def assignment(self) -> list[_TP]:
        return [TP0]

    def highwater(self, tp: _TP) -> int:
        return 100


@pytest.mark.parametrize("committed, acked, due", [
    (10, [10, 11, 12], True),   # processed from the committed offset on: the next commit moves it
    (10, [11, 12], True),       # Faust's commit lets one offset go (a transaction marker)
    (10, [15, 16], False),      # a hole at 10..14: nothing will move the commit
    (10, [], False),
    (0, [5, 6], True),          # before the first commit Faust checks nothing
])
def test_partition_progress_tells_a_due_commit_from_a_hole(committed, acked, due):
    rows = partition_progress(_FaustConsumer(committed, acked), {"t"})
    assert [(row.committed, row.commit_due) for row in rows] == [(committed, due)]
