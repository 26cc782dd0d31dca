"""The benchmark's standard workload: a fixed number of events, generated fast and lazily."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from healthmon.core.vocabulary import TICKET_PRIORITIES

from .accounts import Account, make_accounts, power_law_seats
from .records import DAY_MS, HOUR_MS, Record, TimestampFormatter
from .rng import derive_rng
from .traffic import DEFAULT_START_MS, Traffic, profile_records
from .usage import FEATURES, WEEKDAY_FACTOR, weekday

__all__ = ["DENSE_SEATS_RANGE", "KIND_SHARES", "day_budgets", "standard_workload"]

#: share of events by kind (usage takes the rounding remainder)
KIND_SHARES = {"usage": 0.95, "ticket": 0.04, "nps": 0.01}
SEATS_RANGE = (5, 500)
#: seats of the dense workload's accounts: tens to hundreds, as a B2B product's customers have
DENSE_SEATS_RANGE = (20, 500)
SEATS_ALPHA = 1.5

_ACCOUNTS, _DAY = 10, 11
_FEATURE_WEIGHTS = (30, 18, 10, 6, 3, 9, 4, 20)  # same order as FEATURES
_PRIORITIES = TICKET_PRIORITIES  # the weights below follow its order
_PRIORITY_WEIGHTS = (35, 50, 12, 3)
_NPS_SCORES = tuple(range(11))
_NPS_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 10, 15, 30, 35)
# Work happens between 06:00 and 20:00 UTC, peaking mid-afternoon (sum of two uniforms).
_DAY_OFFSET_MS = 6 * HOUR_MS
_HALF_SPAN_MS = 7 * HOUR_MS


def standard_workload(
    events: int = 1_000_000,
    accounts: int = 10_000,
    days: int = 30,
    seed: int = 42,
    start_ms: int = DEFAULT_START_MS,
    seats_range: tuple[int, int] = SEATS_RANGE,
) -> Traffic:
    """Build the benchmark workload: exactly `events` events after one profile per account.

    Profiles are NOT counted in `events`. Seats follow a Zipf-like law on `seats_range` (5-500);
    events split ~95% usage / 4% tickets / 1% NPS; each day's volume follows weekday seasonality.
    """
    if events < 0 or accounts < 1 or days < 1:
        raise ValueError("need events >= 0, accounts >= 1 and days >= 1")
    lo, hi = seats_range
    accs = make_accounts(
        derive_rng(seed, _ACCOUNTS),
        accounts,
        start_ms=start_ms,
        days=days,
        draw_seats=lambda rng: power_law_seats(rng, lo, hi, SEATS_ALPHA),
    )

    def source() -> Iterator[Record]:
        return _workload_records(accs, events, days, seed, start_ms)

    return Traffic(
        accounts=accs,
        plan={a.account_id: "healthy" for a in accs},
        start_ms=start_ms,
        days=days,
        scenario="standard",
        seed=seed,
        source=source,
        events=events,
    )


def day_budgets(events: int, start_ms: int, days: int) -> list[int]:
    """Split `events` over the days in proportion to weekday activity, summing exactly."""
    weights = [WEEKDAY_FACTOR[weekday(start_ms + d * DAY_MS)] for d in range(days)]
    total = sum(weights)
    exact = [events * w / total for w in weights]
    budgets = [int(x) for x in exact]
    # Largest remainder, ties to the earlier day, so the total is exact and deterministic.
    by_remainder = sorted(range(days), key=lambda d: (budgets[d] - exact[d], d))
    for d in by_remainder[: events - sum(budgets)]:
        budgets[d] += 1
    return budgets


def _split_kinds(n: int) -> tuple[int, int, int]:
    tickets = round(n * KIND_SHARES["ticket"])
    nps = round(n * KIND_SHARES["nps"])
    return n - tickets - nps, tickets, nps


class _Portfolio:
    """The accounts as flat lists, with per-account counters that run across days."""

    def __init__(self, accs: list[Account], seed: int) -> None:
        self.ids = [a.account_id for a in accs]
        self.seats = [a.seats for a in accs]
        # Some accounts use the product harder per seat than others.
        intensity_rng = derive_rng(seed, _ACCOUNTS, 1)
        self.usage_cw = list(accumulate(s * intensity_rng.uniform(0.5, 1.5) for s in self.seats))
        self.ticket_cw = list(accumulate(2.0 + s * 0.1 for s in self.seats))
        self.nps_cw = list(accumulate(float(s) for s in self.seats))
        self.indices = range(len(accs))
        self.usage_seq = [0] * len(accs)
        self.ticket_seq = [0] * len(accs)
        self.ticket_event_seq = [0] * len(accs)
        self.nps_seq = [0] * len(accs)
        #: (account index, ticket_id, priority) of tickets not yet closed
        self.open_tickets: list[tuple[int, str, str]] = []


def _workload_records(accs: list[Account], events: int, days: int, seed: int, start_ms: int) -> Iterator[Record]:
    fmt = TimestampFormatter()
    yield from profile_records(accs, start_ms, seed, fmt)
    folio = _Portfolio(accs, seed)
    ids, seats, usage_seq, usage_cw = folio.ids, folio.seats, folio.usage_seq, folio.usage_cw
    feature_cw = list(accumulate(_FEATURE_WEIGHTS))
    # The usage loop formats ~950k timestamps: it inlines `fmt` (see TimestampFormatter).
    minutes, seconds, minute_prefix = fmt.minutes, fmt.seconds, fmt.minute_prefix
    half_span, record, never = _HALF_SPAN_MS, Record, 1 << 62
    for day, budget in enumerate(day_budgets(events, start_ms, days)):
        rng = derive_rng(seed, _DAY, day)
        rand = rng.random
        day_start = start_ms + day * DAY_MS + _DAY_OFFSET_MS
        n_usage, n_tickets, n_nps = _split_kinds(budget)
        others = _day_tickets(folio, rng, day_start, n_tickets, fmt) + _day_nps(folio, rng, day_start, n_nps, fmt)
        others.sort(key=_by_time)
        # Usage events are independent draws, so drawing their times first and sorting them is
        # the same distribution as sorting the events: the day comes out in order without a sort
        # of the records, merged with the few tickets and NPS answers.
        times = sorted([day_start + int((rand() + rand()) * half_span) for _ in range(n_usage)])
        who = rng.choices(folio.indices, cum_weights=usage_cw, k=n_usage)
        what = rng.choices(FEATURES, cum_weights=feature_cw, k=n_usage)
        k, next_other = 0, others[0].occurred_at if others else never
        for t, a, feature in zip(times, who, what):
            while next_other <= t:
                yield others[k]
                k += 1
                next_other = others[k].occurred_at if k < len(others) else never
            aid = ids[a]
            r = rand()
            # r*r skews activity towards low-numbered users: a few power users, a long tail.
            user = int(seats[a] * r * r)
            n = usage_seq[a]
            usage_seq[a] = n + 1
            occurred: str | int
            if rand() < 0.8:
                m = t // 60_000
                occurred = (minutes.get(m) or minute_prefix(m)) + seconds[t % 60_000]
            else:
                occurred = t
            yield record("usage", aid, {
                "event_id": f"u-{aid}-{n}",
                "account_id": aid,
                "user_id": f"user-{aid}-{user}",
                "feature": feature,
                "occurred_at": occurred,
            }, t)
        yield from others[k:]


def _day_tickets(folio: _Portfolio, rng: random.Random, day_start: int, count: int,
                 fmt: TimestampFormatter) -> list[Record]:
    rand = rng.random
    ids, open_tickets = folio.ids, folio.open_tickets
    out = []
    # Follow-ups only touch tickets opened on earlier days, so they never precede the opening.
    carried = len(open_tickets)
    for _ in range(count):
        t = day_start + int((rand() + rand()) * _HALF_SPAN_MS)
        if carried and rand() < 0.6:
            j = int(rand() * carried)
            a, ticket_id, priority = open_tickets[j]
            value: dict[str, Any] = {"ticket_id": ticket_id, "priority": priority}
            if rand() < 0.5:
                value["status"] = "updated"
            else:
                value["status"] = "closed"
                if rand() < 0.45:
                    value["csat"] = rng.choices((1, 2, 3, 4, 5), weights=(2, 3, 10, 30, 55))[0]
                # Swap-remove among the carried tickets, keeping today's openings after them.
                carried -= 1
                open_tickets[j] = open_tickets[carried]
                open_tickets[carried] = open_tickets[-1]
                open_tickets.pop()
        else:
            a = rng.choices(folio.indices, cum_weights=folio.ticket_cw)[0]
            folio.ticket_seq[a] += 1
            ticket_id = f"t-{ids[a]}-{folio.ticket_seq[a]}"
            priority = rng.choices(_PRIORITIES, weights=_PRIORITY_WEIGHTS)[0]
            open_tickets.append((a, ticket_id, priority))
            value = {"ticket_id": ticket_id, "priority": priority, "status": "opened"}
        aid = ids[a]
        n = folio.ticket_event_seq[a]
        folio.ticket_event_seq[a] = n + 1
        value["event_id"] = f"te-{aid}-{n}"
        value["account_id"] = aid
        value["occurred_at"] = fmt(t) if rand() < 0.8 else t
        out.append(Record("ticket", aid, value, t))
    return out


def _day_nps(folio: _Portfolio, rng: random.Random, day_start: int, count: int,
             fmt: TimestampFormatter) -> list[Record]:
    rand = rng.random
    out = []
    for a in rng.choices(folio.indices, cum_weights=folio.nps_cw, k=count):
        aid = folio.ids[a]
        t = day_start + int((rand() + rand()) * _HALF_SPAN_MS)
        folio.nps_seq[a] += 1
        out.append(Record("nps", aid, {
            "event_id": f"n-{aid}-{folio.nps_seq[a]}",
            "account_id": aid,
            "user_id": f"user-{aid}-{int(rand() * folio.seats[a])}",
            "score": rng.choices(_NPS_SCORES, weights=_NPS_WEIGHTS)[0],
            "occurred_at": fmt(t) if rand() < 0.8 else t,
        }, t))
    return out


def _by_time(rec: Record) -> int:
    return rec.occurred_at
