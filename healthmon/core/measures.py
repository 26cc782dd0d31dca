"""The metric catalogue and the computation of every metric of an account as of an instant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from healthmon.core.rounding import round_to
from healthmon.core.state import CORE_SHIFT, DAY_MS, AccountState
from healthmon.core.windows import asof_day, count_users, shifted_bits, shifted_events

__all__ = ["METRICS", "METRIC_INDEX", "METRIC_NAMES", "RELATIVE_METRICS", "Metric", "Metrics", "compute_metrics",
           "format_value"]


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _num(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _days(v: float) -> str:
    return f"{v:g} days"


@dataclass(frozen=True)
class Metric:
    """A measurable quantity of an account: its input source, its label and how to print a value."""

    name: str
    source: str
    label: str
    fmt: Callable[[float], str]


#: name -> Metric. `source` is the input kind whose stall makes the metric unreliable.
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("daily_active_users", "usage", "daily active users", _num),
    Metric("weekly_active_users", "usage", "weekly active users", _num),
    Metric("monthly_active_users", "usage", "monthly active users", _num),
    Metric("weekly_active_ratio", "usage", "weekly active users (share of seats)", _pct),
    Metric("license_utilisation", "usage", "license utilisation (monthly active users / seats)", _pct),
    Metric("adoption_rate", "usage", "core-feature adoption (28-day core users / seats)", _pct),
    Metric("core_users_28d", "usage", "core-feature users over 28 days", _num),
    Metric("events_7d", "usage", "events over 7 days", _num),
    Metric("events_per_day", "usage", "events per day (7-day average)", _num),
    Metric("events_trend", "usage", "events over 7 days vs the previous four weeks' average", _pct),
    Metric("weekly_active_trend", "usage", "weekly active users vs the previous four weeks' average", _pct),
    Metric("days_since_last_activity", "usage", "days since the last activity", _days),
    Metric("active_days", "usage", "days with product usage so far", _num),
    Metric("activity_gap_days", "usage", "average days between days with product usage", _days),
    Metric("time_to_value_days", "usage", "days from contract start to first core-feature use", _days),
    Metric("tickets_opened_7d", "ticket", "tickets opened over 7 days", _num),
    Metric("tickets_opened_28d", "ticket", "tickets opened over 28 days", _num),
    Metric("open_tickets", "ticket", "open tickets", _num),
    Metric("open_urgent_tickets", "ticket", "open high/urgent tickets", _num),
    Metric("csat_28d", "ticket", "average CSAT over 28 days", _num),
    Metric("nps_90d", "nps", "NPS over 90 days", _num),
)}

#: Metrics with a weekly history, usable by relative warning lines: name -> key of its weekly series.
RELATIVE_METRICS = ("weekly_active_users", "events_7d")


def format_value(metric: str, value: float | None) -> str:
    """Return a metric value as a human would write it."""
    if value is None:
        return "no data"
    return METRICS[metric].fmt(value)


#: the catalogue's metric names, in its order: a metric's value is `Metrics.values[METRIC_INDEX[name]]`
METRIC_NAMES: Final = tuple(METRICS)
METRIC_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(METRIC_NAMES)}


class Metrics:
    """Every metric of an account as of an instant (None: no data), and the weekly series of the relative ones.

    One object per evaluation, its values in a list by catalogue index (`METRIC_INDEX`): compiled, it is a
    native class, where a dict of 21 names cost more than all the arithmetic that fills it.
    """

    __slots__ = ("values", "weeks", "event_weeks")

    def __init__(self, values: list[float | None], weeks: list[int], event_weeks: list[int]) -> None:
        #: metric values in `METRIC_NAMES` order
        self.values = values
        #: weekly active users and usage events, [this week, 1..4 weeks ago]; empty until the account's history
        #: covers all five weeks
        self.weeks = weeks
        self.event_weeks = event_weeks

    @classmethod
    def of(cls, values: dict[str, float | None], series: dict[str, list[int]] | None = None) -> Metrics:
        """Return the metrics of a name -> value mapping (a name it lacks has no data) and weekly series."""
        series = series or {}
        return cls([values.get(name) for name in METRIC_NAMES], series.get("weekly_active_users", []),
                   series.get("events_7d", []))

    def get(self, name: str) -> float | None:
        """Return a metric's value (None: no data, or no such metric)."""
        index = METRIC_INDEX.get(name)
        return None if index is None else self.values[index]

    def weekly(self, name: str) -> list[int]:
        """Return the weekly series of a relative metric (`RELATIVE_METRICS`); empty without five weeks of history."""
        if name == "weekly_active_users":
            return self.weeks
        if name == "events_7d":
            return self.event_weeks
        return []

    def as_dict(self) -> dict[str, float | None]:
        """Return metric name -> value, in catalogue order."""
        return dict(zip(METRIC_NAMES, self.values))

    def series(self) -> dict[str, list[int]]:
        """Return relative metric name -> weekly series (empty without five weeks of history)."""
        return {"weekly_active_users": self.weeks, "events_7d": self.event_weeks} if self.weeks else {}


def _ratio(num: float, den: float | None) -> float | None:
    return round_to(num / den, 4) if den else None


def compute_metrics(state: AccountState, at_ms: int) -> Metrics:
    """Return every metric as of `at_ms` (None: no data) with the weekly series [this week, 1..4 weeks ago].

    The weekly series are empty until the account's history covers all five weeks.
    """
    day = asof_day(at_ms)
    offset = day - state.anchor_day
    if offset:
        counts = count_users(active | (core_bits << CORE_SHIFT)
                             for active, core_bits in (shifted_bits(b, offset) for b in state.users.values()))
    else:
        cached = state.user_counts
        if cached is None:
            cached = state.user_counts = count_users(state.users.values())
        counts = cached
    dau, wau, mau, core, w1, w2, w3, w4 = counts
    # Usage events of this week and of each of the four before it (days 0-6, 7-13, ... 28-34 back).
    e0 = e1 = e2 = e3 = e4 = 0
    for k, n in enumerate(shifted_events(state.events, offset)):
        if n:
            if k < 7:
                e0 += n
            elif k < 14:
                e1 += n
            elif k < 21:
                e2 += n
            elif k < 28:
                e3 += n
            elif k < 35:
                e4 += n
    seats = state.seats
    has_history = bool(state.first_ms) and state.first_ms <= (day - 34) * DAY_MS
    baseline_wau = (w1 + w2 + w3 + w4) / 4
    baseline_events = (e1 + e2 + e3 + e4) / 4

    opened_7 = opened_28 = open_all = open_urgent = 0
    csat_sum = csat_n = 0
    for ticket in state.tickets.values():
        opened_day, csat, csat_day = ticket.opened_day, ticket.csat, ticket.csat_day
        if ticket.is_open:
            open_all += 1
            if ticket.priority >= 2:
                open_urgent += 1
        if opened_day >= 0 and day - 28 < opened_day <= day:
            opened_28 += 1
            if opened_day > day - 7:
                opened_7 += 1
        if csat and day - 28 < csat_day <= day:
            csat_sum += csat
            csat_n += 1
    promoters = passives = detractors = 0
    for nps_day, (p, n, x) in state.nps.items():
        if day - 90 < nps_day <= day:
            promoters += p
            passives += n
            detractors += x
    answers = promoters + passives + detractors

    ttv = None
    # Observed only when healthmon saw the account from the contract's first day: a contract that began
    # before the account's first event had days healthmon never saw, so an earlier core use cannot be ruled out.
    if state.contract_day is not None and state.first_ms and state.first_ms // DAY_MS <= state.contract_day:
        if state.first_core_ms:
            ttv = max(0.0, state.first_core_ms // DAY_MS - state.contract_day)
        elif day >= state.contract_day:
            ttv = float(day - state.contract_day)  # not reached yet: a lower bound that keeps growing

    # In `METRIC_NAMES` order.
    values: list[float | None] = [
        dau,
        wau,
        mau,
        _ratio(wau, seats),
        _ratio(mau, seats),
        _ratio(core, seats),
        core,
        e0,
        round_to(e0 / 7, 2),
        _ratio(e0, baseline_events) if has_history else None,
        _ratio(wau, baseline_wau) if has_history else None,
        max(0, day - state.last_activity_ms // DAY_MS) if state.last_activity_ms else None,
        state.active_days,
        (round_to((state.last_activity_ms // DAY_MS - state.first_activity_day) / (state.active_days - 1), 2)
         if state.active_days > 1 else None),
        ttv,
        opened_7,
        opened_28,
        open_all,
        open_urgent,
        round_to(csat_sum / csat_n, 2) if csat_n else None,
        round_to(100 * (promoters - detractors) / answers, 1) if answers else None,
    ]
    if has_history:
        return Metrics(values, [wau, w1, w2, w3, w4], [e0, e1, e2, e3, e4])
    return Metrics(values, [], [])
