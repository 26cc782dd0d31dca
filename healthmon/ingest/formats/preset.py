"""What a preset is: the field table it reads by default, and its rules for one message of its source.

A preset declares, for each input kind it reads, the JMESPath expression of each contract field (the
table the README shows), or that a field is derived by its rules (a Zendesk status from the status
change). The inputs file's `fields` replace entries of that table or fill the ones it leaves to the
user. `map_item` applies the source's rules to one item of a message through a `Reader`, which reads
every field through the effective table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from healthmon.core.vocabulary import InputKind
from healthmon.ingest.decode import MAX_BATCH_EVENTS
from healthmon.ingest.formats.contract import Failure
from schemas.deadletter import DeadLetterReason

if TYPE_CHECKING:
    from healthmon.ingest.formats.mapped import Mapped
    from healthmon.ingest.formats.reader import Reader
    from healthmon.ingest.formats.segment_fast import FastMap

__all__ = ["Default", "Headers", "Item", "Preset", "derived", "json_items", "load_json", "unread"]

#: Kafka message headers as the clients give them: (name, value) pairs
Headers = Sequence[tuple[str, bytes | None]]
#: One item of a message: its batch index (None for a message of one item) and its JSON object
Item = tuple[int | None, Any]


@dataclass(frozen=True)
class Default:
    """A contract field as a preset reads it: a JMESPath expression, or derived by its rules, or not at all."""

    expr: str | None
    #: how a derived field is derived, or what to know about the expression (shown in the README table)
    note: str = ""
    #: the preset's rules give the value (`expr` is None); `fields` in the file may read it instead
    derived: bool = False


def derived(note: str) -> Default:
    """Return a field the preset's rules derive (see `note`)."""
    return Default(None, note, derived=True)


def unread(note: str) -> Default:
    """Return a field the preset does not read, and why (`fields` in the file may read it)."""
    return Default(None, note)


class Preset:
    """A source's shape. Subclasses set the class attributes and implement `map_item`."""

    #: the `format` word of the inputs file
    name: ClassVar[str]
    #: where the shape is published (the README names it)
    reference: ClassVar[str] = ""
    #: the unit of numeric times when the file gives no `time_unit`
    time_unit: ClassVar[str] = "ms"
    #: input kind -> contract field -> how it is read by default
    tables: ClassVar[dict[InputKind, dict[str, Default]]]
    #: input kind -> fields with no default that the file must give (besides those the contract requires)
    needs: ClassVar[dict[InputKind, tuple[str, ...]]] = {}

    def items(self, value: bytes, headers: Headers | None) -> list[Item]:
        """Return the items of a message (one, or a batch's); raise `Failure` when it is not that shape."""
        return json_items(load_json(value), batch_key=None)

    def fast(self, reader: Reader) -> FastMap | None:
        """Return the hot path of the input `reader` reads, if this preset has one for it (None: no)."""
        return None

    def empty(self, key: bytes | None, reader: Reader, out: Mapped) -> bool:
        """Handle a message without a value (a tombstone); return False to dead-letter it as empty."""
        return False

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        """Map one item into `out`, or raise `Failure` (it is dead-lettered with that reason)."""
        raise NotImplementedError


def load_json(value: bytes) -> Any:
    """Return the JSON document of a message, or raise `Failure` (`not_json`)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise Failure(DeadLetterReason.NOT_JSON, f"not JSON: {exc}") from None


def json_items(doc: Any, batch_key: str | None) -> list[Item]:
    """Return the items of a document: an object is one item; a list, or the list under `batch_key`, a batch."""
    if isinstance(doc, dict):
        if batch_key is None or batch_key not in doc:
            return [(None, doc)]
        batch = doc[batch_key]
        if not isinstance(batch, list):
            raise Failure(DeadLetterReason.BAD_ENVELOPE, f"{batch_key}: must be a JSON array")
    elif isinstance(doc, list):
        batch = doc
    else:
        raise Failure(DeadLetterReason.BAD_ENVELOPE,
                      f"message must be a JSON object or array, got {type(doc).__name__}")
    if not batch:
        raise Failure(DeadLetterReason.BAD_ENVELOPE, "batch holds no events")
    if len(batch) > MAX_BATCH_EVENTS:
        raise Failure(DeadLetterReason.BAD_ENVELOPE, f"batch holds {len(batch)} events, limit {MAX_BATCH_EVENTS}")
    return list(enumerate(batch))
