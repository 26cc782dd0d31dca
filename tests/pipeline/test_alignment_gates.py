"""A partition's events wait for the profile topics' other partitions this worker owns (CRM rows keyed by their own
key may name its accounts), as they wait for their own partition's profiles."""

from __future__ import annotations

import pytest

from healthmon.pipeline.alignment import NO_EVENT_TIME, Aligner, Backlog, Pending
from tests.pipeline.test_alignment import Broker

USAGE, CRM = "usage", "crm"


def _aligner(ends: dict[tuple[str, int], int], owned: set[tuple[str, int]], gates: list[str]) -> Aligner:
    aligner = Aligner([USAGE, CRM], 500, Broker(ends).backlog, lambda: 0, gates=gates, partitions=2)
    aligner.owned = owned
    return aligner


def _released(aligner: Aligner) -> list[tuple[str, int, int]]:
    return [(m.topic, m.partition, m.offset) for m in aligner.release()]


def test_an_event_waits_until_the_crm_rows_of_another_owned_partition_are_released() -> None:
    # crm partition 1 holds two rows on the broker; usage partition 0 an event; this worker owns both
    aligner = _aligner({(USAGE, 0): 1, (CRM, 1): 2}, {(USAGE, 0), (CRM, 0), (CRM, 1)}, [CRM])
    aligner.add(Pending(USAGE, 0, 0, 5, 0))
    assert _released(aligner) == []
    assert aligner.blocked[0][:2] == (CRM, Backlog.ON_BROKER)
    aligner.add(Pending(CRM, 1, 0, NO_EVENT_TIME, 0))
    # partition 0 waits while a row is queued (partition 1 releases it) and while the second is on the broker
    assert _released(aligner) == [(CRM, 1, 0)]
    assert aligner.blocked[0][:2] == (CRM, Backlog.QUEUED)
    assert _released(aligner) == []
    assert aligner.blocked[0][:2] == (CRM, Backlog.ON_BROKER)
    aligner.add(Pending(CRM, 1, 1, NO_EVENT_TIME, 0))
    assert _released(aligner) == [(CRM, 1, 1)]
    assert _released(aligner) == [(USAGE, 0, 0)]


@pytest.mark.parametrize(("owned", "gates"), [
    pytest.param({(USAGE, 0), (CRM, 0)}, [CRM], id="crm-partition-owned-by-another-worker"),
    pytest.param({(USAGE, 0), (CRM, 0), (CRM, 1)}, [], id="no-gates-as-native-inputs"),
])
def test_an_event_does_not_wait_for_what_the_gate_does_not_cover(owned, gates) -> None:
    aligner = _aligner({(USAGE, 0): 1, (CRM, 1): 2}, owned, gates)
    aligner.add(Pending(USAGE, 0, 0, 5, 0))
    assert _released(aligner) == [(USAGE, 0, 0)]


def test_a_pass_asks_each_gate_partition_once_for_heads_its_answer_covers() -> None:
    # four owned partitions, the crm topic read to its end on each; a fetch answered at 10 ms
    ends = {(USAGE, 0): 50}
    probes: list[tuple[str, int]] = []

    def backlog(topic: str, partition: int, received: int) -> Backlog:
        probes.append((topic, partition))
        return Broker(ends).backlog(topic, partition, received)

    aligner = Aligner([USAGE, CRM], 500, backlog, lambda: 20, gates=[CRM], partitions=4,
                      fetched_ms=lambda topic, partition: 10)
    aligner.owned = {(t, p) for t in (USAGE, CRM) for p in range(4)}
    for offset in range(50):
        aligner.add(Pending(USAGE, 0, offset, 100 + offset, 5))
    assert len(aligner.release(0)) == 50
    # its own crm partition and the three others, once each: not once per event
    assert sorted(probes) == [(CRM, 0), (CRM, 1), (CRM, 2), (CRM, 3)]
    # a head that arrived after that answer is not covered by it: it waits for the next one
    probes.clear()
    aligner.add(Pending(USAGE, 0, 50, 200, 15))
    assert aligner.release(0) == []
    assert aligner.blocked[0][:2] == (CRM, Backlog.UNCONFIRMED)
