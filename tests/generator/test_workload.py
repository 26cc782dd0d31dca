"""standard_workload(): exact size, shape, order, contracts, laziness."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator
from functools import cache
from itertools import islice

import pytest

from healthmon.generator import Record, standard_workload, workload
from healthmon.generator.records import DAY_MS
from healthmon.generator.usage import weekday
from healthmon.generator.workload import day_budgets
from schemas.events import EVENT_MODELS

EVENTS, ACCOUNTS, DAYS = 20_000, 400, 14


@cache
def _small() -> tuple[Record, ...]:
    return tuple(standard_workload(events=EVENTS, accounts=ACCOUNTS, days=DAYS).records())


@pytest.fixture
def small() -> list[Record]:
    return list(_small())


def test_yields_exactly_the_requested_events_after_one_profile_per_account(small):
    kinds = Counter(r.kind for r in small)
    assert kinds["account"] == ACCOUNTS
    assert sum(kinds.values()) - ACCOUNTS == EVENTS
    assert [r.kind for r in small[:ACCOUNTS]] == ["account"] * ACCOUNTS
    assert abs(kinds["usage"] / EVENTS - 0.95) < 0.005
    assert abs(kinds["ticket"] / EVENTS - 0.04) < 0.005
    assert abs(kinds["nps"] / EVENTS - 0.01) < 0.005


def test_every_record_validates_and_event_ids_are_unique(small):
    for rec in small:
        model = EVENT_MODELS[rec.kind].model_validate(rec.value)
        assert model.account_id == rec.key
        if rec.kind != "account":
            assert model.occurred_at == rec.occurred_at
    ids = [r.value["event_id"] for r in small if r.kind != "account"]
    assert len(ids) == len(set(ids))


def test_records_are_in_time_order_within_the_period(small):
    times = [r.occurred_at for r in small]
    assert times == sorted(times)
    start = small[0].occurred_at
    assert times[-1] < start + DAYS * DAY_MS


def test_ticket_follow_ups_come_after_their_opening(small):
    opened: dict[str, int] = {}
    statuses = Counter()
    for rec in small:
        if rec.kind != "ticket":
            continue
        statuses[rec.value["status"]] += 1
        tid = rec.value["ticket_id"]
        if rec.value["status"] == "opened":
            assert tid not in opened
            opened[tid] = rec.occurred_at
        else:
            assert opened[tid] < rec.occurred_at
    assert statuses["opened"] and statuses["updated"] and statuses["closed"]


def test_weekday_volume_beats_weekend(small):
    start = small[0].occurred_at
    per_day = Counter((r.occurred_at - start) // DAY_MS for r in small if r.kind != "account")
    weekdays = [per_day[d] for d in range(DAYS) if weekday(start + d * DAY_MS) < 5]
    weekends = [per_day[d] for d in range(DAYS) if weekday(start + d * DAY_MS) >= 5]
    assert statistics.mean(weekdays) > 4 * statistics.mean(weekends) > 0


def test_is_deterministic_and_seed_dependent():
    a = list(islice(standard_workload(events=3_000, accounts=50, days=3).records(), 2_000))
    b = list(islice(standard_workload(events=3_000, accounts=50, days=3).records(), 2_000))
    c = list(islice(standard_workload(events=3_000, accounts=50, days=3, seed=7).records(), 2_000))
    assert a == b
    assert a != c


def test_records_are_generated_lazily_day_by_day(monkeypatch):
    days_built = []
    real = workload.derive_rng

    def spy(seed, *parts):
        if parts[:1] == (workload._DAY,):
            days_built.append(parts[1])
        return real(seed, *parts)

    monkeypatch.setattr(workload, "derive_rng", spy)
    records = standard_workload(events=300_000, accounts=100, days=30).records()
    assert isinstance(records, Iterator)
    assert len(list(islice(records, 150))) == 150
    assert days_built == [0]


def test_seats_are_zipf_like_within_5_to_500():
    traffic = standard_workload(events=0)
    seats = [p["seats"] for p in traffic.profiles]
    assert len(seats) == 10_000
    assert min(seats) == 5 and max(seats) <= 500
    assert max(seats) > 300
    # Heavy tail: most accounts are small, a few are big.
    assert statistics.median(seats) < 20 < statistics.mean(seats)
    assert Counter(p["tier"] for p in traffic.profiles) == {"strategic": 1000, "key": 2500, "standard": 6500}
    assert traffic.events == 0 and traffic.days == 30
    assert set(traffic.plan.values()) == {"healthy"}
    assert traffic.change_day_ms is None


@pytest.mark.parametrize(("events", "days"), [(0, 30), (1, 30), (29, 30), (1_000_000, 30), (12_345, 7), (5, 1)])
def test_day_budgets_sum_exactly(events, days):
    budgets = day_budgets(events, 1_767_571_200_000, days)
    assert len(budgets) == days
    assert sum(budgets) == events
    assert min(budgets) >= 0
