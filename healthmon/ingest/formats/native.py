"""`healthmon`: today's own shapes, read by name; with `fields` or `values` in the file, through the mapper.

Without `fields` and `values` a native input never reaches this preset: `InputMapper` hands it to the
native decoder unchanged. With them, each event of a message (one, a JSON array, or `{"events": [...]}`)
is read through the table below with the file's expressions over it.
"""

from __future__ import annotations

from typing import Any

from healthmon.ingest.formats.contract import CONTRACT_FIELDS
from healthmon.ingest.formats.mapped import Mapped
from healthmon.ingest.formats.preset import Default, Headers, Item, Preset, json_items, load_json
from healthmon.ingest.formats.reader import Reader

__all__ = ["NativePreset", "same_names"]


def same_names(kind: str) -> dict[str, Default]:
    """Return the table that reads every contract field of `kind` from the field of the same name."""
    return {name: Default(name) for name in CONTRACT_FIELDS[kind]}


class NativePreset(Preset):
    """healthmon's own JSON shapes (`schemas/json/`)."""

    name = "healthmon"
    reference = "schemas/json/ (healthmon's own contracts)"
    tables = {"usage": same_names("usage"), "ticket": same_names("ticket"), "nps": same_names("nps"),
              "account": same_names("account")}

    def items(self, value: bytes, headers: Headers | None) -> list[Item]:
        doc = load_json(value)
        if isinstance(doc, dict) and "events" in doc and not (doc.keys() - {"events", "sent_at"}):
            return json_items(doc, batch_key="events")
        return json_items(doc, batch_key=None)

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        if reader.kind == "account":
            reader.profile(index, item, out)
            return
        values = reader.read(item, reader.fields, {})
        reader.emit(index, item, values, out)
