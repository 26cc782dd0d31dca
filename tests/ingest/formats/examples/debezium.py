"""Debezium change events of an accounts table, in the shapes of Debezium's published examples.

Sources: the PostgreSQL connector's change event values, "create" and "delete" events
(https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events), with the
`customers` table's columns replaced by an accounts table's; the Decimal and Date column schemas of
https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-data-types
(`decimal.handling.mode=precise`: base64 of the unscaled value, the scale in `parameters`); and
`ExtractNewRecordState` (https://debezium.io/documentation/reference/stable/transformations/event-flattening.html)
with `delete.handling.mode=rewrite` (`__deleted`).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

__all__ = ["COLUMNS", "ENVELOPE_CREATE", "ENVELOPE_DELETE", "FLAT_ROW", "KEY", "NO_SCHEMA_UPDATE", "ROW",
           "base64_decimal"]


def base64_decimal(value: str, scale: int) -> str:
    """Return a decimal as Debezium sends it in precise mode: base64 of the unscaled two's-complement integer."""
    unscaled = int(Decimal(value).scaleb(scale))
    size = max(1, (unscaled.bit_length() + 8) // 8)
    return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()


COLUMNS: list[dict[str, Any]] = [
    {"type": "int32", "optional": False, "default": 0, "field": "id"},
    {"type": "string", "optional": False, "field": "name"},
    {"type": "string", "optional": False, "field": "plan"},
    {"type": "int32", "optional": False, "field": "seats"},
    {"type": "bytes", "optional": False, "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
     "parameters": {"scale": "2", "connect.decimal.precision": "12"}, "field": "arr"},
    {"type": "string", "optional": True, "field": "owner_email"},
    {"type": "int32", "optional": False, "name": "io.debezium.time.Date", "version": 1, "field": "contract_start"},
    {"type": "int32", "optional": False, "name": "io.debezium.time.Date", "version": 1, "field": "renewal_date"},
    {"type": "int64", "optional": True, "field": "zendesk_org_id"},
]
_SOURCE_SCHEMA = {"type": "struct", "fields": [{"type": "string", "optional": False, "field": "version"},
                                              {"type": "int64", "optional": False, "field": "ts_ms"}],
                  "optional": False, "name": "io.debezium.connector.postgresql.Source", "field": "source"}
_ENVELOPE_SCHEMA = {
    "type": "struct",
    "fields": [
        {"type": "struct", "fields": COLUMNS, "optional": True, "name": "crm.public.accounts.Value",
         "field": "before"},
        {"type": "struct", "fields": COLUMNS, "optional": True, "name": "crm.public.accounts.Value",
         "field": "after"},
        _SOURCE_SCHEMA,
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"},
    ],
    "optional": False,
    "name": "crm.public.accounts.Envelope",
}

#: 2025-01-06 and 2026-01-06 as days since 1970-01-01 (io.debezium.time.Date)
ROW: dict[str, Any] = {"id": 1004, "name": "Initech", "plan": "enterprise", "seats": 329,
                       "arr": base64_decimal("1234567.89", 2), "owner_email": "annek@noanswer.org",
                       "contract_start": 20094, "renewal_date": 20459, "zendesk_org_id": 8447346622462}
_SOURCE = {"version": "2.5.4.Final", "connector": "postgresql", "name": "crm", "ts_ms": 1736150400000,
           "snapshot": "false", "db": "postgres", "schema": "public", "table": "accounts", "txId": 555,
           "lsn": 24023128, "xmin": None}

ENVELOPE_CREATE: dict[str, Any] = {
    "schema": _ENVELOPE_SCHEMA,
    "payload": {"before": None, "after": ROW, "source": _SOURCE, "op": "c", "ts_ms": 1736150400123},
}
ENVELOPE_DELETE: dict[str, Any] = {
    "schema": _ENVELOPE_SCHEMA,
    "payload": {"before": ROW, "after": None, "source": {**_SOURCE, "ts_ms": 1736236800000}, "op": "d",
                "ts_ms": 1736236800123},
}
#: `schemas.enable=false` and `decimal.handling.mode=string`: no wrapper, NUMERIC as text
NO_SCHEMA_UPDATE: dict[str, Any] = {
    "before": None,
    "after": {**ROW, "arr": "1250000.00", "seats": 340},
    "source": {**_SOURCE, "ts_ms": 1736323200000},
    "op": "u",
    "ts_ms": 1736323200123,
}
#: ExtractNewRecordState of the create above (schemas off, add.fields=source.ts_ms)
FLAT_ROW: dict[str, Any] = {**ROW, "arr": "1234567.89", "__deleted": "false", "__source_ts_ms": 1736150400000}
#: the message key of the row (schemas on)
KEY: dict[str, Any] = {"schema": {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"}],
                                  "optional": False, "name": "crm.public.accounts.Key"},
                       "payload": {"id": 1004}}
