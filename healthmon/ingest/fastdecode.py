"""The hot path of decoding: msgspec decodes and validates a message of usage, tickets or NPS in one pass.

`decode_fast` either returns exactly what the detailed path (`decode.decode_message`: orjson, then the
pydantic models of `schemas.events`) would return for the message, or None, and then the caller runs
the detailed path. It declines whatever it is not sure about: any event that fails validation, a
future timestamp, an empty or oversized batch, account profiles (rare, and pydantic's lax date and
number parsing is theirs alone). So every rejection, with its reason and error text, still comes from
the detailed path. The structs mirror the pydantic models field for field (tests/ingest hold them to it);
the models stay the one definition the JSON Schemas are generated from.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

import msgspec

from healthmon.core.vocabulary import InputKind, TicketPriority, TicketStatus
from schemas.events import EPOCH_MS, MAX_OCCURRED_AT_MS, MIN_OCCURRED_AT_MS, parse_epoch_ms

__all__ = ["FAST_KINDS", "FastNps", "FastTicket", "FastUsage", "datetime_ms", "decode_fast", "epoch_ms",
           "may_round_apart"]

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class _FastEvent(msgspec.Struct):
    """An event decoded by msgspec; `occurred_at` is epoch milliseconds once `decode_fast` returns it.

    msgspec parses an RFC 3339 `occurred_at` into a `datetime` in C while it decodes.
    """

    kind: ClassVar[InputKind]

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        """Return the fields as the pydantic model's `model_dump` does (same names, same order)."""
        return {name: getattr(self, name) for name in self.__struct_fields__}


class FastUsage(_FastEvent):
    """`schemas.events.UsageEvent`, decoded by msgspec."""

    kind: ClassVar[InputKind] = "usage"

    event_id: Id
    account_id: Id
    user_id: Id
    feature: Id
    occurred_at: datetime | int
    properties: dict[str, Any] | None = None


class FastTicket(_FastEvent):
    """`schemas.events.SupportTicket`, decoded by msgspec."""

    kind: ClassVar[InputKind] = "ticket"

    event_id: Id
    ticket_id: Id
    account_id: Id
    status: TicketStatus
    priority: TicketPriority
    occurred_at: datetime | int
    csat: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None


class FastNps(_FastEvent):
    """`schemas.events.NpsResponse`, decoded by msgspec."""

    kind: ClassVar[InputKind] = "nps"

    event_id: Id
    account_id: Id
    user_id: Id
    score: Annotated[int, msgspec.Meta(ge=0, le=10)]
    occurred_at: datetime | int


class _Envelopes(msgspec.Struct, forbid_unknown_fields=True):
    events: list[Any]
    sent_at: Any = None


def _decoders(model: type[_FastEvent]) -> tuple[msgspec.json.Decoder[Any], ...]:
    many: Any = list[model]  # type: ignore[valid-type]  # a type built at run time, one per model
    envelope = msgspec.defstruct(f"{model.__name__}Envelope", [("events", many), ("sent_at", Any, None)],
                                 bases=(_Envelopes,), forbid_unknown_fields=True)
    return msgspec.json.Decoder(model), msgspec.json.Decoder(many), msgspec.json.Decoder(envelope)


#: input kind -> (single event, JSON array, {"events": [...]}) decoders
_DECODERS: dict[str, tuple[msgspec.json.Decoder[Any], ...]] = {
    model.kind: _decoders(model) for model in (FastUsage, FastTicket, FastNps)}
FAST_KINDS = frozenset(_DECODERS)

# The common timestamp shapes, `2026-11-23T10:00:00Z` and `2026-11-23T10:00:00.123Z`: the minute is
# parsed once (by `parse_epoch_ms`, so every check is its own) and cached; seconds and milliseconds added.
_COMMON = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}):([0-5]\d)(?:\.(\d{3}))?Z", re.ASCII)
_MINUTES: dict[str, int] = {}
_MINUTES_MAX = 65_536
_ASCII = frozenset("0123456789")
_SIXTY = frozenset("012345")


def epoch_ms(value: str | int) -> int | None:
    """Return `value` as epoch ms as `parse_epoch_ms` would, or None where it would refuse it.

    The deployment's floor (`HEALTHMON_MIN_OCCURRED_AT`) is the caller's check, not this one's.
    """
    if type(value) is int:
        return value if EPOCH_MS <= value <= MAX_OCCURRED_AT_MS else None
    assert isinstance(value, str)
    # Most times fall in a minute seen before: read seconds and milliseconds by position, with the same
    # checks as `_COMMON` (a cached minute text matched it once); anything else goes the regex way.
    size = len(value)
    if (size == 24 and value[19] == "." and value[23] == "Z" and value[20] in _ASCII and value[21] in _ASCII
            and value[22] in _ASCII) or (size == 20 and value[19] == "Z"):
        minute = _MINUTES.get(value[:16])
        if minute is not None and value[16] == ":" and value[17] in _SIXTY and value[18] in _ASCII:
            ms = minute + int(value[17:19]) * 1000 + (int(value[20:23]) if size == 24 else 0)
            return ms if ms <= MAX_OCCURRED_AT_MS else None
    match = _COMMON.fullmatch(value)
    if match is None:
        try:
            return parse_epoch_ms(value)
        except ValueError:
            return None
    minute_text, seconds, millis = match.groups()
    minute = _MINUTES.get(minute_text)
    if minute is None:
        try:
            minute = parse_epoch_ms(minute_text + ":00Z")
        except ValueError:
            return None
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        _MINUTES[minute_text] = minute
    ms = minute + int(seconds) * 1000 + (int(millis) if millis else 0)
    return ms if ms <= MAX_OCCURRED_AT_MS else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# msgspec rounds a fraction of more than 6 digits to the microsecond, where `parse_epoch_ms` truncates it;
# the two read a different millisecond only when digits 4-6 are 999 and the rest round up.
_CARRY_HINT = re.compile(rb"999[5-9]")
_CARRY = re.compile(rb"\.\d{3}999[5-9]")


def may_round_apart(raw: bytes) -> bool:
    """Return whether a time in `raw` may read another millisecond in msgspec than in `parse_epoch_ms`."""
    return _CARRY_HINT.search(raw) is not None and _CARRY.search(raw) is not None


def datetime_ms(value: datetime) -> int | None:
    """Return a datetime msgspec decoded as `parse_epoch_ms` would read its text, or None where it would refuse it.

    The caller declines the message first where `may_round_apart` says so.
    """
    if value.tzinfo is None:
        return None
    ms = (value - _EPOCH) // _MS
    return ms if EPOCH_MS <= ms <= MAX_OCCURRED_AT_MS else None


def decode_fast(kind: str, raw: bytes, *, now_ms: int, max_future_skew_ms: int, max_batch_events: int,
                min_occurred_at_ms: int = MIN_OCCURRED_AT_MS) -> tuple[list[tuple[int | None, Any]], bool] | None:
    """Return ((index, event) pairs, whether a batch) when every event of the message is valid, else None."""
    decoders = _DECODERS.get(kind)
    if decoders is None:
        return None
    start = raw[:1]
    if start in b" \t\r\n":
        stripped = raw.lstrip(b" \t\r\n")
        start = stripped[:1]
    try:
        if start == b"{":
            if b'"events"' in raw:
                items = decoders[2].decode(raw).events
                batch = True
            else:
                items = [decoders[0].decode(raw)]
                batch = False
        elif start == b"[":
            items = decoders[1].decode(raw)
            batch = True
        else:
            return None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if batch and not 0 < len(items) <= max_batch_events:
        return None
    if may_round_apart(raw):
        return None
    # what `parse_epoch_ms` accepts (the epoch to MAX_OCCURRED_AT_MS), the floor and the future skew at once
    earliest = max(EPOCH_MS, min_occurred_at_ms)
    latest = min(now_ms + max_future_skew_ms, MAX_OCCURRED_AT_MS)
    for event in items:
        at = event.occurred_at
        if type(at) is not int:
            if at.tzinfo is None:  # no offset: the models refuse it
                return None
            at = (at - _EPOCH) // _MS  # integer arithmetic, as `parse_epoch_ms` does
        if not earliest <= at <= latest:
            return None
        event.occurred_at = at
    if batch:
        return list(enumerate(items)), True
    return [(None, items[0])], False
