"""Dead-letter records: always small enough for one Kafka message, and still identify the whole payload."""

from __future__ import annotations

import base64
import hashlib

import jsonschema
import orjson
import pytest

from healthmon.ingest.deadletter import MAX_RAW_BYTES_LIMIT, dead_letter_record, max_record_bytes
from schemas.deadletter import MAX_ERROR_CHARS, DeadLetter, DeadLetterReason
from schemas.export import CONTRACTS, render

SCHEMA = jsonschema.Draft202012Validator(orjson.loads(render("dead-letter", CONTRACTS["dead-letter"])))


def _record(raw: bytes, key: bytes | None = b"acc-1", error: str = "message is too large",
            max_raw_bytes: int = 65_536) -> bytes:
    return dead_letter_record(topic="product-usage", partition=2, offset=7, reason=DeadLetterReason.TOO_LARGE,
                              error=error, raw=raw, key=key, received_at_ms=1_795_000_000_000,
                              max_raw_bytes=max_raw_bytes)


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 2 * 1024 * 1024])
def test_raw_payload_is_cut_to_a_prefix_with_its_full_size_and_sha256(size):
    raw = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    body = _record(raw)
    doc = orjson.loads(body)
    assert base64.b64decode(doc["raw_base64"]) == raw[:65_536]
    assert doc["raw_bytes"] == size
    assert doc["raw_sha256"] == hashlib.sha256(raw).hexdigest()
    assert doc["raw_truncated"] is (size > 65_536)
    assert len(body) <= max_record_bytes(65_536)
    DeadLetter.model_validate(doc)
    SCHEMA.validate(doc)


def test_a_huge_key_and_a_huge_error_are_cut_too():
    error = "status: unknown value '" + "\x01" * 1_000_000 + "'"
    body = _record(b"{}", key=b"k" * 3_000_000, error=error, max_raw_bytes=MAX_RAW_BYTES_LIMIT)
    doc = orjson.loads(body)
    assert doc["key_truncated"] is True and doc["raw_truncated"] is False
    assert base64.b64decode(doc["key_base64"]) == b"k" * MAX_RAW_BYTES_LIMIT
    assert len(doc["error"]) == MAX_ERROR_CHARS and doc["error"].endswith("…")
    assert len(body) <= max_record_bytes(MAX_RAW_BYTES_LIMIT) < 1_000_000
    DeadLetter.model_validate(doc)
    SCHEMA.validate(doc)


def test_a_null_key_stays_null():
    doc = orjson.loads(_record(b"{}", key=None))
    assert doc["key_base64"] is None and doc["key_truncated"] is False
    SCHEMA.validate(doc)
