"""Map one Kafka message of an input into events, links, profile patches and rejections.

`InputMapper` is built once per input (its preset, its compiled field table) and maps each message of
its topic: the value's bytes, its key and its headers. A native input without `fields` or `values` is
decoded exactly as before (`healthmon.ingest.decode_message`), so nothing changes for today's shapes.
"""

from __future__ import annotations

import orjson

from healthmon.ingest.decode import Rejection, decode_message
from healthmon.ingest.formats.contract import Failure
from healthmon.ingest.formats.mapped import Ignored, Mapped
from healthmon.ingest.formats.preset import Headers, Preset
from healthmon.ingest.formats.presets import PRESETS
from healthmon.ingest.formats.reader import Reader
from healthmon.ingest.formats.spec import NATIVE, InputSpec
from schemas.deadletter import DeadLetterReason
from schemas.events import MIN_OCCURRED_AT_MS

__all__ = ["InputMapper"]


class InputMapper:
    """Maps the messages of one input (see the module docstring)."""

    def __init__(self, spec: InputSpec) -> None:
        self.spec = spec
        self.preset: Preset = PRESETS[spec.format]
        self.reader = Reader(spec, self.preset)
        #: healthmon's own shape, read by the native decoder
        self.native = spec.format == NATIVE and not spec.fields and not spec.values and spec.account_link is None
        #: the preset's hot path for this input, if it has one
        self.fast = self.preset.fast(self.reader)

    def map(self, value: bytes | None, key: bytes | None = None, headers: Headers | None = None, *, now_ms: int,
            max_bytes: int, max_future_skew_ms: int, min_occurred_at_ms: int = MIN_OCCURRED_AT_MS) -> Mapped:
        """Return what one message yields: every item either mapped or rejected, never an exception."""
        fast = self.fast
        # first: the hot path's messages need none of the checks below (it declines the empty and the large)
        if fast is not None and value and len(value) <= max_bytes:
            mapped = fast(value, now_ms, max_future_skew_ms, min_occurred_at_ms)
            if mapped is not None:
                return mapped
        if self.native:
            return self._native(value, now_ms=now_ms, max_bytes=max_bytes, max_future_skew_ms=max_future_skew_ms,
                                min_ms=min_occurred_at_ms)
        self.reader.min_ms = min_occurred_at_ms
        if value is None or value == b"":
            out = Mapped()
            if not self.preset.empty(key, self.reader, out):
                out.rejections.append(Rejection(None, DeadLetterReason.NOT_JSON, "empty message", value or b""))
            return out
        if len(value) > max_bytes:
            return Mapped(rejections=[Rejection(None, DeadLetterReason.TOO_LARGE,
                                                f"message is {len(value)} bytes, limit {max_bytes}", value)])
        out = Mapped()
        reader = self.reader
        reader.now_ms, reader.max_future_skew_ms = now_ms, max_future_skew_ms
        try:
            items = self.preset.items(value, headers)
        except Failure as failure:
            out.rejections.append(Rejection(None, failure.reason, failure.message, value))
            return out
        out.is_batch = items[0][0] is not None
        map_item = self.preset.map_item
        for index, item in items:
            try:
                if type(item) is not dict:
                    raise Failure(DeadLetterReason.SCHEMA_VIOLATION,
                                  f"event must be a JSON object, got {type(item).__name__}")
                map_item(index, item, reader, out)
            except Failure as failure:
                out.rejections.append(Rejection(index, failure.reason, failure.message, _raw(value, index, item)))
            except Exception as exc:  # noqa: BLE001 - a bug of a preset loses one item, never the message
                error = f"mapping failed: {type(exc).__name__}: {exc}"
                out.rejections.append(Rejection(index, DeadLetterReason.PROCESSING_ERROR, error,
                                                _raw(value, index, item)))
        return out

    def _native(self, value: bytes | None, *, now_ms: int, max_bytes: int, max_future_skew_ms: int,
                min_ms: int) -> Mapped:
        if self.spec.kind == "account" and value is None:
            # A compaction tombstone of the native accounts topic: ignored, as the worker always did.
            return Mapped(ignored=[Ignored(None, "accounts tombstone")])
        decoded = decode_message(self.spec.kind, value, now_ms=now_ms, max_bytes=max_bytes,
                                 max_future_skew_ms=max_future_skew_ms, min_occurred_at_ms=min_ms)
        return Mapped(events=decoded.events, rejections=decoded.rejections, is_batch=decoded.is_batch)


def _raw(value: bytes, index: int | None, item: object) -> bytes:
    """Return the bytes a dead letter keeps: the whole message, or the one item of a batch."""
    if index is None:
        return value
    try:
        return orjson.dumps(item)
    except TypeError:
        return value
