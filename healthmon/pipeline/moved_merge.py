"""Merge the events moved to a partition with its own inputs by event time, one evaluation interval at a time.

An input not keyed by account reaches an account's partition through the repartition topic, from every
other partition of the input, each at its own speed. The engine evaluates an account at each interval
boundary `b` as soon as one of its events at or past `b` is applied, or its partition's watermark passes
`b`: applied in arrival order, an event from before `b` that arrives after that misses the evaluation in one
run and makes it in another. So a partition's moved events are held, un-acked, in a heap ordered by event
time then source position, and an event of the interval starting at `b` (moved or the partition's own)
is released only once no moved event before `b` can still arrive: once every source partition that may
move events here is known to have passed `b`, or to be caught up. Within one interval the order does not
matter (no evaluation falls inside it), so the partitions wait for each other once per interval of event
time, not once per event.

What a source has passed comes in band: its owner writes marks (`Progress`, the pace's lower bound of what
the source can still deliver) into each repartition partition after the events it moved there, so a mark
read here says that none of the source's events before it is still on its way (a producer's records keep
their order in a partition). Of a source's marks the highest is kept: a new owner of a dead worker's
partition reads it again from its last commit, and what it moves below the old owner's mark is here already
(duplicates). A source no mark was read of holds the partition for `unknown_wait_ms` at most (a worker that
writes no marks), then is left out until one is read. The pace (`healthmon.pipeline.pacing`) keeps the
sources within its drift of each other, which bounds what is held here.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from healthmon.pipeline.pacing import Progress
from healthmon.pipeline.pending import NO_EVENT_TIME

__all__ = ["HeldPack", "Moved", "MovedMerge"]


#: the merge key of an entry: event time, source topic, source partition, source offset, account, then the
#: repartition offset and index in the message (a source's entry moved twice, once by a new owner, sorts twice)
_Key = tuple[int, str, int, int, str, int, int]


@dataclass(slots=True)
class HeldPack:
    """A repartition message some of whose entries are held (`left`) or not processed yet (`unprocessed`)."""

    offset: int
    #: what the caller lets go or acks it by (the aligner's `Pending` of the message)
    item: Any = field(repr=False)
    left: int = 0
    unprocessed: int = 0


@dataclass(slots=True)
class Moved:
    """One released entry of a repartition message (one input message's events of one account)."""

    partition: int
    event_time: int
    pack: HeldPack
    entry: Any = field(repr=False)
    key: _Key = field(repr=False)
    #: the highest repartition offset every entry up to which is released (a redelivery check's position)
    through: int = -1

    def done(self) -> bool:
        """Note this entry processed; return whether its message has none left to process (then it is acked)."""
        self.pack.unprocessed -= 1
        return self.pack.unprocessed == 0


class MovedMerge:
    """The moved events held per partition of the repartition topic `topic` (see the module docstring).

    `sources` maps each topic whose partitions may move events (the paced ones) to its partition count;
    a partition's own partition of each is not a source of its moved events. `interval_ms` is the engine's
    evaluation interval.
    """

    def __init__(self, topic: str, sources: dict[str, int], interval_ms: int, unknown_wait_ms: int) -> None:
        self.topic = topic
        self.sources = [(t, p) for t, n in sources.items() for p in range(n)]
        self.interval_ms = interval_ms
        self.unknown_wait_ms = unknown_wait_ms
        #: partition -> (key, a tie-break for one message read twice, entry) of each held entry
        self._heaps: dict[int, list[tuple[_Key, int, Moved]]] = {}
        self._pushed = itertools.count()
        #: partition -> offset -> the held messages, in offset order
        self._packs: dict[int, dict[int, HeldPack]] = {}
        self._last: dict[int, int] = {}
        #: partition -> source -> the highest mark read
        self._marks: dict[int, dict[tuple[str, int], Progress]] = {}
        #: partition -> account -> latest event time held or released (a removal goes after the account's events)
        self._latest: dict[int, dict[str, int]] = {}
        self._unknown_since: dict[tuple[int, str, int], int] = {}
        #: (partition, source topic, source partition) -> ms waited for a source no mark was read of, once
        #: per source (the caller logs and clears it)
        self.gave_up: dict[tuple[int, str, int], int] = {}

    def held(self, partition: int) -> int:
        """Return how many entries `partition` holds."""
        return len(self._heaps.get(partition, ()))

    def __len__(self) -> int:
        return sum(len(h) for h in self._heaps.values())

    def add(self, partition: int, offset: int, item: Any, entries: list[tuple[int, str, int, int, str, Any]],
            removals: frozenset[int] = frozenset()) -> bool:
        """Hold a repartition message's entries, each (event time, source topic, source partition, source offset,
        account, entry); the indexes in `removals` are removals, which go after their account's events.

        Return False if it holds none (the caller acks the message at once)."""
        heap = self._heaps.setdefault(partition, [])
        latest = self._latest.setdefault(partition, {})
        pack = HeldPack(offset, item, len(entries), len(entries))
        self._last[partition] = max(offset, self._last.get(partition, -1))
        if entries:
            self._packs.setdefault(partition, {})[offset] = pack
        for n, (event_time, topic, source, source_offset, account, entry) in enumerate(entries):
            if n in removals:
                event_time = latest.get(account, NO_EVENT_TIME)
            elif event_time > latest.get(account, NO_EVENT_TIME):
                latest[account] = event_time
            key = (event_time, topic, source, source_offset, account, offset, n)
            heapq.heappush(heap, (key, next(self._pushed), Moved(partition, event_time, pack, entry, key)))
        return bool(entries)

    def mark(self, partition: int, source: tuple[str, int], progress: Progress) -> None:
        """Note a source's mark read on `partition` (the highest, by event time then caught up, is kept)."""
        marks = self._marks.setdefault(partition, {})
        known = marks.get(source)
        if known is None or (progress.event_time, progress.caught_up) > (known.event_time, known.caught_up):
            marks[source] = progress

    def head(self, partition: int) -> int | None:
        """Return the event time of the first held entry of `partition` (None: none held)."""
        heap = self._heaps.get(partition)
        return heap[0][0][0] if heap else None

    def first(self, partition: int) -> Moved:
        """Return the first held entry of `partition` (`head`) without releasing it."""
        return self._heaps[partition][0][2]

    def allows(self, partition: int, event_time: int, now_ms: int) -> bool:
        """Return whether an event of `partition` (moved or its own) at `event_time` may be applied now."""
        if event_time <= NO_EVENT_TIME:
            return True
        start = event_time - event_time % self.interval_ms
        marks = self._marks.get(partition, {})
        for source in self.sources:
            if source[1] == partition:
                continue
            known = marks.get(source)
            if known is None or (known.event_time <= NO_EVENT_TIME and not known.caught_up):
                if self._unknown_holds(partition, source, now_ms):
                    return False
                continue
            self._unknown_since.pop((partition, *source), None)
            if not known.caught_up and known.event_time < start:
                return False
        return True

    def _unknown_holds(self, partition: int, source: tuple[str, int], now_ms: int) -> bool:
        key = (partition, *source)
        since = self._unknown_since.setdefault(key, now_ms)
        if now_ms - since < self.unknown_wait_ms:
            return True
        if key not in self.gave_up and since >= 0:
            self.gave_up[key] = now_ms - since
            self._unknown_since[key] = -1  # reported once
        return False

    def pop(self, partition: int) -> Moved:
        """Release the first held entry of `partition` (`head`); the caller tells `Moved.done` once processed."""
        moved = heapq.heappop(self._heaps[partition])[2]
        moved.pack.left -= 1
        packs = self._packs[partition]
        if moved.pack.left == 0:
            packs.pop(moved.pack.offset, None)
        moved.through = next(iter(packs)) - 1 if packs else self._last[partition]
        return moved

    def requeue(self, moved: Moved) -> None:
        """Hold a released entry again (it was not processed)."""
        pack, partition = moved.pack, moved.partition
        pack.left += 1
        packs = self._packs.setdefault(partition, {})
        if pack.offset not in packs:
            packs[pack.offset] = pack
            self._packs[partition] = dict(sorted(packs.items()))
        heapq.heappush(self._heaps.setdefault(partition, []), (moved.key, next(self._pushed), moved))

    def drop_partitions(self, partitions: set[int]) -> list[Any]:
        """Forget what revoked partitions hold; return the items of their messages not acked yet."""
        let_go: list[Any] = []
        for p in partitions:
            let_go.extend(pack.item for pack in self._packs.pop(p, {}).values())
            self._heaps.pop(p, None)
            self._last.pop(p, None)
            self._marks.pop(p, None)
            self._latest.pop(p, None)
        self._unknown_since = {k: v for k, v in self._unknown_since.items() if k[0] not in partitions}
        return let_go
