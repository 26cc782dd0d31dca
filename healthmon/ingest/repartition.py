"""The repartition message: one input message's events of one account, on their way to its partition.

A repartition message's body is `{"kind": ..., "source": [topic, partition, offset], "events": [...]}`,
each event as `[batch index, event]`. Whatever goes wrong with it later must be reported at the source
position, never at the internal topic's, or the dead letter loses the way back to the input.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from schemas.events import EVENT_MODELS

__all__ = ["Repartitioned", "Source", "decode_repartitioned", "encode_repartitioned", "repartition_source"]


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


def encode_repartitioned(kind: str, source: Source, items: list[tuple[int | None, Any]]) -> bytes:
    """Return the body of a repartition message carrying `items` (validated events) from `source`."""
    return orjson.dumps({"kind": kind, "source": list(source),
                         "events": [[i, e.model_dump(mode="json")] for i, e in items]})


def decode_repartitioned(value: bytes | None) -> Repartitioned:
    """Decode a repartition message written by `encode_repartitioned` (its events were validated then)."""
    doc = orjson.loads(value or b"{}")
    model = EVENT_MODELS[doc["kind"]]
    return Repartitioned(doc["kind"], Source(*doc["source"]),
                         [(i, model.model_validate(e)) for i, e in doc["events"]])


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
