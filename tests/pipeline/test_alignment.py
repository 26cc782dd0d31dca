"""The aligner merges a partition's inputs by event time, waiting without a timeout for one that lags."""

from __future__ import annotations

import random

import pytest

from healthmon.pipeline.alignment import NO_EVENT_TIME, Aligner, Backlog, Pending

A, B, C = "usage", "tickets", "nps"


class Broker:
    """Fake log ends and consumer read positions per topic-partition (a pure test double)."""

    def __init__(self, ends: dict[tuple[str, int], int], read: dict[tuple[str, int], int] | None = None) -> None:
        self.ends = ends
        #: how far the consumer has read (default: nothing beyond what the agent received)
        self.read = read or {}
        #: topic-partitions whose read messages sit in the consumer's buffers on their way to the agent
        self.queued: set[tuple[str, int]] = set()

    def backlog(self, topic: str, partition: int, received: int) -> Backlog:
        end = self.ends.get((topic, partition), 0)
        if received >= end - 1:
            return Backlog.NONE
        if self.read.get((topic, partition), -1) < end:
            return Backlog.ON_BROKER
        return Backlog.QUEUED if (topic, partition) in self.queued else Backlog.IN_FLIGHT


def _aligner(ends, wall, max_wait_ms=500, read=None, **kwargs):
    return Aligner([A, B, C], max_wait_ms, Broker(ends, read).backlog, lambda: wall["ms"], **kwargs)


def _msg(topic, offset, ts, arrived=0, partition=0):
    return Pending(topic, partition, offset, ts, arrived)


@pytest.mark.parametrize(("arrivals", "ends", "released"), [
    pytest.param([(A, 0, 1), (A, 1, 2)], {(A, 0): 2}, [(A, 0), (A, 1)], id="one-topic-flows-freely"),
    pytest.param([(B, 0, 5)], {(A, 0): 3, (B, 0): 1}, [], id="ahead-topic-waits-for-backlogged-one"),
    pytest.param([(B, 0, 5), (A, 0, 1), (A, 1, 6)], {(A, 0): 3, (B, 0): 1},
                 [(A, 0), (B, 0), (A, 1)], id="merged-by-event-time"),
    pytest.param([(B, 0, 5), (A, 0, 1)], {(A, 0): 1, (B, 0): 1}, [(A, 0), (B, 0)],
                 id="caught-up-topic-is-not-waited-for"),
    pytest.param([(B, 0, 5), (A, 0, 1)], {(A, 0): 5, (B, 0): 1}, [(A, 0)],
                 id="still-waits-while-more-is-on-the-broker"),
    pytest.param([(C, 0, NO_EVENT_TIME), (A, 0, 1)], {(A, 0): 1, (B, 0): 9, (C, 0): 1}, [(C, 0)],
                 id="a-message-without-event-time-never-waits"),
    pytest.param([(A, 0, 9), (A, 1, 2), (B, 0, 5)], {(A, 0): 2, (B, 0): 1}, [(B, 0), (A, 0), (A, 1)],
                 id="a-topic-keeps-its-own-order"),
])
def test_release_order(arrivals, ends, released):
    wall = {"ms": 0}
    aligner = _aligner(ends, wall)
    for topic, offset, ts in arrivals:
        aligner.add(_msg(topic, offset, ts))
    assert [(m.topic, m.offset) for m in aligner.release()] == released


def test_a_topic_with_unread_messages_on_the_broker_is_waited_for_without_a_timeout():
    # A broker pause: the usage backlog is not fetched for a minute, tickets are already here.
    wall = {"ms": 1000}
    aligner = _aligner({(A, 0): 1, (B, 0): 1}, wall)
    aligner.add(_msg(B, 0, 5, arrived=1000))
    for wall["ms"] in (1499, 1500, 61_000, 3_600_000):
        assert aligner.release() == []
    aligner.add(_msg(A, 0, 4, arrived=wall["ms"]))
    assert [m.topic for m in aligner.release()] == [A, B]


def test_a_topic_read_to_its_end_but_not_delivered_is_given_up_on_after_max_wait():
    # Everything was read by the consumer (or the offsets left hold transaction markers): bounded wait.
    wall = {"ms": 1000}
    aligner = _aligner({(A, 0): 10, (B, 0): 1}, wall, read={(A, 0): 10})
    aligner.add(_msg(B, 0, 5, arrived=1000))
    assert aligner.release() == []
    wall["ms"] = 1499
    assert aligner.release() == []
    wall["ms"] = 1500
    assert [(m.topic, m.offset) for m in aligner.release()] == [(B, 0)]
    assert aligner.gave_up == {(A, 0): 500}
    aligner.gave_up.clear()
    wall["ms"] = 1600
    aligner.add(_msg(B, 1, 6, arrived=1600))
    assert [(m.topic, m.offset) for m in aligner.release()] == [(B, 1)]
    assert aligner.gave_up == {}  # the same wait, given up once: said once


def test_after_a_long_fetch_the_max_wait_starts_when_the_topic_is_read_to_its_end_not_at_its_last_message():
    # A broker pause: usage's last records are fetched 30 s after its previous ones. They are about to
    # reach the agent; giving up on them at once (30 s > max wait) would let tickets jump ahead.
    wall = {"ms": 1000}
    broker = Broker({(A, 0): 10, (B, 0): 1})
    aligner = Aligner([A, B], 500, broker.backlog, lambda: wall["ms"])
    aligner.add(_msg(A, 0, ts=1, arrived=1000))
    aligner.add(_msg(B, 0, ts=5, arrived=1000))
    assert [m.topic for m in aligner.release()] == [A]
    wall["ms"] = 31_000
    assert aligner.release() == []  # usage's rest is still on the broker
    broker.read[(A, 0)] = 10  # the fetch came back: read to the end, not delivered yet
    assert aligner.release() == []
    wall["ms"] = 31_499
    assert aligner.release() == []
    aligner.add(_msg(A, 1, ts=3, arrived=31_499))
    assert [(m.topic, m.offset) for m in aligner.release()] == [(A, 1)]
    wall["ms"] = 31_998  # A's clock starts again with each message it delivers
    assert aligner.release() == []
    wall["ms"] = 31_999
    assert [(m.topic, m.offset) for m in aligner.release()] == [(B, 0)]


def test_a_topic_that_lags_again_gets_a_whole_max_wait_once_it_is_read_to_its_end_again():
    wall = {"ms": 0}
    broker = Broker({(A, 0): 10, (B, 0): 1}, read={(A, 0): 10})
    aligner = Aligner([A, B], 500, broker.backlog, lambda: wall["ms"])
    aligner.add(_msg(B, 0, ts=5))
    assert aligner.release() == []  # A read to its end, nothing seen on its way: the clock starts at 0
    broker.ends[(A, 0)] = 20  # more was produced to A: it lags, waited for without a timeout
    wall["ms"] = 30_000
    assert aligner.release() == []
    broker.read[(A, 0)] = 20  # read to its end again: a new wait, from now
    assert aligner.release() == []
    wall["ms"] = 30_499
    assert aligner.release() == []
    wall["ms"] = 30_500
    assert [m.topic for m in aligner.release()] == [B]


def test_messages_seen_on_their_way_to_the_agent_are_waited_for_without_a_timeout():
    # The consumer read them, but a commit stuck on a paused broker holds them in its buffers.
    wall = {"ms": 0}
    broker = Broker({(A, 0): 10, (B, 0): 1}, read={(A, 0): 10})
    broker.queued.add((A, 0))
    aligner = Aligner([A, B], 500, broker.backlog, lambda: wall["ms"])
    aligner.add(_msg(B, 0, ts=5))
    for wall["ms"] in (0, 499, 500, 60_000):
        assert aligner.release() == []
    assert aligner.blocked[0][:2] == (A, Backlog.QUEUED)
    broker.queued.clear()  # whatever it still had was no message for us (markers): the max wait, from now
    assert aligner.release() == []
    wall["ms"] = 60_500
    assert [m.topic for m in aligner.release()] == [B]


def test_a_long_wait_is_reported_once_per_wait():
    wall = {"ms": 0}
    broker = Broker({(A, 0): 10, (B, 0): 1}, read={(A, 0): 10})
    broker.queued.add((A, 0))
    aligner = Aligner([A, B], 500, broker.backlog, lambda: wall["ms"])
    aligner.add(_msg(B, 0, ts=5))
    assert aligner.release() == []
    assert aligner.long_waits(29_999, 30_000) == []
    assert aligner.long_waits(30_000, 30_000) == [(0, A, Backlog.QUEUED, 30_000)]
    assert aligner.long_waits(90_000, 30_000) == []  # the same wait: said once
    broker.queued.clear()
    wall["ms"] = 90_000
    assert aligner.release() == []  # read to its end now: the bounded wait starts
    wall["ms"] = 90_500
    assert [m.topic for m in aligner.release()] == [B]
    aligner.add(_msg(B, 1, ts=6))
    broker.ends[(A, 0)] = 20  # A lags again: a new wait, reported again once it is long
    wall["ms"] = 100_000
    assert aligner.release() == []
    assert aligner.long_waits(130_000, 30_000) == [(0, A, Backlog.ON_BROKER, 30_000)]


def test_zero_max_wait_stops_waiting_for_in_flight_messages_only():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 1, (C, 0): 3}, wall, max_wait_ms=0, read={(A, 0): 5})
    aligner.add(_msg(B, 0, 9))
    assert aligner.release() == []  # C still has messages on the broker
    aligner.add(_msg(C, 2, 10))
    assert [m.topic for m in aligner.release()] == [B, C]


def test_partitions_are_independent():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 1, (A, 1): 0, (B, 1): 1}, wall)
    aligner.add(_msg(B, 0, 9, partition=0))
    aligner.add(_msg(B, 0, 9, partition=1))
    assert [(m.partition, m.topic) for m in aligner.release()] == [(1, B)]


def test_revoked_partitions_are_dropped():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 1}, wall)
    aligner.add(_msg(B, 0, 9))
    assert [m.topic for m in aligner.drop_partitions({0})] == [B]
    assert len(aligner) == 0


def test_closed_aligner_lets_go_of_everything_and_holds_nothing_until_reopened():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 5, (B, 0): 9}, wall)
    aligner.add(_msg(B, 0, 9))
    aligner.add(_msg(B, 1, 10, partition=1))
    assert sorted(m.partition for m in aligner.close()) == [0, 1]
    assert not aligner.add(_msg(B, 1, 11))
    assert len(aligner) == 0
    aligner.reopen()
    assert aligner.add(_msg(B, 1, 11))
    assert len(aligner) == 1


def test_requeued_messages_come_back_first_in_order():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 3}, wall)
    for offset in range(3):
        aligner.add(_msg(A, offset, offset))
    released = aligner.release()
    aligner.requeue(released[1:])
    assert [m.offset for m in aligner.release()] == [1, 2]


def test_time_spent_processing_does_not_count_as_waiting_for_an_in_flight_topic():
    wall = {"ms": 0}
    aligner = _aligner({(A, 0): 10, (B, 0): 10}, wall, read={(A, 0): 10, (B, 0): 10})
    aligner.add(_msg(B, 0, ts=1, arrived=0))
    aligner.add(_msg(A, 0, ts=5, arrived=0))
    assert [m.topic for m in aligner.release()] == [B]
    wall["ms"] = 3_000  # processing B's message took 3 s: B could not deliver anything meanwhile
    aligner.processed()
    assert aligner.release() == []  # B's rest is on its way: it gets the max wait from here
    wall["ms"] = 3_499
    assert aligner.release() == []
    wall["ms"] = 3_500
    assert [m.topic for m in aligner.release()] == [A]


def test_a_topic_that_runs_ahead_is_paused_at_the_limit_and_resumed_once_drained():
    wall = {"ms": 0}
    calls: list[tuple[str, str, int]] = []
    broker = Broker({(A, 0): 100, (B, 0): 20})
    aligner = Aligner([A, B], 500, broker.backlog, lambda: wall["ms"], max_queued=8,
                      pause=lambda t, p: calls.append(("pause", t, p)),
                      resume=lambda t, p, o: calls.append(("resume", t, p, o)) is None)
    for offset in range(20):  # tickets far ahead; the usage backlog is still on the broker
        aligner.add(_msg(B, offset, 1000 + offset))
    assert aligner.release() == []
    assert calls == [("pause", B, 0)]  # once, at the limit: memory stays bounded
    for offset in range(100):
        aligner.add(_msg(A, offset, offset * 10))  # usage catches up, interleaving with the tickets
        aligner.release()
    assert calls == [("pause", B, 0), ("resume", B, 0, 20)]  # fetched again after the last one received
    assert not aligner.paused


def _merge(streams: dict[str, list[int]], chunks: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Deliver each topic's messages in the given chunks; return the release order."""
    ends = {(topic, 0): len(times) for topic, times in streams.items()}
    aligner = Aligner(list(streams), 500, Broker(ends).backlog, lambda: 0)
    sent = dict.fromkeys(streams, 0)
    out = []
    for topic, count in chunks:
        for offset in range(sent[topic], min(sent[topic] + count, len(streams[topic]))):
            aligner.add(_msg(topic, offset, streams[topic][offset]))
        sent[topic] = min(sent[topic] + count, len(streams[topic]))
        out.extend((m.topic, m.offset) for m in aligner.release())
    for topic, times in streams.items():  # deliver whatever is left
        for offset in range(sent[topic], len(times)):
            aligner.add(_msg(topic, offset, times[offset]))
        out.extend((m.topic, m.offset) for m in aligner.release())
    return out


@pytest.mark.parametrize("seed", range(20))
def test_release_order_depends_on_the_logs_only_not_on_how_they_were_fetched(seed):
    rng = random.Random(seed)
    streams = {topic: sorted(rng.randrange(0, 10_000) for _ in range(rng.randrange(1, 40))) for topic in (A, B, C)}
    streams[A][3:5] = reversed(streams[A][3:5]) if len(streams[A]) > 5 else streams[A][3:5]  # a late event
    reference = _merge(streams, [(A, 1000), (B, 1000), (C, 1000)])
    chunks = [(rng.choice((A, B, C)), rng.randrange(1, 6)) for _ in range(60)]
    assert _merge(streams, chunks) == reference
    assert len(reference) == sum(map(len, streams.values()))


def test_a_refused_resume_is_asked_again_at_the_next_release():
    wall = {"ms": 0}
    answers = [False, True]
    calls: list[str] = []
    aligner = Aligner([A, B], 500, Broker({(A, 0): 0, (B, 0): 20}).backlog, lambda: wall["ms"], max_queued=4,
                      pause=lambda t, p: calls.append("pause"),
                      resume=lambda t, p, o: calls.append("resume") is None and answers.pop(0))
    for offset in range(4):
        aligner.add(_msg(B, offset, offset))
    assert len(aligner.release()) == 4
    assert aligner.paused == {(B, 0)}  # the rebalance said no: still paused, still ours to resume
    aligner.release()
    assert calls == ["pause", "resume", "resume"] and not aligner.paused
