"""Account profiles as Debezium snapshot rows of a CRM's `accounts` table, with the schema wrapper.

The columns are those of deploy/inputs.example.yaml: `id`, `name`, `plan` (enterprise, growth, starter:
the file maps them to tiers), `seats`, `arr` (NUMERIC(12,2), base64 as Debezium sends it by default),
`owner_email` (the CSM), `contract_start` and `renewal_date` (DATE: days since 1970-01-01) and
`zendesk_org_id`, which links the account to its Zendesk organization.
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Any

from ..accounts import Account
from ..records import Record
from .message import Message, Shaping, json_bytes, zendesk_org_id

__all__ = ["PLANS", "account_row", "base64_decimal"]

#: tier -> the CRM's plan (the inverse of the example file's `values`)
PLANS = {"strategic": "enterprise", "key": "growth", "standard": "starter"}
_COLUMNS: list[dict[str, Any]] = [
    {"type": "string", "optional": False, "field": "id"},
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
_SCHEMA = {"type": "struct", "optional": False, "name": "crm.public.accounts.Envelope", "fields": [
    {"type": "struct", "fields": _COLUMNS, "optional": True, "name": "crm.public.accounts.Value", "field": "before"},
    {"type": "struct", "fields": _COLUMNS, "optional": True, "name": "crm.public.accounts.Value", "field": "after"},
    {"type": "struct", "optional": False, "name": "io.debezium.connector.postgresql.Source", "field": "source",
     "fields": [{"type": "string", "optional": False, "field": "version"},
                {"type": "int64", "optional": False, "field": "ts_ms"}]},
    {"type": "string", "optional": False, "field": "op"},
    {"type": "int64", "optional": True, "field": "ts_ms"}]}
_KEY_SCHEMA = {"type": "struct", "optional": False, "name": "crm.public.accounts.Key",
               "fields": [{"type": "string", "optional": False, "field": "id"}]}
_EPOCH = date(1970, 1, 1)


def base64_decimal(value: float | str, scale: int) -> str:
    """Return a number as Debezium sends a NUMERIC by default: base64 of its unscaled two's-complement integer."""
    unscaled = int(Decimal(str(value)).scaleb(scale))
    size = max(1, (unscaled.bit_length() + 8) // 8)
    return base64.b64encode(unscaled.to_bytes(size, "big", signed=True)).decode()


def _days(text: str) -> int:
    return (date.fromisoformat(text) - _EPOCH).days


def account_row(shaping: Shaping, record: Record, account: Account) -> list[Message]:
    """Return an account profile as a Debezium snapshot (`op: r`) of its CRM row."""
    profile = record.value
    row = {"id": profile["account_id"], "name": profile["name"], "plan": PLANS[profile["tier"]],
           "seats": profile["seats"], "arr": base64_decimal(profile["arr"], 2), "owner_email": profile["csm"],
           "contract_start": _days(profile["contract_start"]), "renewal_date": _days(profile["renewal_date"]),
           "zendesk_org_id": zendesk_org_id(account)}
    source = {"version": "2.7.0.Final", "connector": "postgresql", "name": "crm", "ts_ms": record.occurred_at,
              "snapshot": "true", "db": "crm", "schema": "public", "table": "accounts"}
    value = {"schema": _SCHEMA, "payload": {"before": None, "after": row, "source": source, "op": "r",
                                            "ts_ms": record.occurred_at}}
    key = {"schema": _KEY_SCHEMA, "payload": {"id": profile["account_id"]}}
    return [Message(shaping.topic("debezium", "account"), json_bytes(key), json_bytes(value), "account",
                    record.occurred_at)]
