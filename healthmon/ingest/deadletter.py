"""Build dead-letter records: the raw bytes, where they came from, and why they were rejected.

A record must always fit in one Kafka message, whatever the size of what was rejected: the raw
payload and the key are cut to a bounded prefix, and the record keeps the payload's full size and
SHA-256 so that the original can still be identified (and matched against the input topic).
"""

from __future__ import annotations

import base64
import hashlib

import orjson

from healthmon.core.vocabulary import DEADLETTER_SCHEMA_VERSION
from schemas.deadletter import MAX_ERROR_CHARS, DeadLetterReason

__all__ = ["DEFAULT_MAX_RAW_BYTES", "MAX_RAW_BYTES_LIMIT", "dead_letter_record", "max_record_bytes"]

#: Default prefix of the raw payload (and of the key) kept in a dead letter.
DEFAULT_MAX_RAW_BYTES = 65_536
#: Highest allowed prefix: two base64 copies (raw and key) plus the rest stay well under 1 MB.
MAX_RAW_BYTES_LIMIT = 262_144
#: Room for everything but the two base64 fields: topic name, error text (a control character takes 6
#: bytes in JSON), numbers, JSON punctuation.
_FIXED_BYTES = 6 * MAX_ERROR_CHARS + 2_048


def max_record_bytes(max_raw_bytes: int) -> int:
    """Return an upper bound of the size of a dead-letter record built with `max_raw_bytes`."""
    base64_bytes = 4 * ((max_raw_bytes + 2) // 3)
    return 2 * base64_bytes + _FIXED_BYTES


def _cut_error(error: str) -> str:
    return error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS - 1] + "…"


def dead_letter_record(*, topic: str, partition: int, offset: int, reason: DeadLetterReason, error: str,
                       raw: bytes, key: bytes | None, received_at_ms: int, batch_index: int | None = None,
                       max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES) -> bytes:
    """Return the JSON bytes of a dead-letter record (validates against `schemas.DeadLetter`)."""
    return orjson.dumps({
        "schema_version": DEADLETTER_SCHEMA_VERSION,
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "batch_index": batch_index,
        "reason": reason.value,
        "error": _cut_error(error),
        "raw_base64": base64.b64encode(raw[:max_raw_bytes]).decode("ascii"),
        "raw_bytes": len(raw),
        "raw_sha256": hashlib.sha256(raw).hexdigest(),
        "raw_truncated": len(raw) > max_raw_bytes,
        "key_base64": base64.b64encode(key[:max_raw_bytes]).decode("ascii") if key is not None else None,
        "key_truncated": key is not None and len(key) > max_raw_bytes,
        "received_at": received_at_ms,
    })
