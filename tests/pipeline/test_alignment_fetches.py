"""A caught-up input is passed only on a fetch answered after the waiting message arrived (a live feed's order)."""

from __future__ import annotations

from healthmon.pipeline.alignment import Aligner, Backlog
from tests.pipeline.test_alignment import A, B, Broker, _msg


def _live_feed(fetched):
    """Tickets at their log end as of the broker's answer at `fetched[B]`; usage of a later instant arrives at 1000.

    One second of a live feed: the producer sent usage and tickets together, the consumer's fetch came back
    with usage before the ticket of the same second (older by event time) reached the broker.
    """
    wall = {"ms": 1000}
    broker = Broker({(A, 0): 0, (B, 0): 1})
    aligner = Aligner([A, B], 500, broker.backlog, lambda: wall["ms"], fetched_ms=lambda t, p: fetched.get(t))
    aligner.add(_msg(B, 0, ts=10, arrived=900))
    assert [(m.topic, m.offset) for m in aligner.release()] == [(B, 0)]
    broker.ends[(A, 0)] = 1
    aligner.add(_msg(A, 0, ts=50, arrived=1000))
    return wall, broker, aligner


def test_a_caught_up_input_is_waited_for_until_a_fetch_after_the_message_confirms_it():
    # Tickets were caught up as of the answer at 990, before usage@50 arrived: a ticket@30 may have reached
    # the broker since. Released at once, usage@50 would move the partition past the evaluations the
    # ticket belongs before (the chaos drill's changed `health_changed` body).
    fetched = {B: 990}
    wall, broker, aligner = _live_feed(fetched)
    assert aligner.release() == []
    assert aligner.blocked[0][:2] == (B, Backlog.UNCONFIRMED)
    broker.ends[(B, 0)] = 2  # the next answer (at 1020) brings the ticket of the same second
    fetched[B] = 1020
    wall["ms"] = 1020
    assert aligner.release() == []  # on the broker now: waited for without a timeout
    aligner.add(_msg(B, 1, ts=30, arrived=1025))
    assert [(m.topic, m.event_time) for m in aligner.release()] == [(B, 30), (A, 50)]
    assert aligner.gave_up == {} and aligner.behind == {}


def test_a_caught_up_input_confirmed_by_a_later_fetch_is_not_waited_for():
    fetched = {B: 990}
    wall, _, aligner = _live_feed(fetched)
    fetched[B] = 1001  # answered after usage@50 arrived: nothing older was on the broker
    assert [(m.topic, m.event_time) for m in aligner.release()] == [(A, 50)]
    assert aligner.gave_up == {}


def test_a_caught_up_input_with_no_answer_since_the_message_is_waited_for_at_most_max_wait():
    # A paused broker answers nothing: the wait is bounded, as for messages read and not delivered.
    wall, _, aligner = _live_feed({B: 990})
    assert aligner.release() == []  # the wait starts when usage@50 arrives
    wall["ms"] = 1499
    assert aligner.release() == []
    wall["ms"] = 1500
    assert [(m.topic, m.event_time) for m in aligner.release()] == [(A, 50)]
    assert aligner.gave_up == {(B, 0): 500}
    # The ticket@30 reaches the worker after usage@50 went: counted, for the log.
    aligner.add(_msg(B, 1, ts=30, arrived=1600))
    assert [(m.topic, m.event_time) for m in aligner.release()] == [(B, 30)]
    assert aligner.behind == {(B, 0): 1}
