"""The benchmark's standard workload: a fixed number of events, generated fast and lazily."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate

from .accounts import Account, make_accounts, power_law_seats
from .records import DAY_MS, HOUR_MS, Record, TimestampFormatter
from .rng import derive_rng
from .traffic import DEFAULT_START_MS, Traffic, profile_records
from .usage import FEATURES, WEEKDAY_FACTOR, weekday

__all__ = ["KIND_SHARES", "day_budgets", "standard_workload"]

#: share of events by kind (usage takes the rounding remainder)
KIND_SHARES = {"usage": 0.95, "ticket": 0.04, "nps": 0.01}
SEATS_RANGE = (5, 500)
SEATS_ALPHA = 1.5

_ACCOUNTS, _DAY = 10, 11
_FEATURE_WEIGHTS = (30, 18, 10, 6, 3, 9, 4, 20)  # same order as FEATURES
_PRIORITIES = ("low", "normal", "high", "urgent")
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
) -> Traffic:
    """Build the benchmark workload: exactly `events` events after one profile per account.

    Profiles are NOT counted in `events`. Seats follow a Zipf-like law on 5-500; events split
    ~95% usage / 4% tickets / 1% NPS; each day's volume follows weekday seasonality.
    """
    if events < 0 or accounts < 1 or days < 1:
        raise ValueError("need events >= 0, accounts >= 1 and days >= 1")
    lo, hi = SEATS_RANGE
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


def _workload_records(accs: list[Account], events: int, days: int, seed: int, start_ms: int) -> Iterator[Record]:
    fmt = TimestampFormatter()
    yield from profile_records(accs, start_ms, seed, fmt)
    # The usage loop formats ~950k timestamps: it inlines `fmt` (see TimestampFormatter).
    minutes, seconds, minute_prefix = fmt.minutes, fmt.seconds, fmt.minute_prefix
    half_span, record = _HALF_SPAN_MS, Record
    ids = [a.account_id for a in accs]
    seats = [a.seats for a in accs]
    # Some accounts use the product harder per seat than others.
    intensity_rng = derive_rng(seed, _ACCOUNTS, 1)
    usage_cw = list(accumulate(s * intensity_rng.uniform(0.5, 1.5) for s in seats))
    ticket_cw = list(accumulate(2.0 + s * 0.1 for s in seats))
    nps_cw = list(accumulate(float(s) for s in seats))
    feature_cw = list(accumulate(_FEATURE_WEIGHTS))
    indices = range(len(accs))
    usage_seq = [0] * len(accs)
    ticket_seq = [0] * len(accs)
    ticket_event_seq = [0] * len(accs)
    nps_seq = [0] * len(accs)
    open_tickets: list[tuple[int, str, str]] = []  # (account index, ticket_id, priority)
    for day, budget in enumerate(day_budgets(events, start_ms, days)):
        rng = derive_rng(seed, _DAY, day)
        rand = rng.random
        day_start = start_ms + day * DAY_MS + _DAY_OFFSET_MS
        n_usage, n_tickets, n_nps = _split_kinds(budget)
        # Parallel lists rather than Records: plain dicts of str/int are not tracked by the cyclic
        # GC, so a day's worth of them costs no collection work; Records are made as they leave.
        # Kinds are implied by position: usage, then tickets, then NPS.
        times: list[int] = []
        values: list[dict] = []
        add_time, add_value = times.append, values.append

        who = rng.choices(indices, cum_weights=usage_cw, k=n_usage)
        what = rng.choices(FEATURES, cum_weights=feature_cw, k=n_usage)
        for a, feature in zip(who, what):
            aid = ids[a]
            r = rand()
            # r*r skews activity towards low-numbered users: a few power users, a long tail.
            user = int(seats[a] * r * r)
            t = day_start + int((rand() + rand()) * half_span)
            n = usage_seq[a]
            usage_seq[a] = n + 1
            if rand() < 0.8:
                m = t // 60_000
                occurred = (minutes.get(m) or minute_prefix(m)) + seconds[t % 60_000]
            else:
                occurred = t
            add_time(t)
            add_value({
                "event_id": f"u-{aid}-{n}",
                "account_id": aid,
                "user_id": f"user-{aid}-{user}",
                "feature": feature,
                "occurred_at": occurred,
            })

        # Follow-ups only touch tickets opened on earlier days, so they never precede the opening.
        carried = len(open_tickets)
        for _ in range(n_tickets):
            t = day_start + int((rand() + rand()) * _HALF_SPAN_MS)
            if carried and rand() < 0.6:
                j = int(rand() * carried)
                a, ticket_id, priority = open_tickets[j]
                value = {"ticket_id": ticket_id, "priority": priority}
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
                a = rng.choices(indices, cum_weights=ticket_cw)[0]
                ticket_seq[a] += 1
                ticket_id = f"t-{ids[a]}-{ticket_seq[a]}"
                priority = rng.choices(_PRIORITIES, weights=_PRIORITY_WEIGHTS)[0]
                open_tickets.append((a, ticket_id, priority))
                value = {"ticket_id": ticket_id, "priority": priority, "status": "opened"}
            aid = ids[a]
            n = ticket_event_seq[a]
            ticket_event_seq[a] = n + 1
            value["event_id"] = f"te-{aid}-{n}"
            value["account_id"] = aid
            value["occurred_at"] = fmt(t) if rand() < 0.8 else t
            add_time(t)
            add_value(value)

        for a in rng.choices(indices, cum_weights=nps_cw, k=n_nps):
            aid = ids[a]
            t = day_start + int((rand() + rand()) * _HALF_SPAN_MS)
            nps_seq[a] += 1
            add_time(t)
            add_value({
                "event_id": f"n-{aid}-{nps_seq[a]}",
                "account_id": aid,
                "user_id": f"user-{aid}-{int(rand() * seats[a])}",
                "score": rng.choices(_NPS_SCORES, weights=_NPS_WEIGHTS)[0],
                "occurred_at": fmt(t) if rand() < 0.8 else t,
            })

        # Stable: ties keep generation order, so the output is deterministic.
        first_ticket, first_nps = n_usage, n_usage + n_tickets
        for i in sorted(range(len(times)), key=times.__getitem__):
            value = values[i]
            kind = "usage" if i < first_ticket else "ticket" if i < first_nps else "nps"
            yield record(kind, value["account_id"], value, times[i])
