"""Typed models of the four input contracts.

`occurred_at` accepts RFC 3339 (with an offset) or epoch milliseconds and is held as epoch milliseconds;
either form must be representable (1970-01-01 to 5138-11-16). Both forms are checked here, once, so an event
that decodes also re-validates after its epoch-milliseconds round trip (repartition). The earliest time a
deployment accepts, `MIN_OCCURRED_AT_MS` by default (`HEALTHMON_MIN_OCCURRED_AT`), is the decoders' check
(`check_floor`): it is a setting, so that a 1990s archive can be replayed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema

from healthmon.core.vocabulary import InputKind, TicketPriority, TicketStatus, Tier

__all__ = [
    "AccountProfile",
    "Event",
    "EVENT_MODELS",
    "EpochMillis",
    "FLOOR_PHRASE",
    "MAX_OCCURRED_AT_MS",
    "MIN_OCCURRED_AT_MS",
    "NpsResponse",
    "SupportTicket",
    "UsageEvent",
    "check_floor",
    "parse_epoch_ms",
]

#: The earliest `occurred_at` accepted: 2000-01-01T00:00:00Z. Older instants are clock or SDK defaults (the
#: epoch, year 1) or epoch *seconds* sent by mistake, never real product usage.
MIN_OCCURRED_AT_MS = 946_684_800_000
#: The earliest instant representable at all: the epoch (a floor below it is refused by the settings).
EPOCH_MS = 0
#: The latest instant representable at all (5138-11-16); the future-skew check rejects far less.
MAX_OCCURRED_AT_MS = 99_999_999_999_999
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


#: The words of every refusal under the floor (a backtest counts its dead letters by them).
FLOOR_PHRASE = "the earliest time accepted"


def floor_text(min_ms: int) -> str:
    """Return the floor `min_ms` as the error texts name it (`2000-01-01T00:00:00Z`)."""
    return (_EPOCH + timedelta(milliseconds=min_ms)).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_floor(ms: int, min_ms: int, *, seconds_hint: str = " (did you send seconds?)") -> str | None:
    """Return why `ms` is refused under the floor `min_ms` (the text after `occurred_at: `), or None if it is not."""
    if ms >= min_ms:
        return None
    hint = seconds_hint if min_ms <= ms * 1000 <= MAX_OCCURRED_AT_MS else ""
    return f"before {floor_text(min_ms)}, {FLOOR_PHRASE}{hint}"


def _in_range(ms: int, value: Any) -> int:
    if ms < EPOCH_MS:
        raise ValueError("before 1970-01-01T00:00:00Z, the earliest time representable")
    if ms > MAX_OCCURRED_AT_MS:
        raise ValueError("after 5138-11-16, the latest time representable")
    return ms


def parse_epoch_ms(value: Any) -> int:
    """Turn an RFC 3339 string or epoch milliseconds into epoch milliseconds within the accepted range."""
    if isinstance(value, bool):
        raise ValueError("must be an RFC 3339 timestamp or epoch milliseconds, not a boolean")
    if isinstance(value, int):
        return _in_range(value, value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) < 19 or text[10] not in "Tt ":
            raise ValueError("must be an RFC 3339 date-time such as 2026-11-23T10:00:00Z")
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise ValueError(f"not an RFC 3339 date-time: {exc}") from None
        if parsed.tzinfo is None:
            raise ValueError("RFC 3339 date-time needs an offset (Z or +hh:mm)")
        try:
            # Integer arithmetic: float timestamps lose a millisecond for some instants.
            ms = (parsed - _EPOCH) // timedelta(milliseconds=1)
        except OverflowError:
            raise ValueError("before 1970-01-01T00:00:00Z, the earliest time representable") from None
        return _in_range(ms, value)
    raise ValueError("must be an RFC 3339 timestamp string or integer epoch milliseconds")


EpochMillis = Annotated[
    int,
    BeforeValidator(parse_epoch_ms),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time",
                 "description": "RFC 3339 with offset, not before 2000-01-01T00:00:00Z (HEALTHMON_MIN_OCCURRED_AT)"},
                {"type": "integer", "minimum": EPOCH_MS, "maximum": MAX_OCCURRED_AT_MS,
                 "description": "epoch milliseconds, not before 2000-01-01T00:00:00Z (HEALTHMON_MIN_OCCURRED_AT)"},
            ]
        }
    ),
]

Id = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class _Contract(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: ClassVar[str]
    schema_name: ClassVar[str]


class UsageEvent(_Contract):
    """One product-usage event: a user of an account used a feature."""

    kind: ClassVar[InputKind] = "usage"
    schema_name: ClassVar[str] = "product-usage"

    event_id: Id
    account_id: Id
    user_id: Id
    feature: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    occurred_at: EpochMillis
    properties: dict[str, Any] | None = None


class SupportTicket(_Contract):
    """One support-ticket lifecycle event."""

    kind: ClassVar[InputKind] = "ticket"
    schema_name: ClassVar[str] = "support-ticket"

    event_id: Id
    ticket_id: Id
    account_id: Id
    status: TicketStatus
    priority: TicketPriority
    occurred_at: EpochMillis
    csat: Annotated[StrictInt, Field(ge=1, le=5)] | None = None


class NpsResponse(_Contract):
    """One NPS answer (0-10)."""

    kind: ClassVar[InputKind] = "nps"
    schema_name: ClassVar[str] = "nps-response"

    event_id: Id
    account_id: Id
    user_id: Id
    score: Annotated[StrictInt, Field(ge=0, le=10)]
    occurred_at: EpochMillis


class AccountProfile(_Contract):
    """The profile of an account (compacted topic: the latest per account wins)."""

    kind: ClassVar[InputKind] = "account"
    schema_name: ClassVar[str] = "account-profile"

    account_id: Id
    name: Annotated[StrictStr, Field(min_length=1, max_length=500)]
    tier: Tier
    seats: Annotated[StrictInt, Field(ge=1, le=10_000_000)]
    arr: Annotated[float, Field(ge=0)]
    csm: Annotated[StrictStr, Field(max_length=200)]
    contract_start: date
    renewal_date: date
    updated_at: EpochMillis | None = None


Event = UsageEvent | SupportTicket | NpsResponse | AccountProfile

#: input kind -> model
EVENT_MODELS: dict[str, type[_Contract]] = {
    m.kind: m for m in (UsageEvent, SupportTicket, NpsResponse, AccountProfile)
}
