"""`debezium`: change events of an accounts table, with or without the schema wrapper, or flattened.

- The envelope (`{"before", "after", "source", "op", "ts_ms"}`, inside `{"schema", "payload"}` when the
  JSON converter's schemas are on): `c`, `r` (snapshot) and `u` upsert the profile in `after`; `d`
  removes the account of `before`; `t` and `m` are ignored.
- The `ExtractNewRecordState` form (the row itself): a row is an upsert, and a row with
  `__deleted: "true"` (`delete.handling.mode=rewrite`) or `__op: "d"` a removal.
- A tombstone (no value) removes the account its key names (the key is read with the `account_id`
  expression, so it works when that column is the primary key); a key that names none is ignored, since
  the delete before it removed the account already.
- Expressions read the row. Columns are read by name by default (`account_id`, `name`, `tier`, ...);
  NUMERIC and DATE decode as debezium_values.py says; `updated_at` is the change's `source.ts_ms`.
- `links` of the file name this account for other inputs (`links: {zendesk_org: zendesk_org_id}`); a
  removal unlinks the keys its `before` row holds.
"""

from __future__ import annotations

from typing import Any

import orjson

from healthmon.ingest.formats.contract import Failure
from healthmon.ingest.formats.debezium_values import column_schemas, decode_row
from healthmon.ingest.formats.mapped import AccountRemoval, Ignored, Mapped
from healthmon.ingest.formats.native import same_names
from healthmon.ingest.formats.preset import Preset, derived
from healthmon.ingest.formats.reader import Reader
from schemas.deadletter import DeadLetterReason

__all__ = ["DebeziumPreset"]

_UPSERTS = ("c", "r", "u")


class DebeziumPreset(Preset):
    """Debezium's change events (any relational connector, JSON converter)."""

    name = "debezium"
    reference = "https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-events"
    tables = {"account": {**same_names("account"),
                          "updated_at": derived("the change's `source.ts_ms` (`__source_ts_ms` when flattened)")}}

    def empty(self, key: bytes | None, reader: Reader, out: Mapped) -> bool:
        account = None
        try:
            doc = orjson.loads(key) if key else None
        except orjson.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and "payload" in doc and "schema" in doc:
            doc = doc["payload"]
        if isinstance(doc, dict):
            try:
                account = reader.get("account_id", doc, required=False)
            except Failure:
                account = None
        if account is None:
            out.add_ignored(Ignored(None, "debezium tombstone whose key names no account"))
        else:
            out.add_removal(AccountRemoval(account, "tombstone"))
        return True

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        schema = None
        if "payload" in item and "schema" in item:
            schema, item = item["schema"], item["payload"]
            if not isinstance(item, dict):
                raise Failure(DeadLetterReason.BAD_ENVELOPE, "payload: must be a JSON object")
        if "op" in item and ("after" in item or "before" in item):
            self._change(index, item, column_schemas(schema, "after"), reader, out)
            return
        row = decode_row(item, column_schemas(schema, None))
        if row.get("__deleted") in ("true", True) or row.get("__op") == "d":
            self._remove(row, row.get("__source_ts_ms"), reader, out)
        else:
            self._upsert(index, row, row.get("__source_ts_ms"), reader, out)

    def _change(self, index: int | None, change: dict[str, Any], columns: dict[str, Any], reader: Reader,
                out: Mapped) -> None:
        op = change["op"]
        source = change.get("source")
        at = source.get("ts_ms") if isinstance(source, dict) else None
        if op in _UPSERTS:
            row = change.get("after")
            if not isinstance(row, dict):
                raise Failure(DeadLetterReason.BAD_ENVELOPE, f"after: op {op!r} needs the row, found none")
            self._upsert(index, decode_row(row, columns), at, reader, out)
        elif op == "d":
            row = change.get("before")
            if not isinstance(row, dict):
                out.add_ignored(Ignored(index, "debezium delete without its before row"))
                return
            self._remove(decode_row(row, columns), at, reader, out)
        elif op == "t" or op == "m":
            out.add_ignored(Ignored(index, f"debezium {'truncate' if op == 't' else 'message'} event"))
        else:
            raise Failure(DeadLetterReason.UNKNOWN_ENUM, f"op: unknown Debezium operation {op!r}")

    def _upsert(self, index: int | None, row: dict[str, Any], at: Any, reader: Reader, out: Mapped) -> None:
        extra = {"updated_at": at} if at is not None and not reader.has("updated_at") else None
        reader.profile(index, row, out, extra=extra)

    def _remove(self, row: dict[str, Any], at: Any, reader: Reader, out: Mapped) -> None:
        account = reader.get("account_id", row, required=False)
        if account is None:
            raise Failure(DeadLetterReason.UNKNOWN_ACCOUNT, f"account_id: `{reader.sources['account_id']}` found "
                                                            "nothing in the deleted row")
        # The change's time places the delete among the events in a backtest (the worker takes it on arrival).
        when = at if isinstance(at, int) and not isinstance(at, bool) else None
        out.add_removal(AccountRemoval(account, "deleted", when))
        reader.add_links(row, None, out)
