"""Repartition packs: the entries bound for one partition, sent as one repartition message.

Every message on the repartition topic costs a send, a fetch, a decode and a turn through the
aligner and the agent, whatever it carries. When producers do not key by account (Segment, RudderStack,
librdkafka's CRC32 partitioner) most single-event input messages have their events moved, and one
repartition message per input message doubled the messages the worker handles. Packing the entries
per destination partition makes that cost per pack instead (Kafka Streams' repartition topics are
written through a batching producer for the same reason).

A pack holds events whose input messages may already be acked: the worker sends every pack before
offsets are committed (`streams.hooks`), so a crash loses no event, and re-read inputs are duplicates.

With `marks` (the progress of the input partitions this worker owns, when the receivers merge moved events
by event time: `healthmon.pipeline.moved_merge`), every pack carries them, after its entries, and a
partition no pack goes to gets them alone when one of them entered another interval of event time, or
became caught up or not, or every `heartbeat_ms`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from healthmon.ingest.repartition import Mark, encode_pack

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
        #: the marks to write with the packs (None: none), the receivers' evaluation interval and partition count
        self.marks: Callable[[], list[Mark]] | None = None
        self.interval_ms = 3_600_000
        self.partitions = 0
        self.heartbeat_ms = 1000
        #: partition -> (the marks as its receiver needs them, when) last written there
        self._marked: dict[int, tuple[list[tuple[str, int, int, bool]], int]] = {}

    def __len__(self) -> int:
        return sum(p.events for p in self._packs.values())

    def add(self, partition: int, entry: bytes, events: int) -> list[tuple[int, bytes]]:
        """Add one entry bound for `partition`; return the packs that are full now, ready to send."""
        ready = []
        pack = self._packs.get(partition)
        if pack is not None and pack.entries and pack.size + len(entry) > self.max_bytes:
            ready.append((partition, self._encode(partition, pack.entries)))  # the new entry would not fit
            pack = None
        if pack is None:
            pack = self._packs[partition] = _Pack()
        pack.entries.append(entry)
        pack.events += events
        pack.size += len(entry)
        if pack.events >= self.max_events or pack.size >= self.max_bytes:
            ready.append((partition, self._encode(partition, pack.entries)))
            del self._packs[partition]
        return ready

    def take(self, now_ms: int = 0) -> list[tuple[int, bytes]]:
        """Return every pack not sent yet, as (partition, repartition message body), and forget them; with marks,
        also the marks alone for each partition that is due them (see the module docstring)."""
        packs, self._packs = self._packs, {}
        out = [(partition, self._encode(partition, pack.entries, now_ms)) for partition, pack in packs.items()
               if pack.entries]
        if self.marks is not None:
            marks, sent = self.marks(), set(packs)
            for partition in range(self.partitions):
                if partition not in sent and self._due(partition, marks, now_ms):
                    out.append((partition, self._encode(partition, [], now_ms, marks)))
        return out

    def _encode(self, partition: int, entries: list[bytes], now_ms: int = 0, marks: list[Mark] | None = None) -> bytes:
        if self.marks is None:
            return encode_pack(entries)
        marks = self.marks() if marks is None else marks
        self._marked[partition] = (self._coarse(marks), now_ms or self._marked.get(partition, ([], 0))[1])
        return encode_pack(entries, marks)

    def marks_moved(self) -> bool:
        """Return whether a mark entered another interval, or became caught up or not, since the marks last went to
        some partition (the receivers may be waiting for it)."""
        if self.marks is None:
            return False
        coarse = self._coarse(self.marks())
        return any(last[0] != coarse for last in self._marked.values()) or len(self._marked) < self.partitions

    def _coarse(self, marks: list[Mark]) -> list[tuple[str, int, int, bool]]:
        return sorted((t, p, e // self.interval_ms, c) for t, p, e, c in marks)

    def _due(self, partition: int, marks: list[Mark], now_ms: int) -> bool:
        last = self._marked.get(partition)
        return last is None or last[0] != self._coarse(marks) or now_ms - last[1] >= self.heartbeat_ms
