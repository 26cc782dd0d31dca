"""`mapping`: no preset at all; every required contract field comes from the file's `fields`."""

from __future__ import annotations

from healthmon.ingest.formats.mapped import AccountRemoval, Mapped
from healthmon.ingest.formats.native import NativePreset
from healthmon.ingest.formats.reader import Reader

__all__ = ["MappingPreset"]


class MappingPreset(NativePreset):
    """Any JSON shape: one object per message, a JSON array, or `{"events": [...]}`, read by `fields` alone."""

    name = "mapping"
    reference = "your own JSON: every field from `fields`"
    tables = {"usage": {}, "ticket": {}, "nps": {}, "account": {}}

    def empty(self, key: bytes | None, reader: Reader, out: Mapped) -> bool:
        # On a compacted accounts topic a tombstone says the record of its key is gone.
        if reader.kind != "account" or not key:
            return False
        out.add_removal(AccountRemoval(key.decode("utf-8", "replace"), "tombstone"))
        return True
