"""Scenario names, who gets which behaviour, and what each behaviour does on a given day."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .records import DAY_MS

__all__ = [
    "BEHAVIOURS",
    "CHURN_NOTICE_DAYS",
    "CHURNING",
    "DROP_RATIO",
    "MIXED_HEALTHY_RATIO",
    "RECOVER_AFTER_DAYS",
    "STALL_DAYS",
    "DayPlan",
    "Timeline",
    "assign_plan",
    "day_plan",
    "default_change_day",
    "scenario_names",
]

#: per-account behaviours (the values of `Traffic.plan`)
BEHAVIOURS = ("healthy", "drop", "silent", "ticket_spike", "recover", "ingest_stall")
_TROUBLE = ("drop", "silent", "ticket_spike", "recover")
_SCENARIOS = ("mixed", "healthy", *_TROUBLE, "ingest_stall")

#: share of an account's users who stop using the product in `drop` and `recover`
DROP_RATIO = 0.7
#: days a `recover` account stays down before returning to its normal level
RECOVER_AFTER_DAYS = 7
#: days the whole product-usage input is missing in `ingest_stall`
STALL_DAYS = 3
#: share of healthy accounts in `mixed`
MIXED_HEALTHY_RATIO = 0.7
#: the behaviours that end in churn: the account cancels this many days after its usage changes (the
#: default change day leaves exactly these two weeks before the end of the period), so that alerts on
#: the change can lead the churn as they would a real cancellation
CHURNING = ("drop", "silent")
CHURN_NOTICE_DAYS = 14


def scenario_names() -> list[str]:
    """Return the scenario names `generate` accepts."""
    return list(_SCENARIOS)


def default_change_day(days: int) -> int:
    """Return the day the scenario's change starts: two weeks before the end (day 28 of 42).

    Two weeks leave room for `recover` (7 days down, 7 back up); shorter periods use the middle.
    """
    return days - 14 if days >= 28 else days // 2


def assign_plan(scenario: str, count: int, rng: random.Random, affected_ratio: float) -> list[str]:
    """Return the behaviour of each account by index.

    `mixed`: 70% healthy, the rest split evenly among drop / silent / ticket_spike / recover, at
    least one of each from 5 accounts. `healthy` / `ingest_stall`: every account. Otherwise a
    share `affected_ratio` (at least one account) has the named behaviour, the rest are healthy.
    """
    if scenario not in _SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(_SCENARIOS)}")
    if scenario in ("healthy", "ingest_stall"):
        return [scenario] * count
    order = list(range(count))
    rng.shuffle(order)
    plan = ["healthy"] * count
    if scenario == "mixed":
        troubled = round(count * (1 - MIXED_HEALTHY_RATIO))
        if count >= 5:
            troubled = max(troubled, len(_TROUBLE))
        for n, i in enumerate(order[:troubled]):
            plan[i] = _TROUBLE[n % len(_TROUBLE)]
    else:
        if not 0.0 < affected_ratio <= 1.0:
            raise ValueError("affected_ratio must be in (0, 1]")
        for i in order[: max(1, round(count * affected_ratio))] if count else ():
            plan[i] = scenario
    return plan


@dataclass(frozen=True, slots=True)
class Timeline:
    """Where the period starts and when the scenario's changes happen (day 0 starts at start_ms)."""

    start_ms: int
    days: int
    change_day: int
    stall: bool = False

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.days * DAY_MS

    @property
    def change_day_ms(self) -> int:
        return self.start_ms + self.change_day * DAY_MS

    @property
    def recover_day_ms(self) -> int:
        return self.change_day_ms + RECOVER_AFTER_DAYS * DAY_MS

    @property
    def stall_window_ms(self) -> tuple[int, int] | None:
        if not self.stall:
            return None
        return self.change_day_ms, self.change_day_ms + STALL_DAYS * DAY_MS

    def day_start_ms(self, day: int) -> int:
        return self.start_ms + day * DAY_MS


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What one account does on one day."""

    usage: bool = True
    #: users in the account's churn set stay away (drop / recover)
    churned_away: bool = False
    #: ticket_spike's flood of urgent tickets, low CSAT and detractors
    spiking: bool = False


_NORMAL = DayPlan()


def day_plan(behaviour: str, day: int, timeline: Timeline) -> DayPlan | None:
    """Return the account's plan for `day`, or None if it sends nothing at all that day."""
    after = day >= timeline.change_day
    if behaviour == "silent" and after:
        return None
    churned = (behaviour == "drop" and after) or (
        behaviour == "recover" and after and day < timeline.change_day + RECOVER_AFTER_DAYS
    )
    spiking = behaviour == "ticket_spike" and after
    # The stall hides everyone's usage whatever they are doing: it is the pipeline, not them.
    stalled = timeline.stall and timeline.change_day <= day < timeline.change_day + STALL_DAYS
    if not (churned or spiking or stalled):
        return _NORMAL
    return DayPlan(usage=not stalled, churned_away=churned, spiking=spiking)
