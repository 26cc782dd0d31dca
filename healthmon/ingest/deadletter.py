"""Build dead-letter records: the raw bytes, where they came from, and why they were rejected."""

from __future__ import annotations

import base64

import orjson

from schemas.deadletter import DeadLetterReason

__all__ = ["dead_letter_record"]


def dead_letter_record(*, topic: str, partition: int, offset: int, reason: DeadLetterReason, error: str,
                       raw: bytes, key: bytes | None, received_at_ms: int,
                       batch_index: int | None = None) -> bytes:
    """Return the JSON bytes of a dead-letter record (validates against `schemas.DeadLetter`)."""
    return orjson.dumps({
        "schema_version": 1,
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "batch_index": batch_index,
        "reason": reason.value,
        "error": error,
        "raw_base64": base64.b64encode(raw).decode("ascii"),
        "key_base64": base64.b64encode(key).decode("ascii") if key is not None else None,
        "received_at": received_at_ms,
    })
