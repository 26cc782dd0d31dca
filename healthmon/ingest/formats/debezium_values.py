"""Decode a Debezium row's columns by their Kafka Connect schema: NUMERIC, DATE and timestamps.

With the JSON converter's schemas on (`schemas.enable=true`, the default), each column names its type:
- `org.apache.kafka.connect.data.Decimal` (NUMERIC and DECIMAL, `decimal.handling.mode=precise`, the
  default): the unscaled value's big-endian two's-complement bytes in base64, the scale in the schema's
  `parameters.scale`;
- `io.debezium.data.VariableScaleDecimal` (PostgreSQL NUMERIC without a precision): `{"scale", "value"}`,
  recognised with or without a schema;
- `io.debezium.time.Date` and Connect's `Date`: days since 1970-01-01 (left as is: `convert.to_date`
  reads a number as days);
- `io.debezium.time.Timestamp`, `MicroTimestamp`, `NanoTimestamp` and Connect's `Timestamp`: numbers
  since the epoch, made RFC 3339 text here so that a date or a time field reads them right.

Without schemas a base64 decimal cannot be read: its scale is only in the schema. Such a value is
`unmapped`, and the error says how to fix the connector (schemas on, or `decimal.handling.mode=string`,
whose numbers are plain text and read as they are).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["column_schemas", "decode_decimal", "decode_row"]

_DECIMAL = "org.apache.kafka.connect.data.Decimal"
#: timestamp logical types -> their unit in microseconds (None: nanoseconds)
_TIMESTAMPS = {"io.debezium.time.Timestamp": 1000, "org.apache.kafka.connect.data.Timestamp": 1000,
               "io.debezium.time.MicroTimestamp": 1, "io.debezium.time.NanoTimestamp": None}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def column_schemas(schema: Any, part: str | None) -> dict[str, dict[str, Any]]:
    """Return column name -> its schema, from a value schema (`part`: `after` or `before` of an envelope)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        return {}
    fields = schema["fields"]
    if part is not None:
        inner = next((f for f in fields if isinstance(f, dict) and f.get("field") == part), None)
        fields = inner.get("fields") if isinstance(inner, dict) else None
        if not isinstance(fields, list):
            return {}
    return {f["field"]: f for f in fields if isinstance(f, dict) and isinstance(f.get("field"), str)}


def decode_decimal(text: str, scale: int) -> Decimal:
    """Return the decimal of a Connect `Decimal`: base64 of the unscaled big-endian two's-complement integer."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"found {text!r}, not a base64 decimal") from None
    return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)


def decode_row(row: dict[str, Any], columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return `row` with its NUMERIC and timestamp columns decoded (values that do not decode stay as they are)."""
    out = dict(row)
    for name, value in row.items():
        if value is None:
            continue
        column = columns.get(name, {})
        logical = column.get("name")
        try:
            if isinstance(value, dict) and set(value) == {"scale", "value"}:
                out[name] = decode_decimal(value["value"], int(value["scale"]))
            elif logical == _DECIMAL and isinstance(value, str):
                out[name] = decode_decimal(value, int((column.get("parameters") or {}).get("scale", 0)))
            elif logical in _TIMESTAMPS and isinstance(value, int) and not isinstance(value, bool):
                unit = _TIMESTAMPS[logical]
                micros = value // 1000 if unit is None else value * unit
                out[name] = (_EPOCH + timedelta(microseconds=micros)).isoformat().replace("+00:00", "Z")
        except (ValueError, TypeError, OverflowError):
            continue  # the field's own conversion names what it found
    return out
