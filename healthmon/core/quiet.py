"""When an account that gets no input can next change: the first day a measure, a band or a line can move.

Without input an account's metrics move with the day alone, on days its state names: days with usage,
tickets opened, CSAT and NPS answers enter and leave their windows; days since the last activity and the
time to value grow by one a day; the trends gain their five weeks of history. A measure's score moves
only while its value lies between `bad` and `good`, a line's decision only when its value crosses one of
the line's thresholds. `quiet_until_ms` turns that into the tick instant of the first such day, after an
evaluation whose decisions would not change on the same metrics whatever input is held back. It may name
an earlier instant than needed (that evaluation then changes nothing), never a later one.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

from healthmon.core.lifecycle import line_check, rhythm_line
from healthmon.core.measures import Metrics
from healthmon.core.policy import TierPolicy, WarningLine
from healthmon.core.scoring import band_with_hysteresis
from healthmon.core.state import DAY_MS, AccountState, Lifecycle, RuleState
from healthmon.core.windows import advance, asof_day

__all__ = ["NEVER_MS", "catch_up", "catches_up", "quiet_day", "quiet_until_ms", "settled"]

#: `AccountState.quiet_until_ms` of an account nothing but new input can change
NEVER_MS: Final = 1 << 60
_NEVER_DAY: Final = NEVER_MS // DAY_MS

#: A day with usage enters or leaves a metric's windows when its distance behind the as-of day reaches one
#: of these (bit positions of `AccountState.users`, indexes of `AccountState.events`).
_WEEKS: Final = (0, 7, 14, 21, 28, 35)
_USAGE_BOUNDS: Final[dict[str, tuple[int, ...]]] = {
    "daily_active_users": (0, 1),
    "weekly_active_users": (0, 7), "weekly_active_ratio": (0, 7), "events_7d": (0, 7), "events_per_day": (0, 7),
    "monthly_active_users": (0, 28), "license_utilisation": (0, 28), "adoption_rate": (0, 28),
    "core_users_28d": (0, 28),
    "events_trend": _WEEKS, "weekly_active_trend": _WEEKS,
}
#: metrics that have no value until the account's history covers five weeks
_NEED_HISTORY: Final = ("events_trend", "weekly_active_trend")
#: metrics no day can move
_CONSTANT: Final = ("active_days", "activity_gap_days", "open_tickets", "open_urgent_tickets")
#: ticket and NPS metrics: how many days an answer or an opening stays in the window
_TICKET_DAYS: Final = {"tickets_opened_7d": 7, "tickets_opened_28d": 28}
#: metrics whose next change is read from the account's own days (its last activity, contract, tickets, answers)
_DATED: Final = ("days_since_last_activity", "time_to_value_days", "tickets_opened_7d", "tickets_opened_28d",
                 "csat_28d", "nps_90d")


def _growing(base: int, day0: int, scored: tuple[float, float] | None, lines: list[float]) -> int:
    """Return the first day after `day0` a value of `day - base` moves a measure over (lo, hi) or crosses a line."""
    if day0 < base:
        return day0 + 1
    best = _NEVER_DAY
    if scored is not None:
        lo, hi = scored
        day = max(day0 + 1, base + math.floor(lo) + 1)
        if day - base < hi + 1:  # a score is flat at and below lo and at and above hi
            best = day
    for threshold in lines:
        for value in (math.floor(threshold) + 1, math.ceil(threshold)):  # where >, <=, < and >= flip
            day = base + value
            if day0 < day < best:
                best = day
    return best


def _thresholds(line: WarningLine, metrics: Metrics, firing: bool) -> list[float]:
    """Return the values at which a line on a growing metric can flip: its exit line if firing, else its enter line.

    Only a firing rule looks at its exit line, and only a rule that is not looks at its enter line; a rule
    changes status at evaluations only.
    """
    if firing:
        exits = (line.exit_below,) if line.kind == "rhythm" else (line.exit_above, line.exit_below)
        return [t for t in exits if t is not None]
    if line.kind == "rhythm":
        enter = rhythm_line(line, metrics.get("active_days"), metrics.get("activity_gap_days"))
        return [] if enter is None else [enter]
    return [t for t in (line.below, line.above) if t is not None]


class _Plan(NamedTuple):
    """What `quiet_day` reads of a tier, whatever the account: worked out once per tier."""

    tier: TierPolicy
    #: a metric this module does not know is scored or watched: every day, to be safe
    unknown: bool
    #: days behind the as-of day at which a day with usage enters or leaves a window the tier reads (sorted)
    bounds: tuple[int, ...]
    #: whether a metric the tier reads waits for five weeks of history
    history: bool
    #: the scored or watched metrics whose next change depends on the account's own days
    dated: tuple[str, ...]


_PLANS: dict[int, _Plan] = {}
_PLANS_MAX: Final = 256


def _plan(tier: TierPolicy) -> _Plan:
    """Return the tier's plan (cached by identity; the plan holds the tier, so the identity stays its own)."""
    plan = _PLANS.get(id(tier))
    if plan is not None and plan.tier is tier:
        return plan
    metrics = list(tier.score_ranges)
    bounds: set[int] = set()
    history = False
    for line in tier.warning_lines:
        if line.kind == "relative":  # the weekly series: every week's bucket, from five weeks of history on
            bounds.update(_WEEKS)
            history = True
        elif line.metric not in metrics:
            metrics.append(line.metric)
    unknown = False
    dated: list[str] = []
    for metric in metrics:
        if metric in _CONSTANT:
            continue
        if metric in _USAGE_BOUNDS:
            bounds.update(_USAGE_BOUNDS[metric])
            history = history or metric in _NEED_HISTORY
        elif metric in _DATED:
            dated.append(metric)
        else:
            unknown = True
    plan = _Plan(tier, unknown, tuple(sorted(bounds)), history, tuple(dated))
    if len(_PLANS) >= _PLANS_MAX:
        _PLANS.clear()
    _PLANS[id(tier)] = plan
    return plan


def _line_thresholds(state: AccountState, tier: TierPolicy, metric: str, metrics: Metrics) -> list[float]:
    """Return the values at which the tier's lines on `metric` can flip for this account (`_thresholds`)."""
    out: list[float] = []
    for line in tier.warning_lines:
        if line.kind != "relative" and line.metric == metric:
            rule = state.life.lines.get(line.name)
            out.extend(_thresholds(line, metrics, rule is not None and rule.status == RuleState.FIRING))
    return out


def quiet_day(state: AccountState, tier: TierPolicy, day0: int, metrics: Metrics) -> int:
    """Return the first day after `day0` on which a metric the tier scores or watches can move (or a far day)."""
    soonest = day0 + 1
    plan = _plan(tier)
    if plan.unknown:
        return soonest
    scored = tier.score_ranges
    best = _NEVER_DAY
    for metric in plan.dated:
        if metric == "days_since_last_activity":
            if not state.last_activity_ms:
                continue
            day = _growing(state.last_activity_ms // DAY_MS, day0, scored.get(metric),
                           _line_thresholds(state, tier, metric, metrics))
        elif metric == "time_to_value_days":
            if state.contract_day is None or state.first_core_ms:
                continue
            day = _growing(state.contract_day, day0, scored.get(metric), _line_thresholds(state, tier, metric, metrics))
        elif metric == "nps_90d":
            day = _window_day(state.nps, 90, day0)
        else:  # the ticket metrics and CSAT
            day = _ticket_day(state, metric, day0)
        if day < best:
            if day <= soonest:
                return soonest
            best = day
    if plan.history and state.first_ms:
        day = -(-state.first_ms // DAY_MS) + 34  # the first day with `first_ms <= (day - 34) * DAY_MS`
        if day0 < day < best:
            best = day
    if plan.bounds and best > soonest:
        best = min(best, _usage_day(state, day0, plan.bounds))
    return best


def _usage_day(state: AccountState, day0: int, bounds: tuple[int, ...]) -> int:
    """Return the first day after `day0` a day with usage crosses one of `bounds` (days behind the as-of day)."""
    best = _NEVER_DAY
    offset = day0 - state.anchor_day
    for k, count in enumerate(state.events):
        if count:
            position = k + offset
            for bound in bounds:
                if bound > position:
                    day = day0 + bound - position
                    if day < best:
                        best = day
                    break
    return best


def _window_day(days: dict[int, list[int]], width: int, day0: int) -> int:
    """Return the first day after `day0` one of `days` enters or leaves a window of `width` days."""
    best = _NEVER_DAY
    for day in days:
        for edge in (day, day + width):
            if day0 < edge < best:
                best = edge
    return best


def _ticket_day(state: AccountState, metric: str, day0: int) -> int:
    """Return the first day after `day0` a ticket's opening or CSAT enters or leaves the metric's window."""
    best = _NEVER_DAY
    width = _TICKET_DAYS.get(metric, 28)
    for ticket in state.tickets.values():
        day = ticket.csat_day if metric == "csat_28d" else ticket.opened_day
        if day < 0 or (metric == "csat_28d" and not ticket.csat):
            continue
        for edge in (day, day + width):
            if day0 < edge < best:
                best = edge
    return best


def settled(life: Lifecycle, tier: TierPolicy, metrics: Metrics, score: float | None, warm: bool) -> bool:
    """Return whether evaluating again on the same metrics would decide nothing new, whatever is held back.

    A held-back input keeps a band or a line from moving although its metrics say it should: once the
    input is trusted again, the next evaluation moves it. Such an account, or one waiting out a timer, is
    not settled.
    """
    if life.pending():
        return False
    health = life.health
    if score is not None and health.band is not None and band_with_hysteresis(score, health.band,
                                                                               tier.bands) != health.band:
        return False
    if not warm:
        return True  # nothing but the band moves before the warm-up ends, and its end is an instant of its own
    for line in tier.warning_lines:
        rule = life.lines.get(line.name)
        firing = rule is not None and rule.status == RuleState.FIRING
        if rule is not None and not firing and rule.pending_since:
            return False  # left over from a resolve: the next evaluation clears it
        value, entered, exited = line_check(line, metrics)
        if value is not None and (exited if firing else entered):
            return False
    return True


def quiet_until_ms(state: AccountState, tier: TierPolicy, at_ms: int, warmup_ms: int, interval_ms: int,
                   metrics: Metrics, score: float | None, warm: bool) -> int:
    """Return the first tick instant after an evaluation at `at_ms` that can change anything (0: the next day's).

    `NEVER_MS`: only new input can. 0 also stands for "not worth knowing": the next day is as soon as
    `Engine.next_tick_ms` ticks an unchanged account anyway.
    """
    day0 = asof_day(at_ms)
    day = quiet_day(state, tier, day0, metrics)
    if day <= day0 + 1 or not settled(state.life, tier, metrics, score, warm):
        return 0
    due = NEVER_MS if day >= _NEVER_DAY else day * DAY_MS + 1
    warmup_end = state.first_ms + warmup_ms
    if at_ms < warmup_end < due:
        due = warmup_end
    return due if due == NEVER_MS else -(-due // interval_ms) * interval_ms


def catches_up(state: AccountState, at_ms: int) -> bool:
    """Return whether `catch_up` would roll the account forward: it is quiet, and `at_ms` is in its quiet span."""
    return not state.dirty and 0 < state.last_eval_ms < at_ms < state.quiet_until_ms


def catch_up(state: AccountState, at_ms: int) -> bool:
    """Roll a quiet account's windows forward to `at_ms`, as the evaluations it skipped would have; say if it did.

    The skipped evaluations would have changed nothing but the day the windows are anchored at, and that day
    decides how an event far behind it is counted (or a closed ticket forgotten). So before a new event
    meets a quiet account, the account is brought to its partition's stream time.
    """
    if not catches_up(state, at_ms):
        return False
    day = asof_day(at_ms)
    if day > state.anchor_day:
        advance(state, day)
    state.last_eval_ms = at_ms
    return True
