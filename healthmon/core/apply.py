"""Fold one accepted event into an account's state (dedupe and lateness are decided by the engine)."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from typing import Protocol

from healthmon.core.state import (
    ACTIVE_DAYS,
    CORE_DAYS,
    CORE_SHIFT,
    DAY_MS,
    FINGERPRINT,
    AccountState,
    Ticket,
    hash_id,
)
from healthmon.core.vocabulary import TICKET_PRIORITIES, Tier
from healthmon.core.windows import USER_MASKS, advance

__all__ = ["FINGERPRINT", "MAX_ANSWERS", "PRIORITIES", "apply_nps", "apply_profile", "apply_ticket", "apply_usage",
           "cap_tickets", "fingerprint", "has_seen", "kept_answer", "remember", "replace_nps"]

#: priority name -> code (low 0, normal 1, high 2, urgent 3); codes >= 2 are "high or urgent".
PRIORITIES: dict[str, int] = {name: code for code, name in enumerate(TICKET_PRIORITIES)}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_PACK_FINGERPRINT = struct.Struct("<I").pack
#: NPS answers kept per account for a later answer to replace (the oldest day's forgotten first)
MAX_ANSWERS = 256


class Profile(Protocol):
    """The fields of an account profile the state keeps (`schemas.events.AccountProfile` has them)."""

    @property
    def name(self) -> str: ...
    @property
    def tier(self) -> Tier: ...
    @property
    def seats(self) -> int: ...
    @property
    def csm(self) -> str | None: ...
    @property
    def contract_start(self) -> date: ...


def fingerprint(event_id: str) -> bytes:
    """Return the dedupe fingerprint of an event id: its CRC-32, packed as `FINGERPRINT` bytes."""
    return _PACK_FINGERPRINT(zlib.crc32(event_id.encode()))


def has_seen(seen: bytearray, fingerprint: bytes) -> bool:
    """Return whether `fingerprint` is one of the packed fingerprints in `seen` (at a 4-byte boundary)."""
    at = seen.find(fingerprint)
    while at >= 0:
        if not at % FINGERPRINT:
            return True
        at = seen.find(fingerprint, at + 1)
    return False


def remember(seen: bytearray, fingerprint: bytes, capacity: int) -> None:
    """Add a fingerprint to the bounded dedupe memory, forgetting the oldest beyond `capacity`."""
    excess = len(seen) + FINGERPRINT - capacity * FINGERPRINT
    if excess > 0:
        del seen[:excess]
    seen.extend(fingerprint)


def apply_usage(state: AccountState, occurred_at: int, user_id: str, is_core: bool) -> None:
    """Count one product-usage event on its own day."""
    day = occurred_at // DAY_MS
    if day > state.anchor_day:
        advance(state, day)
    age = state.anchor_day - day
    if occurred_at > state.last_activity_ms:
        state.last_activity_ms = occurred_at
    if is_core and (not state.first_core_ms or occurred_at < state.first_core_ms):
        state.first_core_ms = occurred_at
    if not state.active_days or day < state.first_activity_day:
        state.active_days += 1  # a day before every active day so far
        state.first_activity_day = day
    elif age < ACTIVE_DAYS and not state.events[age]:
        # A day the window holds with no usage yet. (A day older than the window cannot be told
        # from one already counted; such an event, 35 days behind the account, is not counted.)
        state.active_days += 1
    if age >= ACTIVE_DAYS:
        return  # older than every window: only the clocks above can use it
    state.events[age] += 1
    key = hash_id(user_id)
    bit = 1 << age
    if is_core and age < CORE_DAYS:
        bit |= bit << CORE_SHIFT
    old = state.users.merge(key, bit)
    new = old | bit
    if new != old:
        counts = state.user_counts
        if counts is not None:
            for i, mask in enumerate(USER_MASKS):
                if new & mask and not old & mask:
                    counts[i] += 1


def apply_ticket(state: AccountState, occurred_at: int, ticket_id: str, status: str, priority: str,
                 csat: int | None) -> None:
    """Track a ticket's status, priority, opening day and CSAT; the latest event time wins."""
    key = hash_id(ticket_id)
    day = occurred_at // DAY_MS
    ticket = state.tickets.get(key)
    if ticket is None:
        ticket = state.tickets[key] = Ticket(occurred_at, 1, PRIORITIES[priority], -1, 0, -1)
        latest = True
    else:
        latest = occurred_at >= ticket.last_ms
    if status == "opened" and (ticket.opened_day < 0 or day < ticket.opened_day):
        ticket.opened_day = day
    if latest:
        ticket.last_ms = occurred_at
        ticket.priority = PRIORITIES[priority]
        if status != "updated":
            ticket.is_open = 0 if status == "closed" else 1
    if csat is not None and (ticket.csat_day < 0 or day >= ticket.csat_day):
        ticket.csat = csat
        ticket.csat_day = day


def apply_nps(state: AccountState, occurred_at: int, score: int, answer: bytes | None = None) -> None:
    """Count one NPS answer on its day as promoter (9-10), passive (7-8) or detractor (0-6).

    With `answer` (its event id's fingerprint) the answer is kept, so that a later answer can replace it.
    """
    day = occurred_at // DAY_MS
    counts = state.nps.get(day)
    if counts is None:
        counts = state.nps[day] = [0, 0, 0]
    category = 0 if score >= 9 else 1 if score >= 7 else 2
    counts[category] += 1
    if answer is not None:
        answers = state.answers
        if answers is None:
            answers = state.answers = {}
        answers[int.from_bytes(answer, "little")] = [day, category]
        if len(answers) > MAX_ANSWERS:
            del answers[min(answers, key=lambda fp: answers[fp][0])]  # the oldest day's goes first


def kept_answer(state: AccountState, answer: bytes) -> bool:
    """Return whether the NPS answer of fingerprint `answer` is kept (a later answer can replace it)."""
    return state.answers is not None and int.from_bytes(answer, "little") in state.answers


def replace_nps(state: AccountState, occurred_at: int, score: int, answer: bytes) -> bool:
    """Replace the kept answer `answer` by `score`; return False when no such answer is kept (nothing changed)."""
    kept = state.answers.get(int.from_bytes(answer, "little")) if state.answers else None
    if kept is None:
        return False
    day, category = kept
    counts = state.nps.get(day)
    if counts is not None and counts[category] > 0:
        counts[category] -= 1
        if not any(counts):
            del state.nps[day]
    apply_nps(state, occurred_at, score, answer)
    return True


def apply_profile(state: AccountState, profile: Profile) -> bool:
    """Take the account's profile; return whether anything changed."""
    contract_day = profile.contract_start.toordinal() - _EPOCH_ORDINAL
    new = (profile.name, profile.tier, profile.seats, profile.csm or None, contract_day)
    old = (state.name, state.tier, state.seats, state.csm, state.contract_day)
    if new == old:
        return False
    state.name, state.tier, state.seats, state.csm, state.contract_day = new
    return True


def cap_tickets(state: AccountState, max_tickets: int) -> None:
    """Keep at most `max_tickets` tickets: drop the oldest closed ones first, then the oldest open ones."""
    excess = len(state.tickets) - max_tickets
    if excess <= 0:
        return
    ranked = sorted(state.tickets.items(), key=lambda kv: (kv[1].is_open, kv[1].last_ms, kv[0]))
    for key, _ in ranked[:excess]:
        del state.tickets[key]
