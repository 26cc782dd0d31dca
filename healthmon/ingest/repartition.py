"""The repartition message: input events on their way to their account's partition.

An entry is one input message's events of one account: `{"kind": ..., "source": [topic, partition,
offset], "events": [...]}`, each event as `[batch index, event]`; `"replaces": true` marks later answers
that replace earlier ones (a Delighted `updated`), and kind `removal` carries one `{"account_id",
"reason"}`: an account its source removed (a Debezium delete or tombstone); kind `traits` carries one
`{"account_id", "fields", "occurred_at"}`: a partial profile (Segment `group` traits), merged on the account's
partition only, so that each account's traits have one writer. A repartition message is a
pack of the entries bound for one partition, `{"entries": [entry, ...]}`, and, from a worker that merges moved
events by event time, `"marks": [[topic, partition, event_time, caught_up], ...]`: how far each input partition
it owns has come, written after the events it moved (`healthmon.pipeline.moved_merge`); a bare entry (what releases
before packs wrote) is read as a pack of one. Whatever goes wrong with an entry later must be reported
at its source position, never at the internal topic's, or the dead letter loses the way back to the input.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from healthmon.ingest.formats.mapped import ProfilePatch
from schemas.events import EVENT_MODELS

__all__ = ["REMOVAL", "TRAITS", "Mark", "PackEntry", "Removal", "Repartitioned", "Source", "decode_pack",
           "decode_pack_marks", "decode_repartitioned", "encode_pack", "encode_repartitioned", "pack_entries",
           "repartition_source"]


class Source(NamedTuple):
    """A position in an input topic."""

    topic: str
    partition: int
    offset: int


class Repartitioned(NamedTuple):
    """A decoded repartition message: the input kind, its source position and its (batch index, event) pairs."""

    kind: str
    source: Source
    items: list[tuple[int | None, Any]]
    #: the events replace earlier events of their `event_id`
    replaces: bool = False


class Removal(NamedTuple):
    """An account its source removed, on its way to the account's partition."""

    account_id: str
    reason: str


#: the kind of a repartition message that carries a `Removal`
REMOVAL = "removal"
#: the kind of a repartition message that carries a `ProfilePatch`
TRAITS = "traits"


def encode_repartitioned(kind: str, source: Source, items: list[tuple[int | None, Any]],
                         replaces: bool = False) -> bytes:
    """Return the body of a repartition message carrying `items` (validated events, a `Removal` or a `ProfilePatch`)
    from `source`."""
    if kind == REMOVAL:
        return orjson.dumps({"kind": kind, "source": list(source), "events": [[i, list(r)] for i, r in items]})
    if kind == TRAITS:
        return orjson.dumps({"kind": kind, "source": list(source), "events": [
            [i, {"account_id": p.account_id, "fields": p.fields, "occurred_at": p.occurred_at}] for i, p in items]})
    doc: dict[str, Any] = {"kind": kind, "source": list(source),
                           "events": [[i, e.model_dump(mode="json")] for i, e in items]}
    if replaces:
        doc["replaces"] = True
    return orjson.dumps(doc)


#: an input partition's progress as its owner marks it: (topic, partition, event time, caught up)
Mark = tuple[str, int, int, bool]


def encode_pack(entries: list[bytes], marks: list[Mark] | None = None) -> bytes:
    """Return the body of a repartition message packing `entries` (each from `encode_repartitioned`), and `marks`."""
    if marks is None:
        return b'{"entries":[' + b",".join(entries) + b"]}"
    return b'{"entries":[' + b",".join(entries) + b'],"marks":' + orjson.dumps(marks) + b"}"


def _entry(doc: Any) -> Repartitioned:
    if doc["kind"] == REMOVAL:
        return Repartitioned(REMOVAL, Source(*doc["source"]), [(i, Removal(*r)) for i, r in doc["events"]])
    if doc["kind"] == TRAITS:
        return Repartitioned(TRAITS, Source(*doc["source"]), [
            (i, ProfilePatch(p["account_id"], p["fields"], p.get("occurred_at"))) for i, p in doc["events"]])
    model = EVENT_MODELS[doc["kind"]]
    return Repartitioned(doc["kind"], Source(*doc["source"]),
                         [(i, model.model_validate(e)) for i, e in doc["events"]], bool(doc.get("replaces")))


def decode_pack(value: bytes | None) -> list[Repartitioned]:
    """Decode a repartition message into its entries (a bare entry is a pack of one)."""
    return decode_pack_marks(value)[0]


def decode_pack_marks(value: bytes | None) -> tuple[list[Repartitioned], list[Mark]]:
    """Decode a repartition message into its entries and its marks (none: it carries no marks)."""
    doc = orjson.loads(value or b"{}")
    if isinstance(doc, dict) and "entries" in doc:
        marks = [(str(t), int(p), int(e), bool(c)) for t, p, e, c in doc.get("marks", ())]
        return [_entry(entry) for entry in doc["entries"]], marks
    return [_entry(doc)], []


class PackEntry(NamedTuple):
    """An entry of a repartition message as far as it could be read: where it came from and its raw bytes."""

    source: Source
    raw: bytes


def pack_entries(value: bytes | None) -> list[PackEntry] | None:
    """Return the source and raw bytes of each entry of a repartition message, or None if one names no source."""
    try:
        doc = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    docs = doc["entries"] if isinstance(doc, dict) and isinstance(doc.get("entries"), list) else [doc]
    out = []
    for entry in docs:
        raw = orjson.dumps(entry)
        source = repartition_source(raw)
        if source is None:
            return None
        out.append(PackEntry(source, raw))
    return out


def decode_repartitioned(value: bytes | None) -> Repartitioned:
    """Decode a repartition message written by `encode_repartitioned` (its events were validated then)."""
    return _entry(orjson.loads(value or b"{}"))


def repartition_source(value: bytes | None) -> Source | None:
    """Return the input position a repartition message's events came from, or None if it names none."""
    try:
        doc = orjson.loads(value or b"")
        topic, partition, offset = doc["source"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
        return None
    if not isinstance(topic, str) or type(partition) is not int or type(offset) is not int:
        return None
    return Source(topic, partition, offset)
