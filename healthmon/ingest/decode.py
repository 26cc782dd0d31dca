"""Decode one Kafka message into validated events, rejecting bad ones one by one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from healthmon.ingest.fastdecode import decode_fast
from schemas.deadletter import DeadLetterReason
from schemas.events import EVENT_MODELS, MIN_OCCURRED_AT_MS, check_floor

__all__ = ["Decoded", "MAX_BATCH_EVENTS", "Rejection", "decode_message", "describe_validation_error"]

#: A batch envelope may hold at most this many events; larger ones are rejected whole.
MAX_BATCH_EVENTS = 10_000

_ENUM_ERRORS = frozenset({"literal_error", "enum"})


@dataclass(slots=True)
class Rejection:
    """One rejected message (index None) or one rejected event of a batch."""

    index: int | None
    reason: DeadLetterReason
    error: str
    raw: bytes


@dataclass(slots=True)
class Decoded:
    """What one message yielded: (index, event) pairs and rejections."""

    events: list[tuple[int | None, Any]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    is_batch: bool = False


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def describe_validation_error(exc: ValidationError) -> tuple[DeadLetterReason, str]:
    """Return the dead-letter reason of a pydantic validation error and its text, every field by its path."""
    errors = exc.errors(include_url=False, include_context=True)
    reason = DeadLetterReason.SCHEMA_VIOLATION
    parts = []
    for err in errors:
        if err["type"] in _ENUM_ERRORS:
            reason = DeadLetterReason.UNKNOWN_ENUM
            given = err.get("input")
            parts.append(f"{_loc(err['loc'])}: unknown value {given!r} ({err['msg'].lower()})")
        elif err["type"] == "missing":
            parts.append(f"{_loc(err['loc'])}: required field is missing")
        else:
            parts.append(f"{_loc(err['loc'])}: {err['msg'].removeprefix('Value error, ')}")
    return reason, "; ".join(parts)


def _validate(kind: str, item: Any, index: int | None, raw: bytes, now_ms: int, skew_ms: int, min_ms: int,
              out: Decoded) -> None:
    if not isinstance(item, dict):
        out.rejections.append(Rejection(index, DeadLetterReason.SCHEMA_VIOLATION,
                                        f"event must be a JSON object, got {type(item).__name__}", raw))
        return
    try:
        event = EVENT_MODELS[kind].model_validate(item)
    except ValidationError as exc:
        reason, error = describe_validation_error(exc)
        out.rejections.append(Rejection(index, reason, error, raw))
        return
    for name in ("occurred_at", "updated_at"):
        at = getattr(event, name, None)
        # an integer under the floor may be epoch seconds; a text time says its own unit
        problem = None if at is None else check_floor(at, min_ms, seconds_hint=(
            " (did you send seconds?)" if type(item.get(name)) is int else ""))
        if problem is not None:
            out.rejections.append(Rejection(index, DeadLetterReason.SCHEMA_VIOLATION, f"{name}: {problem}", raw))
            return
    occurred_at = getattr(event, "occurred_at", None)
    if occurred_at is not None and occurred_at > now_ms + skew_ms:
        out.rejections.append(Rejection(
            index, DeadLetterReason.FUTURE_TIMESTAMP,
            f"occurred_at: {(occurred_at - now_ms) / 1000:.0f} s in the future (limit {skew_ms // 1000} s)", raw))
        return
    out.events.append((index, event))


def decode_message(kind: str, raw: bytes | None, *, now_ms: int, max_bytes: int,
                   max_future_skew_ms: int, min_occurred_at_ms: int = MIN_OCCURRED_AT_MS, fast: bool = True) -> Decoded:
    """Decode a message of input `kind` holding one event or a batch envelope.

    An event time before `min_occurred_at_ms` (`HEALTHMON_MIN_OCCURRED_AT`) is a `schema_violation`.

    A message whose events are all valid is decoded by msgspec (`healthmon.ingest.fastdecode`); any
    other, or with `fast` off, by orjson and the pydantic models, which name every rejection.
    """
    out = Decoded()
    if raw is None or raw == b"":
        out.rejections.append(Rejection(None, DeadLetterReason.NOT_JSON, "empty message", raw or b""))
        return out
    if len(raw) > max_bytes:
        out.rejections.append(Rejection(None, DeadLetterReason.TOO_LARGE,
                                        f"message is {len(raw)} bytes, limit {max_bytes}", raw))
        return out
    if fast:
        decoded = decode_fast(kind, raw, now_ms=now_ms, max_future_skew_ms=max_future_skew_ms,
                              max_batch_events=MAX_BATCH_EVENTS, min_occurred_at_ms=min_occurred_at_ms)
        if decoded is not None:
            out.events, out.is_batch = decoded
            return out
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        out.rejections.append(Rejection(None, DeadLetterReason.NOT_JSON, f"not JSON: {exc}", raw))
        return out

    items: Any
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and "events" in doc and len(doc) <= 2 and not (doc.keys() - {"events", "sent_at"}):
        items = doc["events"]
        if not isinstance(items, list):
            out.rejections.append(Rejection(None, DeadLetterReason.BAD_ENVELOPE,
                                            "events: must be a JSON array", raw))
            return out
    elif isinstance(doc, dict):
        _validate(kind, doc, None, raw, now_ms, max_future_skew_ms, min_occurred_at_ms, out)
        return out
    else:
        out.rejections.append(Rejection(None, DeadLetterReason.BAD_ENVELOPE,
                                        f"message must be a JSON object or array, got {type(doc).__name__}", raw))
        return out

    out.is_batch = True
    if not items:
        out.rejections.append(Rejection(None, DeadLetterReason.BAD_ENVELOPE, "batch holds no events", raw))
        return out
    if len(items) > MAX_BATCH_EVENTS:
        out.rejections.append(Rejection(None, DeadLetterReason.BAD_ENVELOPE,
                                        f"batch holds {len(items)} events, limit {MAX_BATCH_EVENTS}", raw))
        return out
    for index, item in enumerate(items):
        before = len(out.rejections)
        _validate(kind, item, index, b"", now_ms, max_future_skew_ms, min_occurred_at_ms, out)
        if len(out.rejections) > before:
            # Keep the bytes of the one bad event, not the whole batch.
            out.rejections[-1].raw = orjson.dumps(item)
    return out
