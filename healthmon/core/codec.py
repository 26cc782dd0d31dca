"""Compact binary serialization of `AccountState` (one table value per account)."""

from __future__ import annotations

import struct

import orjson

from healthmon.core.state import ACTIVE_DAYS, DAY_MS, FINGERPRINT, AccountState, Lifecycle, Ticket, shared
from healthmon.core.users import UserTable
from healthmon.core.vocabulary import EVENT_KINDS

__all__ = ["FORMAT_VERSION", "StateFormatError", "state_from_bytes", "state_progress", "state_size_bytes",
           "state_to_bytes"]

#: Bumped whenever the layout changes; `state_from_bytes` refuses other versions.
FORMAT_VERSION = 2
#: The layout before the score history was kept (read, never written).
_FORMAT_V1 = 1

# Layout: version byte, then four length-prefixed sections:
#   meta    orjson list: profile, clocks, anchor, lifecycle, NPS days, positions, input clocks, then (once
#           the account has usage) active days and the first one's distance behind the anchor; a state
#           written before a trailing item was added still loads
#   users   n x (u64 user hash, u64 activity|core bits)
#   events  daily counts as u32, trailing zero days left out
#   tickets n x (u64 ticket hash, i64 last_ms, u8 open << 2 | priority, u16 opened_day + 1, u8 csat,
#           u16 csat_day + 1); days are since the epoch, 0 stands for "none" (-1 in memory)
#   seen    u32 fingerprints, oldest first
#   history the score history as `healthmon.core.history` encodes it (format 2 on; format 1 has none)
_HEADER_V1 = struct.Struct("<BHIBHH")  # version, meta length, users, event days, tickets, seen
_HEADER = struct.Struct("<BHIBHHH")  # the same, then the history's length
_TICKET = struct.Struct("<QqBHBH")
#: Inputs with a clock of their own, saved as the distance behind `clock_ms` (mostly 0 or small).
_INPUT_KINDS = EVENT_KINDS  # their order is part of the format


class StateFormatError(ValueError):
    """The bytes are not a state written by this version of `state_to_bytes`."""


def state_to_bytes(state: AccountState) -> bytes:
    """Serialize an account state to compact bytes."""
    meta = orjson.dumps([
        state.account_id, state.name, state.tier, state.seats, state.csm, state.contract_day,
        state.clock_ms, state.first_ms, state.last_activity_ms, state.first_core_ms, state.last_eval_ms,
        state.anchor_day, state.life.to_list(), int(state.dirty),
        [[d, *c] for d, c in sorted(state.nps.items())],
        sorted(state.positions.items()),
        [state.clock_ms - state.input_clocks[k] if k in state.input_clocks else None for k in _INPUT_KINDS],
        # the rhythm, once there is one: active days, and how far its first one lies behind the anchor
        *((state.active_days, state.anchor_day - state.first_activity_day) if state.active_days or state.answers
          else ()),
        # replaceable NPS answers, only for an account that has some (native inputs never do)
        *(([[fp, *a] for fp, a in sorted(state.answers.items())],) if state.answers else ()),
    ])
    events = state.events
    n_days = ACTIVE_DAYS
    while n_days and not events[n_days - 1]:
        n_days -= 1
    users = state.users
    tickets = b"".join(_TICKET.pack(k, t.last_ms, t.is_open << 2 | t.priority, t.opened_day + 1, t.csat,
                                    t.csat_day + 1)
                       for k, t in state.tickets.items())
    seen = state.seen
    return b"".join((
        _HEADER.pack(FORMAT_VERSION, len(meta), len(users), n_days, len(state.tickets), len(seen) // FINGERPRINT,
                     len(state.history)),
        meta,
        users.to_bytes(),  # already packed as u64 pairs, little-endian
        struct.pack(f"<{n_days}I", *events[:n_days]),
        tickets,
        seen,  # already packed as u32 little-endian
        state.history,
    ))


def state_from_bytes(raw: bytes) -> AccountState:
    """Rebuild an account state from `state_to_bytes` output."""
    if not raw or raw[0] not in (FORMAT_VERSION, _FORMAT_V1):
        raise StateFormatError(f"unknown state format {raw[:1]!r} (expected version {FORMAT_VERSION})")
    try:
        n_history = 0
        if raw[0] == _FORMAT_V1:
            _, meta_len, n_users, n_days, n_tickets, n_seen = _HEADER_V1.unpack_from(raw, 0)
            pos = _HEADER_V1.size
        else:
            _, meta_len, n_users, n_days, n_tickets, n_seen, n_history = _HEADER.unpack_from(raw, 0)
            pos = _HEADER.size
        meta = orjson.loads(raw[pos:pos + meta_len])
        pos += meta_len
        state = AccountState(meta[0])
        (state.name, state.tier, state.seats, state.csm, state.contract_day, state.clock_ms, state.first_ms,
         state.last_activity_ms, state.first_core_ms, state.last_eval_ms, state.anchor_day) = meta[1:12]
        state.tier, state.csm = shared(state.tier), shared(state.csm)  # a few words each held by many accounts
        state.life = Lifecycle.from_list(meta[12])
        state.dirty = bool(meta[13])
        state.nps = {d: c for d, *c in meta[14]}
        state.positions = {shared(k): v for k, v in meta[15]} if len(meta) > 15 else {}
        if len(meta) > 16:
            state.input_clocks = {k: state.clock_ms - d for k, d in zip(_INPUT_KINDS, meta[16]) if d is not None}
        elif state.clock_ms:  # saved before lateness was judged per input: the account's clock, as then
            state.input_clocks = dict.fromkeys(_INPUT_KINDS, state.clock_ms)
        if len(meta) > 17:
            state.active_days, state.first_activity_day = meta[17], state.anchor_day - meta[18]
        if len(meta) > 19:
            state.answers = {fp: [day, category] for fp, day, category in meta[19]}
        if pos + 16 * n_users > len(raw):
            raise ValueError(f"{n_users} users announced, {(len(raw) - pos) // 16} present")
        state.users = UserTable.from_bytes(memoryview(raw)[pos:pos + 16 * n_users])
        pos += 16 * n_users
        days = struct.unpack_from(f"<{n_days}I", raw, pos)
        pos += 4 * n_days
        state.events = [*days, *([0] * (ACTIVE_DAYS - n_days))]
        if len(meta) <= 17 and state.last_activity_ms:
            # Saved before the rhythm was kept: the active days its window still shows (at least the
            # latest one), and its first event of any kind standing for its first activity.
            state.active_days = max(1, sum(1 for n in days if n))
            state.first_activity_day = (state.first_ms or state.last_activity_ms) // DAY_MS
        for _ in range(n_tickets):
            key, last_ms, flags, opened_day, csat, csat_day = _TICKET.unpack_from(raw, pos)
            state.tickets[key] = Ticket(last_ms, flags >> 2, flags & 3, opened_day - 1, csat, csat_day - 1)
            pos += _TICKET.size
        end = pos + FINGERPRINT * n_seen
        if end > len(raw):
            raise ValueError(f"{n_seen} dedupe fingerprints announced, {(len(raw) - pos) // FINGERPRINT} present")
        state.seen = bytearray(raw[pos:end])
        pos = end
        if pos + n_history > len(raw):
            raise ValueError(f"{n_history} bytes of score history announced, {len(raw) - pos} present")
        state.history = bytes(raw[pos:pos + n_history])
        pos += n_history
    except (struct.error, orjson.JSONDecodeError, ValueError, TypeError, IndexError) as exc:
        raise StateFormatError(f"corrupt state: {exc}") from None
    if pos != len(raw):
        raise StateFormatError(f"corrupt state: {len(raw) - pos} trailing bytes")
    return state


def state_progress(raw: bytes) -> tuple[int, int, int]:
    """Return a saved state's `clock_ms`, `last_eval_ms` and input progress (`saved_view.ViewVersion.progress`).

    Reads its meta only: recovery compares every changelog record with the one it holds.
    """
    if not raw or raw[0] not in (FORMAT_VERSION, _FORMAT_V1):
        raise StateFormatError(f"unknown state format {raw[:1]!r} (expected version {FORMAT_VERSION})")
    header = _HEADER_V1 if raw[0] == _FORMAT_V1 else _HEADER
    try:
        meta_len = header.unpack_from(raw, 0)[1]
        meta = orjson.loads(raw[header.size:header.size + meta_len])
        positions = meta[15] if len(meta) > 15 else []
        return int(meta[6]), int(meta[10]), sum(int(offset) + 1 for _, offset in positions)
    except (struct.error, orjson.JSONDecodeError, ValueError, TypeError, IndexError) as exc:
        raise StateFormatError(f"corrupt state: {exc}") from None


def state_size_bytes(state: AccountState) -> int:
    """Return the serialized size of an account state in bytes."""
    return len(state_to_bytes(state))
