"""The aligner merges the inputs of a partition by record timestamp, waiting only for flowing topics."""

from __future__ import annotations

import pytest

from streams.alignment import Aligner, Pending

A, B = "usage", "tickets"


class Broker:
    """Fake log ends per topic-partition: how far each topic has been written (pure test double)."""

    def __init__(self, ends: dict[tuple[str, int], int]) -> None:
        self.ends = ends

    def has_backlog(self, topic: str, partition: int, received: int) -> bool:
        return received < self.ends.get((topic, partition), 0) - 1


def _aligner(ends, wall, max_wait_ms=500):
    return Aligner([A, B], max_wait_ms, Broker(ends).has_backlog, lambda: wall["ms"])


def _msg(topic, offset, ts, arrived=0, partition=0):
    return Pending(topic, partition, offset, ts, arrived)


@pytest.mark.parametrize(("arrivals", "ends", "released"), [
    pytest.param([(A, 0, 1.0), (A, 1, 2.0)], {(A, 0): 2}, [(A, 0), (A, 1)], id="one-topic-flows-freely"),
    pytest.param([(B, 0, 5.0)], {(A, 0): 3, (B, 0): 1}, [], id="ahead-topic-waits-for-backlogged-one"),
    pytest.param([(B, 0, 5.0), (A, 0, 1.0), (A, 1, 6.0)], {(A, 0): 3, (B, 0): 1},
                 [(A, 0), (B, 0), (A, 1)], id="merged-by-timestamp"),
    pytest.param([(B, 0, 5.0), (A, 0, 1.0)], {(A, 0): 1, (B, 0): 1}, [(A, 0), (B, 0)],
                 id="caught-up-topic-is-not-waited-for"),
    pytest.param([(B, 0, 5.0), (A, 0, 1.0)], {(A, 0): 5, (B, 0): 1}, [(A, 0)],
                 id="still-waits-while-more-is-on-the-broker"),
])
def test_release_order(arrivals, ends, released):
    wall = {"ms": 0}
    aligner = _aligner(ends, wall)
    for topic, offset, ts in arrivals:
        aligner.add(_msg(topic, offset, ts))
    assert [(m.topic, m.offset) for m in aligner.release()] == released


def test_a_topic_that_delivers_nothing_is_given_up_on_after_max_wait():
    wall = {"ms": 1000}
    aligner = _aligner({(A, 0): 10, (B, 0): 1}, wall)
    aligner.add(_msg(B, 0, 5.0, arrived=1000))
    assert aligner.release() == []
    wall["ms"] = 1499
    assert aligner.release() == []
    wall["ms"] = 1500
    assert [(m.topic, m.offset) for m in aligner.release()] == [(B, 0)]


def test_a_flowing_topic_is_waited_for_however_long_it_takes():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 100, (B, 0): 1}, wall)
    aligner.add(_msg(B, 0, 50.0, arrived=0))
    for offset in range(60):
        wall["ms"] = offset * 100  # six seconds in all, far past max_wait, but A keeps delivering
        aligner.add(_msg(A, offset, offset * 0.5, arrived=wall["ms"]))
        assert [m.topic for m in aligner.release()] == [A]
    assert len(aligner) == 1


def test_partitions_are_independent():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 1, (A, 1): 0, (B, 1): 1}, wall)
    aligner.add(_msg(B, 0, 9.0, partition=0))
    aligner.add(_msg(B, 0, 9.0, partition=1))
    assert [(m.partition, m.topic) for m in aligner.release()] == [(1, B)]


def test_zero_max_wait_turns_waiting_off():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 1}, wall, max_wait_ms=0)
    aligner.add(_msg(B, 0, 9.0))
    assert [m.topic for m in aligner.release()] == [B]


def test_revoked_partitions_are_dropped():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 1}, wall)
    aligner.add(_msg(B, 0, 9.0))
    assert [m.topic for m in aligner.drop_partitions({0})] == [B]
    assert len(aligner) == 0


def test_requeued_messages_come_back_first_in_order():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 3}, wall)
    for offset in range(3):
        aligner.add(_msg(A, offset, float(offset)))
    released = aligner.release()
    aligner.requeue(released[1:])
    assert [m.offset for m in aligner.release()] == [1, 2]


def test_time_spent_processing_does_not_count_as_waiting_for_a_lagging_topic():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 10, (B, 0): 10}, wall)
    aligner.add(_msg(B, 0, ts=1, arrived=0))
    aligner.add(_msg(A, 0, ts=5, arrived=0))
    assert [m.topic for m in aligner.release()] == [B]
    wall["ms"] = 3_000  # processing B's message took 3 s: B could not deliver anything meanwhile
    aligner.processed()
    assert aligner.release() == []  # B still has backlog: it gets the max wait from here
    wall["ms"] = 3_499
    assert aligner.release() == []
    wall["ms"] = 3_500
    assert [m.topic for m in aligner.release()] == [A]
