"""Repartition packs: the entries bound for one partition, sent as one repartition message.

Every message on the repartition topic costs a send, a fetch, a decode and a turn through the
aligner and the agent, whatever it carries. When producers do not key by account (Segment, RudderStack,
librdkafka's CRC32 partitioner) most single-event input messages have their events moved, and one
repartition message per input message doubled the messages the worker handles. Packing the entries
per destination partition makes that cost per pack instead (Kafka Streams' repartition topics are
written through a batching producer for the same reason).

A pack holds events whose input messages may already be acked: the worker sends every pack before
offsets are committed (`streams.hooks`), so a crash loses no event, and re-read inputs are duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from healthmon.ingest.repartition import encode_pack

__all__ = ["PACK_MAX_BYTES", "PACK_MAX_EVENTS", "RepartitionPacks"]

#: a pack is sent once it holds this many events...
PACK_MAX_EVENTS = 500
#: ...or this many bytes of entries (an entry bigger than this goes alone, as before packs)
PACK_MAX_BYTES = 256 * 1024


@dataclass
class _Pack:
    entries: list[bytes] = field(default_factory=list)
    events: int = 0
    size: int = 0


class RepartitionPacks:
    """Entries waiting to be sent, per destination partition."""

    def __init__(self, max_events: int = PACK_MAX_EVENTS, max_bytes: int = PACK_MAX_BYTES) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._packs: dict[int, _Pack] = {}

    def __len__(self) -> int:
        return sum(p.events for p in self._packs.values())

    def add(self, partition: int, entry: bytes, events: int) -> list[tuple[int, bytes]]:
        """Add one entry bound for `partition`; return the packs that are full now, ready to send."""
        ready = []
        pack = self._packs.get(partition)
        if pack is not None and pack.entries and pack.size + len(entry) > self.max_bytes:
            ready.append((partition, encode_pack(pack.entries)))  # the new entry would not fit
            pack = None
        if pack is None:
            pack = self._packs[partition] = _Pack()
        pack.entries.append(entry)
        pack.events += events
        pack.size += len(entry)
        if pack.events >= self.max_events or pack.size >= self.max_bytes:
            ready.append((partition, encode_pack(pack.entries)))
            del self._packs[partition]
        return ready

    def take(self) -> list[tuple[int, bytes]]:
        """Return every pack not sent yet, as (partition, repartition message body), and forget them."""
        packs, self._packs = self._packs, {}
        return [(partition, encode_pack(pack.entries)) for partition, pack in packs.items() if pack.entries]
