"""The pace: no partition of a topic not keyed by account runs more than the drift ahead of the slowest."""

from __future__ import annotations

import random

import pytest

from healthmon.pipeline.alignment import NO_EVENT_TIME, Aligner, Pending
from healthmon.pipeline.pacing import Pace, Progress
from tests.pipeline.test_alignment import Broker

S, N, R = "segment-tracks", "product-usage", "events-by-account"  # paced (unkeyed), native, the repartition topic
DAY = 86_400_000
WAIT = 10_000


def _aligner(ends, wall, partitions=2, drift=DAY, topics=(S,), moved=None):
    pace = Pace({S: partitions}, drift, WAIT, moved=moved)
    return Aligner(list(topics), 500, Broker(ends).backlog, lambda: wall["ms"], pace=pace), pace


def _released(aligner):
    """Release, and process what was released, as the input agent does."""
    out = aligner.release()
    if out:
        aligner.processed()
    return [(m.topic, m.partition, m.offset) for m in out]


def _add(aligner, topic, partition, offset, event_time):
    aligner.add(Pending(topic, partition, offset, event_time, 0))


def test_a_partition_ahead_waits_for_the_slowest():
    wall = {"ms": 0}
    aligner, _ = _aligner({(S, 0): 100, (S, 1): 100}, wall)
    _add(aligner, S, 0, 0, 0)
    _add(aligner, S, 1, 0, 3 * DAY)
    assert _released(aligner) == [(S, 0, 0)]
    # partition 0 still has messages on the broker, and its last was 3 days behind: partition 1 waits
    assert _released(aligner) == []
    _add(aligner, S, 0, 1, 2 * DAY)  # partition 0 moves up: within the drift now
    assert _released(aligner) == [(S, 0, 1), (S, 1, 0)]


@pytest.mark.parametrize("seed", range(20))
def test_the_slowest_partition_never_waits(seed):
    rng = random.Random(seed)
    partitions = rng.randint(2, 6)
    wall = {"ms": 0}
    aligner, _ = _aligner({(S, p): 100 for p in range(partitions)}, wall, partitions=partitions)
    heads = {p: rng.randrange(0, 10 * DAY) for p in range(partitions)}
    for p, event_time in heads.items():
        _add(aligner, S, p, 0, event_time)
    slowest = min(heads, key=lambda p: heads[p])
    assert [m.partition for m in aligner.release(slowest)] == [slowest]
    for p in heads:
        if p != slowest:
            assert bool(aligner.release(p)) == (heads[p] <= heads[slowest] + DAY)


def test_a_gap_in_the_slowest_partition_does_not_deadlock():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (S, 1): 100}, wall)
    pace.remote[(S, 1)] = Progress(0, False)
    _add(aligner, S, 0, 0, 0)
    assert _released(aligner) == [(S, 0, 0)]
    _add(aligner, S, 0, 1, 5 * DAY)  # its next event comes 5 days after its last
    _add(aligner, S, 1, 0, 3 * DAY)
    # partition 0's head (5 days) is its progress, so partition 1 at 3 days is the slowest and goes first
    assert _released(aligner) == [(S, 1, 0)]


def test_caught_up_partitions_do_not_hold_the_others():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (S, 1): 1}, wall)
    _add(aligner, S, 1, 0, 0)
    _add(aligner, S, 0, 0, 3 * DAY)
    assert _released(aligner) == [(S, 1, 0)]
    assert _released(aligner) == []  # partition 1's caught-up state is not known before the broker says so
    assert aligner.progress(S, 1) == Progress(0, True)
    assert _released(aligner) == [(S, 0, 0)]
    assert aligner.progress(S, 0) == Progress(3 * DAY, False)  # 99 messages left on the broker


def test_a_remote_partition_holds_until_its_owner_moves_up():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100}, wall)
    pace.remote[(S, 1)] = Progress(0, False)
    _add(aligner, S, 0, 0, 2 * DAY)
    assert _released(aligner) == []
    pace.remote[(S, 1)] = Progress(DAY, False)
    assert _released(aligner) == [(S, 0, 0)]


def test_a_remote_caught_up_partition_does_not_hold():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100}, wall)
    pace.remote[(S, 1)] = Progress(0, False)
    _add(aligner, S, 0, 0, 9 * DAY)
    assert _released(aligner) == []
    pace.remote[(S, 1)] = Progress(0, True)
    assert _released(aligner) == [(S, 0, 0)]


def test_an_unknown_partition_holds_until_the_bound():
    wall = {"ms": 1_000}
    aligner, pace = _aligner({(S, 0): 100}, wall)
    _add(aligner, S, 0, 0, 9 * DAY)
    assert _released(aligner) == []
    wall["ms"] += WAIT - 1
    assert _released(aligner) == []
    assert pace.gave_up == {}
    wall["ms"] += 1
    assert _released(aligner) == [(S, 0, 0)]
    assert pace.gave_up == {(S, 1): WAIT}
    pace.gave_up.clear()
    _add(aligner, S, 0, 1, 10 * DAY)
    assert _released(aligner) == [(S, 0, 1)]
    assert pace.gave_up == {}  # once per partition
    pace.remote[(S, 1)] = Progress(0, False)  # known at last: it holds again
    _add(aligner, S, 0, 2, 11 * DAY)
    assert _released(aligner) == []


def test_messages_without_event_time_are_never_paced():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100}, wall)
    pace.remote[(S, 1)] = Progress(0, False)
    _add(aligner, S, 0, 0, NO_EVENT_TIME)
    _add(aligner, S, 0, 1, 5 * DAY)
    assert _released(aligner) == [(S, 0, 0)]


def test_topics_not_paced_flow_as_before():
    wall = {"ms": 0}
    aligner, pace = _aligner({(N, 0): 1, (S, 0): 1}, wall, topics=(S, N))
    pace.remote[(S, 1)] = Progress(0, False)
    _add(aligner, N, 0, 0, 9 * DAY)
    _add(aligner, S, 0, 0, 9 * DAY + 1)
    assert _released(aligner) == [(N, 0, 0)]


@pytest.mark.parametrize(("drift", "released"), [(DAY, []), (0, [(S, 0, 0)])], ids=["paced", "zero-is-off"])
def test_a_zero_drift_paces_nothing(drift, released):
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100}, wall, drift=drift)
    pace.remote[(S, 1)] = Progress(0, False)
    _add(aligner, S, 0, 0, 9 * DAY)
    assert _released(aligner) == released


def test_revoked_partitions_fall_back_to_what_their_owner_published():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (S, 1): 100}, wall)
    pace.remote[(S, 0)] = Progress(0, False)
    _add(aligner, S, 1, 0, 0)
    assert _released(aligner) == [(S, 1, 0)]
    pace.remote[(S, 1)] = Progress(2 * DAY, False)  # its new owner moved on
    _add(aligner, S, 0, 0, 2 * DAY)
    assert _released(aligner) == []  # while it owns partition 1, its own view of it (0) counts
    aligner.drop_partitions({1})
    assert _released(aligner) == [(S, 0, 0)]
    assert aligner.progress(S, 1) is None  # nothing known of it here any more: nothing to publish


def test_moved_events_behind_hold_the_sources_and_are_never_held():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (R, 0): 100, (R, 1): 100}, wall, partitions=1, moved={R: 2})
    pace.remote[(R, 1)] = Progress(0, True)
    _add(aligner, R, 0, 0, 0)
    _add(aligner, S, 0, 0, 3 * DAY)
    # the moved events of partition 0 are 3 days behind its source: the source waits for them
    assert _released(aligner) == [(R, 0, 0)]
    assert _released(aligner) == []
    _add(aligner, R, 0, 1, 5 * DAY)  # a moved event far ahead is never held: it makes the floor
    assert _released(aligner) == [(S, 0, 0)]  # (then R waits for S, which lags: the alignment)


def test_events_moved_to_a_caught_up_partition_hold_the_sources_until_delivered():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (R, 0): 0}, wall, partitions=1, moved={R: 1})
    pace.remote[(R, 0)] = Progress(0, True)  # caught up as far as the broker said
    pace.moved(0, DAY // 2, wall["ms"])  # ...but events of half a day were just sent there
    _add(aligner, S, 0, 0, 3 * DAY)
    assert _released(aligner) == []
    _add(aligner, R, 0, 0, DAY // 2)
    assert _released(aligner) == [(R, 0, 0)]
    _add(aligner, S, 0, 1, 3 * DAY + 1)
    assert _released(aligner) == []  # delivered, but the moved topic's progress (half a day) is still far behind
    pace.local[(R, 0)] = Progress(DAY // 2, True)
    assert _released(aligner) == [(S, 0, 0), (S, 0, 1)]


def test_a_moved_mark_never_stalls_past_the_bound():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (R, 0): 0}, wall, partitions=1, moved={R: 1})
    pace.remote[(R, 0)] = Progress(0, True)
    pace.moved(0, 1, wall["ms"])
    _add(aligner, S, 0, 0, 3 * DAY)
    assert _released(aligner) == []
    wall["ms"] = WAIT
    assert _released(aligner) == [(S, 0, 0)]


def test_released_messages_move_the_progress_only_once_processed():
    wall = {"ms": 0}
    aligner, pace = _aligner({(S, 0): 100, (S, 1): 100}, wall)
    _add(aligner, S, 0, 0, 0)
    _add(aligner, S, 0, 1, 2 * DAY)
    _add(aligner, S, 1, 0, 2 * DAY)
    _add(aligner, S, 1, 1, 4 * DAY)
    # partition 0 goes up to 2 days, but the events it moves are marked only as it is processed: meanwhile
    # partition 1 is paced on where partition 0 was before
    assert [(m.partition, m.offset) for m in aligner.release(0)] == [(0, 0), (0, 1)]
    assert aligner.release(1) == []
    aligner.processed()
    assert [(m.partition, m.offset) for m in aligner.release(1)] == [(1, 0)]
