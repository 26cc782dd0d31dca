"""The tick schedule: accounts are ticked at the instants their state names, in account order, catch-up bounded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from healthmon.ingest import partition_for
from healthmon.pipeline.committed_cut import ahead_of_commit
from healthmon.pipeline.tick_schedule import CATCH_UP_TICKS, TickSchedule

INTERVAL = 3_600_000
PARTITIONS = 4


def _schedule() -> TickSchedule:
    # A state here names its own next tick (`due`); the engine's rule is tested in tests/core/test_next_tick.py.
    return TickSchedule(lambda state: state.due, PARTITIONS, INTERVAL)


def _state(due: int | None, clock_ms: int = 0) -> SimpleNamespace:
    return SimpleNamespace(due=due, clock_ms=clock_ms)


def test_due_accounts_come_off_in_account_order_and_only_once():
    ticks = _schedule()
    for account, due in [("c", 2 * INTERVAL), ("a", 2 * INTERVAL), ("b", INTERVAL), ("d", 5 * INTERVAL)]:
        ticks.schedule(0, account, _state(due))
    assert ticks.pop_due(0, 2 * INTERVAL) == ["a", "b", "c"]
    assert ticks.pop_due(0, 2 * INTERVAL) == []
    assert ticks.pop_due(0, 5 * INTERVAL) == ["d"]


def test_a_rescheduled_account_is_due_at_its_new_instant_only():
    ticks = _schedule()
    ticks.schedule(0, "a", _state(INTERVAL))
    ticks.schedule(0, "a", _state(3 * INTERVAL))  # its state changed: the first entry is stale
    assert ticks.pop_due(0, 2 * INTERVAL) == []
    assert ticks.pop_due(0, 3 * INTERVAL) == ["a"]
    ticks.schedule(0, "b", _state(INTERVAL))
    ticks.schedule(0, "b", _state(None))  # nothing a tick could change: unscheduled
    assert ticks.pop_due(0, 10 * INTERVAL) == []


@pytest.mark.parametrize(("due", "watermark", "expected"), [
    pytest.param(5 * INTERVAL, 5 * INTERVAL + 1, [5 * INTERVAL], id="due-at-the-boundary"),
    pytest.param(5 * INTERVAL, 5 * INTERVAL - 1, [], id="watermark-not-there-yet"),
    pytest.param(10 * INTERVAL, 100 * INTERVAL, [(100 - CATCH_UP_TICKS) * INTERVAL], id="catch-up-is-bounded"),
    # A profile never evaluated (`Engine.next_tick_ms`: the epoch's first interval) has its first tick now,
    # not in the past: that tick starts its warm-up and its score history.
    pytest.param(INTERVAL, 100 * INTERVAL + 1, [100 * INTERVAL], id="never-evaluated-at-the-boundary"),
])
def test_instants_follow_the_watermark(due, watermark, expected):
    ticks = _schedule()
    ticks.schedule(1, "a", _state(due))
    ticks.watermark[1] = watermark
    seen = []
    for at in ticks.instants(1):
        seen.append(at)
        ticks.pop_due(1, at)  # the processor ticks the due accounts before asking for the next instant
    assert seen == expected


def test_a_never_evaluated_profile_is_ticked_after_the_accounts_catching_up():
    ticks = _schedule()
    ticks.schedule(1, "new", _state(INTERVAL))
    ticks.schedule(1, "behind", _state(90 * INTERVAL))
    ticks.watermark[1] = 100 * INTERVAL + 1
    seen = []
    for at in ticks.instants(1):
        seen.append((at, ticks.pop_due(1, at)))
    assert seen == [(90 * INTERVAL, ["behind"]), (100 * INTERVAL, ["new"])]


def test_resume_schedules_saved_accounts_and_restores_each_partitions_stream_time():
    ticks = _schedule()
    accounts = {f"acc-{n}": _state(INTERVAL * (n + 1), clock_ms=1000 * n) for n in range(12)}
    ticks.resume(accounts.items())
    assert ticks.resumed
    for partition in range(PARTITIONS):
        mine = [a for a in accounts if partition_for(a, PARTITIONS) == partition]
        assert ticks.watermark.get(partition, 0) == max((accounts[a].clock_ms for a in mine), default=0)
        assert sorted(ticks.pop_due(partition, 100 * INTERVAL)) == sorted(mine)


def test_a_state_saved_ahead_of_the_committed_offsets_is_scheduled_but_does_not_move_the_stream_time():
    # A kill while a commit's states were on their way: "late" is saved past the offsets committed.
    ticks = _schedule()
    early, late = _state(3 * INTERVAL, clock_ms=2 * INTERVAL), _state(9 * INTERVAL, clock_ms=8 * INTERVAL)
    pair = [a for a in (f"acc-{n}" for n in range(40)) if partition_for(a, PARTITIONS) == 2][:2]
    held = ticks.resume(zip(pair, (early, late)), ahead=lambda account_id, state: state is late)
    assert ticks.watermark[2] == 2 * INTERVAL
    assert held == {2: (2 * INTERVAL, 8 * INTERVAL)}
    assert ticks.pop_due(2, 10 * INTERVAL) == sorted(pair)


@pytest.mark.parametrize(("positions", "committed", "ahead"), [
    pytest.param({"usage": 4, "ticket": 1}, {"usage-t": 5, "ticket-t": 2}, False, id="all-before-the-commit"),
    pytest.param({"usage": 5}, {"usage-t": 5}, True, id="at-the-committed-offset"),
    pytest.param({"usage": 0}, {}, True, id="nothing-committed"),
    pytest.param({"other": 9}, {"usage-t": 1}, False, id="a-position-of-no-topic-read"),
])
def test_ahead_of_commit_compares_each_position_with_its_topics_committed_offset(positions, committed, ahead):
    account = "acc-1"
    partition = partition_for(account, PARTITIONS)
    check = ahead_of_commit(lambda topic, p: committed.get(topic) if p == partition else None,
                            {"usage": "usage-t", "ticket": "ticket-t"}, PARTITIONS)
    assert check(account, SimpleNamespace(positions=positions)) is ahead
