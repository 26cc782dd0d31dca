"""Day-bucket arithmetic: moving the state's anchor day forward and reading windows as of a day."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Final

from healthmon.core.state import (
    ACTIVE_DAYS,
    ACTIVE_MASK,
    CORE_MASK,
    CORE_SHIFT,
    DAY_MS,
    NPS_DAYS,
    TICKET_DAYS,
    AccountState,
)

__all__ = ["USER_MASKS", "advance", "asof_day", "count_users", "day_of", "shifted_events", "shifted_bits", "prune"]

#: A user counts as daily, weekly and monthly active, as a core-feature user (28 days), and as active in
#: each of the four previous weeks, when its bits meet the matching mask (in this order).
USER_MASKS: Final = (1, 0x7F, 0xFFFFFFF, CORE_MASK << CORE_SHIFT, 0x3F80, 0x1FC000, 0xFE00000, 0x7F0000000)


def day_of(ms: int) -> int:
    """Return the UTC day (days since the epoch) of an epoch-ms instant."""
    return ms // DAY_MS


def asof_day(at_ms: int) -> int:
    """Return the last day an evaluation at `at_ms` covers: it sees events strictly before `at_ms`."""
    return (at_ms - 1) // DAY_MS


def shifted_bits(bits: int, offset: int) -> tuple[int, int]:
    """Split a user's bits into (activity, core) re-anchored `offset` days later."""
    active = bits & ACTIVE_MASK
    core = (bits >> CORE_SHIFT) & CORE_MASK
    if offset > 0:
        active = (active << offset) & ACTIVE_MASK
        core = (core << offset) & CORE_MASK
    elif offset < 0:
        active >>= -offset
        core >>= -offset
    return active, core


def count_users(users: Iterable[int]) -> list[int]:
    """Return how many of the users' bit sets meet each of `USER_MASKS`."""
    dau = wau = mau = core = w1 = w2 = w3 = w4 = 0
    for bits in users:
        # One pass, no calls: this loop is most of an evaluation's cost.
        if bits & 1:
            dau += 1
        if bits & 0x7F:
            wau += 1
        if bits & 0xFFFFFFF:
            mau += 1
        if bits >> CORE_SHIFT:
            core += 1
        if bits & 0x7FFFFFF80:
            if bits & 0x3F80:
                w1 += 1
            if bits & 0x1FC000:
                w2 += 1
            if bits & 0xFE00000:
                w3 += 1
            if bits & 0x7F0000000:
                w4 += 1
    return [dau, wau, mau, core, w1, w2, w3, w4]


def shifted_events(events: list[int], offset: int) -> list[int]:
    """Return the daily event counts re-anchored `offset` days later (index 0 = the new anchor)."""
    if offset == 0:
        return events
    if offset > 0:
        return ([0] * min(offset, ACTIVE_DAYS) + events)[:ACTIVE_DAYS]
    return (events[-offset:] + [0] * ACTIVE_DAYS)[:ACTIVE_DAYS]


def advance(state: AccountState, day: int) -> None:
    """Move the anchor forward to `day`, dropping buckets that fall out of every window."""
    offset = day - state.anchor_day
    if offset <= 0:
        return
    state.anchor_day = day
    state.events = shifted_events(state.events, offset)
    state.user_counts = None
    users = state.users
    if offset >= ACTIVE_DAYS:
        users.clear()
    else:
        kept: list[int] = []
        words = iter(users.pairs())
        for key in words:
            bits = next(words)
            # `shifted_bits`, inlined: this runs for every user of every account once a day.
            active = ((bits & ACTIVE_MASK) << offset) & ACTIVE_MASK
            if active:  # else inactive for 35 days: the user is in no window any more
                kept += (key, active | ((((bits >> CORE_SHIFT) & CORE_MASK) << offset) & CORE_MASK) << CORE_SHIFT)
        users.replace(array("Q", kept))
    prune(state, day)


def prune(state: AccountState, day: int) -> None:
    """Forget closed tickets and NPS days that no window as of `day` can see."""
    if state.nps:
        oldest = day - NPS_DAYS + 1
        for d in [d for d in state.nps if d < oldest]:
            del state.nps[d]
    if state.tickets:
        horizon_ms = (day - TICKET_DAYS + 1) * DAY_MS
        for key in [k for k, t in state.tickets.items() if not t.is_open and t.last_ms < horizon_ms]:
            del state.tickets[key]
