"""The stuck-partition watch: which owned partitions stopped making progress with messages left to process."""

from __future__ import annotations

import pytest

from healthmon.pipeline import PartitionProgress, StuckPartitionWatch

STUCK_MS = 60_000


def progress(committed: int, highwater: int | None = 100, in_flight: int = 0, key: str = "t[0]",
             fetched: bool = False) -> PartitionProgress:
    return PartitionProgress(key, committed, highwater, in_flight, fetched=fetched)


def stuck_keys(watch: StuckPartitionWatch, now_ms: int, *rows: PartitionProgress) -> list:
    return [p.key for p in watch.check(now_ms, list(rows))]


@pytest.mark.parametrize("first, later, stuck", [
    # stuck below the end, nothing on its way: re-read
    (progress(10), progress(10), True),
    # the commit moved: progress
    (progress(10), progress(11), False),
    # caught up: nothing left to process
    (progress(100), progress(100), False),
    # messages below the first acked offset are on their way (queued, held by the aligner, processing)
    (progress(10, in_flight=3), progress(10, in_flight=3), False),
    (progress(10), progress(10, in_flight=1), False),
    # fetched records wait in the Kafka client behind other partitions' (a catch-up's repartition topic)
    (progress(10, fetched=True), progress(10, fetched=True), False),
    (progress(10), progress(10, fetched=True), False),
    # the end is not known yet (never fetched)
    (progress(10, highwater=None), progress(10, highwater=None), False),
])
def test_a_partition_is_stuck_only_below_its_end_with_nothing_on_its_way(first, later, stuck):
    watch = StuckPartitionWatch(STUCK_MS)
    assert stuck_keys(watch, 0, first) == []
    assert stuck_keys(watch, STUCK_MS, later) == (["t[0]"] if stuck else [])


def test_it_waits_the_whole_stuck_time_and_reports_each_stuck_offset_once():
    watch = StuckPartitionWatch(STUCK_MS)
    assert stuck_keys(watch, 0, progress(10)) == []
    assert stuck_keys(watch, STUCK_MS - 1, progress(10)) == []
    assert stuck_keys(watch, STUCK_MS, progress(10)) == ["t[0]"]
    # re-reading did not help (nothing there to deliver): not reported again for the same offset
    assert stuck_keys(watch, 5 * STUCK_MS, progress(10)) == []
    # it moved, then stuck again: stuck anew, reported after a whole stuck time
    assert stuck_keys(watch, 6 * STUCK_MS, progress(20)) == []
    assert stuck_keys(watch, 7 * STUCK_MS - 1, progress(20)) == []
    assert stuck_keys(watch, 7 * STUCK_MS, progress(20)) == ["t[0]"]


def test_activity_in_between_restarts_the_clock():
    watch = StuckPartitionWatch(STUCK_MS)
    watch.check(0, [progress(10)])
    watch.check(STUCK_MS // 2, [progress(10, in_flight=2)])  # busy: its messages are being processed
    assert stuck_keys(watch, STUCK_MS, progress(10)) == []
    assert stuck_keys(watch, STUCK_MS // 2 + STUCK_MS, progress(10)) == ["t[0]"]


def test_partitions_are_judged_apart_and_forgotten_when_no_longer_owned():
    watch = StuckPartitionWatch(STUCK_MS)
    watch.check(0, [progress(10, key="a"), progress(10, key="b")])
    assert stuck_keys(watch, STUCK_MS, progress(10, key="a"), progress(11, key="b")) == ["a"]
    # "a" is revoked, then comes back: its clock starts again
    watch.check(STUCK_MS + 1, [progress(11, key="b")])
    assert stuck_keys(watch, 2 * STUCK_MS, progress(10, key="a")) == []
    assert stuck_keys(watch, 3 * STUCK_MS, progress(10, key="a")) == ["a"]


def test_reset_starts_every_clock_again():
    watch = StuckPartitionWatch(STUCK_MS)
    watch.check(0, [progress(10)])
    watch.reset()
    assert stuck_keys(watch, STUCK_MS, progress(10)) == []
    assert stuck_keys(watch, 2 * STUCK_MS, progress(10)) == ["t[0]"]


def test_nothing_is_stuck_while_the_broker_does_not_answer():
    # A broker pause longer than the stuck time: no commit could move, so nothing is stuck (the drill
    # `broker-pause` re-read every partition before the watch knew of the broker).
    watch = StuckPartitionWatch(STUCK_MS)
    assert stuck_keys(watch, 0, progress(10)) == []
    assert watch.check(STUCK_MS, [progress(10)], broker_reachable=False) == []
    assert watch.check(3 * STUCK_MS, [progress(10)], broker_reachable=False) == []
    # it answers again: the clock starts from there, and a partition still stuck then is reported
    assert stuck_keys(watch, 4 * STUCK_MS - 1, progress(10)) == []
    assert stuck_keys(watch, 4 * STUCK_MS, progress(10)) == ["t[0]"]


def test_processed_messages_waiting_for_the_next_commit_are_not_stuck():
    # The commit interval (30 s by default) can be as long as the stuck time: messages processed right
    # after the committed offset move it at the next commit. The bench read every partition again each
    # 30 s before the watch knew this.
    watch = StuckPartitionWatch(STUCK_MS)
    due = PartitionProgress("t[0]", 10, 100, 0, commit_due=True)
    assert stuck_keys(watch, 0, due) == []
    assert stuck_keys(watch, 5 * STUCK_MS, due) == []
    # the commit went through and the rest is a hole nobody will fill: stuck after a whole stuck time
    assert stuck_keys(watch, 6 * STUCK_MS, progress(50)) == []
    assert stuck_keys(watch, 7 * STUCK_MS, progress(50)) == ["t[0]"]



def test_an_unsettled_consumer_starts_every_clock_again():
    # A rebalance, a stop or a table recovery: nothing is reported, and the clocks start from scratch.
    watch = StuckPartitionWatch(STUCK_MS)
    assert stuck_keys(watch, 0, progress(10)) == []
    assert watch.check(STUCK_MS, [], settled=False) == []
    assert stuck_keys(watch, STUCK_MS, progress(10)) == []
    assert stuck_keys(watch, 2 * STUCK_MS, progress(10)) == ["t[0]"]
