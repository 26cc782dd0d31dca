"""Typed models of the four input contracts.

`occurred_at` accepts RFC 3339 (with an offset) or epoch milliseconds and is held as epoch milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr, WithJsonSchema

__all__ = [
    "AccountProfile",
    "Event",
    "EVENT_MODELS",
    "EpochMillis",
    "NpsResponse",
    "SupportTicket",
    "UsageEvent",
    "parse_epoch_ms",
]

# 2001-09-09 .. 5138-11-16: rejects epoch *seconds* sent by mistake and nonsense values.
_MIN_EPOCH_MS = 1_000_000_000_000
_MAX_EPOCH_MS = 99_999_999_999_999
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_epoch_ms(value: Any) -> int:
    """Turn an RFC 3339 string or epoch milliseconds into epoch milliseconds."""
    if isinstance(value, bool):
        raise ValueError("must be an RFC 3339 timestamp or epoch milliseconds, not a boolean")
    if isinstance(value, int):
        if not _MIN_EPOCH_MS <= value <= _MAX_EPOCH_MS:
            raise ValueError("epoch milliseconds out of range (did you send seconds?)")
        return value
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
        # Integer arithmetic: float timestamps lose a millisecond for some instants.
        return (parsed - _EPOCH) // timedelta(milliseconds=1)
    raise ValueError("must be an RFC 3339 timestamp string or integer epoch milliseconds")


EpochMillis = Annotated[
    int,
    BeforeValidator(parse_epoch_ms),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time", "description": "RFC 3339 with offset"},
                {"type": "integer", "minimum": _MIN_EPOCH_MS, "maximum": _MAX_EPOCH_MS,
                 "description": "epoch milliseconds"},
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

    kind: ClassVar[str] = "usage"
    schema_name: ClassVar[str] = "product-usage"

    event_id: Id
    account_id: Id
    user_id: Id
    feature: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    occurred_at: EpochMillis
    properties: dict[str, Any] | None = None


class SupportTicket(_Contract):
    """One support-ticket lifecycle event."""

    kind: ClassVar[str] = "ticket"
    schema_name: ClassVar[str] = "support-ticket"

    event_id: Id
    ticket_id: Id
    account_id: Id
    status: Literal["opened", "updated", "closed", "reopened"]
    priority: Literal["low", "normal", "high", "urgent"]
    occurred_at: EpochMillis
    csat: Annotated[StrictInt, Field(ge=1, le=5)] | None = None


class NpsResponse(_Contract):
    """One NPS answer (0-10)."""

    kind: ClassVar[str] = "nps"
    schema_name: ClassVar[str] = "nps-response"

    event_id: Id
    account_id: Id
    user_id: Id
    score: Annotated[StrictInt, Field(ge=0, le=10)]
    occurred_at: EpochMillis


class AccountProfile(_Contract):
    """The profile of an account (compacted topic: the latest per account wins)."""

    kind: ClassVar[str] = "account"
    schema_name: ClassVar[str] = "account-profile"

    account_id: Id
    name: Annotated[StrictStr, Field(min_length=1, max_length=500)]
    tier: Literal["strategic", "key", "standard"]
    seats: Annotated[StrictInt, Field(ge=1, le=10_000_000)]
    arr: Annotated[float, Field(ge=0)]
    csm: Annotated[StrictStr, Field(max_length=200)]
    contract_start: date
    renewal_date: date
    updated_at: EpochMillis | None = None


Event = Union[UsageEvent, SupportTicket, NpsResponse, AccountProfile]

#: input kind -> model
EVENT_MODELS: dict[str, type[_Contract]] = {
    m.kind: m for m in (UsageEvent, SupportTicket, NpsResponse, AccountProfile)
}
