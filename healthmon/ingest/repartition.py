"""Read where a repartition message came from: the input message its events were decoded from.

A repartition message's body is `{"kind": ..., "source": [topic, partition, offset], "events": [...]}`
(written by `streams.processor`). Whatever goes wrong with it later must be reported at that source
position, never at the internal topic's, or the dead letter loses the way back to the input.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

__all__ = ["Source", "repartition_source"]


class Source(NamedTuple):
    """A position in an input topic."""

    topic: str
    partition: int
    offset: int


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
