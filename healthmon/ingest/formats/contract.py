"""Build contract events from mapped values, judged by the same definitions as the native path.

Usage, ticket and NPS events are the msgspec structs of `healthmon.ingest.fastdecode` (which tests hold
to the pydantic models of `schemas/events.py`), so a mapped event is the very object the native decoder
yields. Account profiles are the pydantic `AccountProfile`; a partial profile is checked field by field
against that model's own field definitions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any

import msgspec
from pydantic import TypeAdapter, ValidationError

from healthmon.core.vocabulary import InputKind
from healthmon.ingest.decode import describe_validation_error
from healthmon.ingest.fastdecode import FastNps, FastTicket, FastUsage
from healthmon.ingest.formats import convert
from schemas.deadletter import DeadLetterReason
from schemas.events import EVENT_MODELS, AccountProfile

__all__ = ["CONTRACT_FIELDS", "CONVERTERS", "REQUIRED_FIELDS", "Failure", "build_event", "build_profile",
           "check_patch"]

#: input kind -> its contract fields, in the model's order
CONTRACT_FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(model.model_fields) for kind, model in EVENT_MODELS.items()}
#: input kind -> the fields every event must have
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    kind: frozenset(name for name, info in model.model_fields.items() if info.is_required())
    for kind, model in EVENT_MODELS.items()}
_STRUCTS: dict[str, type[msgspec.Struct]] = {"usage": FastUsage, "ticket": FastTicket, "nps": FastNps}
_AT = re.compile(r" - at `\$\.(\w+)`")


class Failure(Exception):
    """A message or event that cannot become a contract event: its dead-letter reason and error text."""

    def __init__(self, reason: DeadLetterReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _word(value: Any) -> str:
    return convert.to_text(value).lower()


def _properties(value: Any) -> dict[str, Any] | None:
    if value is None or type(value) is dict:
        return value
    raise ValueError(f"found {convert.describe(value)}, not an object")


#: contract field -> the conversion of what its expression found (times take the input's unit separately)
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "event_id": convert.to_id, "ticket_id": convert.to_id, "account_id": convert.to_id, "user_id": convert.to_id,
    "feature": convert.to_text, "name": convert.to_text, "csm": convert.to_text,
    "status": _word, "priority": _word, "tier": _word,
    "score": convert.to_int, "csat": convert.to_int, "seats": convert.to_int, "arr": convert.to_float,
    "contract_start": convert.to_date, "renewal_date": convert.to_date, "properties": _properties,
}


def build_event(kind: InputKind, values: dict[str, Any], sources: Mapping[str, str], *, now_ms: int,
                max_future_skew_ms: int) -> Any:
    """Return the event of `kind` holding `values` (converted already), or raise `Failure`.

    `sources` names the expression each value came from, for the error text.
    """
    try:
        event: Any = msgspec.convert(values, _STRUCTS[kind])
    except msgspec.ValidationError as exc:
        text = str(exc)
        match = _AT.search(text)
        name = match.group(1) if match else ""
        reason = DeadLetterReason.UNKNOWN_ENUM if text.startswith("Invalid enum value") else \
            DeadLetterReason.SCHEMA_VIOLATION
        detail = _AT.sub("", text)
        if name in values and reason is DeadLetterReason.UNKNOWN_ENUM:
            detail = f"unknown value {values[name]!r}"
        raise Failure(reason, f"{name}: {detail}{_from(sources, name)}") from None
    if event.occurred_at > now_ms + max_future_skew_ms:
        raise Failure(DeadLetterReason.FUTURE_TIMESTAMP,
                      f"occurred_at: {(event.occurred_at - now_ms) / 1000:.0f} s in the future "
                      f"(limit {max_future_skew_ms // 1000} s){_from(sources, 'occurred_at')}")
    return event


def build_profile(values: dict[str, Any], sources: Mapping[str, str]) -> AccountProfile:
    """Return the account profile holding `values`, or raise `Failure`."""
    try:
        return AccountProfile.model_validate(values)
    except ValidationError as exc:
        reason, error = describe_validation_error(exc)
        raise Failure(reason, error + _from_all(sources, exc)) from None


def check_patch(values: dict[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    """Return the fields of a partial profile validated one by one as `AccountProfile` defines them."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        try:
            out[name] = _field_adapter(name).validate_python(value)
        except ValidationError as exc:
            reason, error = describe_validation_error(exc)
            raise Failure(reason, f"{name}: {error.removeprefix('(root): ')}{_from(sources, name)}") from None
    return out


@cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    info = AccountProfile.model_fields[name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[annotation, *info.metadata]  # type: ignore[valid-type]
    return TypeAdapter(annotation)


def _from(sources: Mapping[str, str], name: str) -> str:
    expr = sources.get(name)
    return f" (from `{expr}`)" if expr else ""


def _from_all(sources: Mapping[str, str], exc: ValidationError) -> str:
    named = [str(err["loc"][0]) for err in exc.errors() if err["loc"] and str(err["loc"][0]) in sources]
    return "".join(_from(sources, name) for name in dict.fromkeys(named))
