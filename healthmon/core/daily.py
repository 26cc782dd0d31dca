"""The end of an account's event-time days: a history point for each day that ended (see `history`)."""

from __future__ import annotations

from healthmon.core.history import DayPoint, add_points, last_day
from healthmon.core.measures import compute_metrics
from healthmon.core.policy import TierPolicy
from healthmon.core.scoring import Scorecard, score
from healthmon.core.state import DAY_MS, AccountState

__all__ = ["closed_day", "close_days", "costliest", "in_quiet_span"]


def costliest(card: Scorecard, n: int = 3) -> tuple[str, ...]:
    """Return the names of the `n` measures that cost the score the most points (none that cost nothing)."""
    lost = [(m.weight * (100.0 - m.score), m.name) for m in card.measures if m.score is not None and m.score < 100]
    lost.sort(key=lambda item: (-item[0], item[1]))
    return tuple(name for _, name in lost[:n])


def closed_day(state: AccountState) -> int:
    """Return the newest day the account's history holds (-1: none), as `close_days` keeps it."""
    if state.closed_day is None:
        day = last_day(state.history)
        state.closed_day = -1 if day is None else day
    return state.closed_day


def close_days(state: AccountState, ended: int, tier: TierPolicy, max_days: int) -> list[tuple[int, Scorecard]]:
    """Add a point for each day up to `ended` that has none; return those days with their scorecards.

    Called before anything of a later day is applied, so the state still is the state at the end of those
    days: by the first evaluation of a later day, or by an event of a later day. Days before the account's
    first event, or older than its windows (the state cannot go back to them), or than `max_days`, get none.

    A quiet account's days that end within its quiet span (after its latest evaluation, before
    `quiet_until_ms`: `healthmon.core.quiet`, no measure, band or line can move there) all have the
    scorecard of the first of them, which is scored once.
    """
    start = max(closed_day(state) + 1, state.first_ms // DAY_MS, state.anchor_day, ended - max_days + 1)
    closed: list[tuple[int, Scorecard]] = []
    points: list[DayPoint] = []
    quiet_card: Scorecard | None = None
    top: tuple[str, ...] = ()
    for day in range(start, ended + 1):
        end_ms = (day + 1) * DAY_MS
        if quiet_card is not None and end_ms < state.quiet_until_ms:
            card = quiet_card
        else:
            card = score(compute_metrics(state, end_ms), tier)
            top = costliest(card)
            quiet_card = card if in_quiet_span(state, end_ms) else None
        points.append(DayPoint(day, card.score, card.band, top))
        closed.append((day, card))
    state.history = add_points(state.history, points, max_days)
    state.closed_day = max(ended, closed_day(state))
    return closed


def in_quiet_span(state: AccountState, at_ms: int) -> bool:
    """Return whether `at_ms` lies in the account's quiet span: unchanged input since an evaluation before it,
    and before the first instant at which a measure, a band or a line can move."""
    return not state.dirty and 0 < state.last_eval_ms <= at_ms < state.quiet_until_ms
