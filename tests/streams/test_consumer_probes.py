"""The consumer probes: what the worker reads of Faust's consumer, on a double of its fields (no Faust)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import pytest

from healthmon.pipeline import Backlog
from streams.consumer_probes import alignment_backlog_probe, partition_progress


class _TP(NamedTuple):
    topic: str
    partition: int


TP0 = _TP("t", 0)


class _FaustConsumer:
    """The fields of Faust's consumer that `partition_progress` reads (a test double, no Faust)."""

    def __init__(self, committed: int, acked: list[int], buffered: bool = False, active: bool = True) -> None:
        self._committed_offset = {TP0: committed}
        self._acked = {TP0: acked}
        self._unacked_messages: list = []
        self._active = {TP0} if active else set()
        # the Kafka client under Faust: records it fetched and has not handed over, by topic-partition
        self._thread = SimpleNamespace(_consumer=SimpleNamespace(_fetcher=SimpleNamespace(
            _records={TP0: object()} if buffered else {})))

    def _get_active_partitions(self) -> set[_TP]:
        return self._active

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


@pytest.mark.parametrize("buffered, active, fetched", [
    (True, True, True),     # waiting in the client for Faust's next poll: on its way
    (False, True, False),
    (True, False, False),   # paused by Faust: its records wait for a resume, not for a poll
])
def test_partition_progress_counts_records_the_client_holds_for_an_active_partition(buffered, active, fetched):
    [row] = partition_progress(_FaustConsumer(10, [], buffered=buffered, active=active), {"t"})
    assert row.fetched is fetched


class _Probed:
    """Faust's consumer as `alignment_backlog_probe` reads it: offsets of TP0, and its Kafka client's position."""

    def __init__(self, *, highwater: int, committed: int | None, read: int | None, position: int,
                 buffered: bool = False) -> None:
        self._committed_offset = {TP0: committed}
        self._read_offset = {TP0: read}
        self._highwater = highwater
        state = SimpleNamespace(has_valid_position=True, position=position)
        assignment = SimpleNamespace(state_value=lambda tp: state)
        self._thread = SimpleNamespace(_consumer=SimpleNamespace(
            _subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=assignment)),
            _fetcher=SimpleNamespace(_records={TP0: object()} if buffered else {})))

    def highwater(self, tp: _TP) -> int:
        return self._highwater


@pytest.mark.parametrize("consumer, received, backlog", [
    # A new owner whose group had committed everything: nothing to wait for (was a bounded wait, given up).
    pytest.param(_Probed(highwater=40, committed=40, read=40, position=40), -1, Backlog.NONE, id="all-committed"),
    pytest.param(_Probed(highwater=40, committed=30, read=30, position=30), -1, Backlog.ON_BROKER, id="to-fetch"),
    pytest.param(_Probed(highwater=40, committed=30, read=30, position=40, buffered=True), -1, Backlog.QUEUED,
                 id="in-the-client"),
    # Handed to the agent's stream after a restart (Faust read 35): on its way, however slow the agent is.
    pytest.param(_Probed(highwater=40, committed=30, read=35, position=40), -1, Backlog.QUEUED, id="in-the-stream"),
    pytest.param(_Probed(highwater=40, committed=30, read=35, position=40), 35, Backlog.IN_FLIGHT,
                 id="delivered-up-to-received"),
    # Right after the seek Faust's read offset is the committed one: not proof that anything was handed over.
    pytest.param(_Probed(highwater=40, committed=30, read=30, position=40), -1, Backlog.IN_FLIGHT,
                 id="just-seeked"),
])
def test_alignment_backlog_probe_tells_what_can_still_come(consumer, received, backlog):
    probe = alignment_backlog_probe(SimpleNamespace(consumer=consumer))  # type: ignore[arg-type]
    assert probe(TP0.topic, TP0.partition, received) is backlog
