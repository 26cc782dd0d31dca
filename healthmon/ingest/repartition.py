"""The repartition message: one input message's events of one account, on their way to its partition.

A repartition message's body is `{"kind": ..., "source": [topic, partition, offset], "events": [...]}`,
each event as `[batch index, event]`; `"replaces": true` marks later answers that replace earlier ones (a
Delighted `updated`), and kind `removal` carries one `{"account_id", "reason"}`: an account its source
removed (a Debezium delete or tombstone). Whatever goes wrong with it later must be reported at the source
position, never at the internal topic's, or the dead letter loses the way back to the input.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from schemas.events import EVENT_MODELS

__all__ = ["REMOVAL", "Removal", "Repartitioned", "Source", "decode_repartitioned", "encode_repartitioned",
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


def encode_repartitioned(kind: str, source: Source, items: list[tuple[int | None, Any]],
                         replaces: bool = False) -> bytes:
    """Return the body of a repartition message carrying `items` (validated events, or a `Removal`) from `source`."""
    if kind == REMOVAL:
        return orjson.dumps({"kind": kind, "source": list(source), "events": [[i, list(r)] for i, r in items]})
    doc: dict[str, Any] = {"kind": kind, "source": list(source),
                           "events": [[i, e.model_dump(mode="json")] for i, e in items]}
    if replaces:
        doc["replaces"] = True
    return orjson.dumps(doc)


def decode_repartitioned(value: bytes | None) -> Repartitioned:
    """Decode a repartition message written by `encode_repartitioned` (its events were validated then)."""
    doc = orjson.loads(value or b"{}")
    if doc["kind"] == REMOVAL:
        return Repartitioned(REMOVAL, Source(*doc["source"]), [(i, Removal(*r)) for i, r in doc["events"]])
    model = EVENT_MODELS[doc["kind"]]
    return Repartitioned(doc["kind"], Source(*doc["source"]),
                         [(i, model.model_validate(e)) for i, e in doc["events"]], bool(doc.get("replaces")))


def repartition_source(value: bytes | None) -> Source | None:
    """Return the input position a repartition message's events came from, or None if it names none."""
    try:
        doc = orjson.loads(value or b"")
        topic, partition, offset = doc["source"]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if not isinstance(topic, str) or type(partition) is not int or type(offset) is not int:
        return None
    return Source(topic, partition, offset)
