"""The aligner's side of the moved events' merge (`healthmon.pipeline.moved_merge`): a repartition message's
entries go into the merge, not into a queue, and the partition's first held entry is one more head of its
k-way merge, released once `MovedMerge.allows` it. Mixed into `healthmon.pipeline.alignment.Aligner`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from healthmon.pipeline.moved_merge import Moved, MovedMerge
from healthmon.pipeline.pacing import Pace, Progress
from healthmon.pipeline.pending import Backlog, Pending

__all__ = ["MovedInput"]


class MovedInput:
    """Add a repartition message's entries to the merge; release the first of them in its turn."""

    if TYPE_CHECKING:  # the aligner's parts this mixin uses
        aligned: list[str]
        closed: bool
        merge: MovedMerge | None
        pace: Pace | None
        _queues: dict[int, dict[str, deque[Pending]]]
        _received: dict[tuple[str, int], int]
        _in_flight_since: dict[tuple[str, int], int]
        backlog: Callable[[str, int, int], Backlog]

        def _block(self, partition: int, topic: str, backlog: Backlog, now: int) -> None: ...

        def _may_release(self, partition: int, head: Pending, queues: dict[str, deque[Pending]], now: int) -> bool: ...

    def add_moved(self, item: Pending, entries: list[tuple[int, str, int, int, str, Any]], removals: frozenset[int],
                  marks: list[tuple[tuple[str, int], Progress]]) -> bool:
        """Hold a repartition message's entries and read its marks (see `MovedMerge.add`); False if it holds none
        or is closed (the caller acks it, or lets it go when `closed`)."""
        if self.closed or self.merge is None:
            return False
        p, merge = item.partition, self.merge
        self._queues.setdefault(p, {t: deque() for t in self.aligned})
        # Received as a queued message is: what the broker holds past it is what the topic still has to deliver
        # (without this the topic never reads caught up, and the pace waits for its progress in vain).
        key = (item.topic, p)
        self._received[key] = item.offset
        self._in_flight_since.pop(key, None)
        before = merge.head(p)
        held = merge.add(p, item.offset, item, entries, removals)
        for source, progress in marks:
            merge.mark(p, source, progress)
        head = merge.head(p)
        if self.pace is not None and head is not None and (before is None or head < before):
            self.pace.queued(merge.topic, p, head)
        return held

    def _release_moved(self, partition: int, head: Pending | None, queues: dict[str, deque[Pending]],
                       now: int) -> Pending | bool:
        """Release the partition's first moved entry if it goes before `head` (the oldest of its own inputs, which
        goes first on a tie) and may go as any head may (`_may_release`: its own inputs with nothing queued may
        still deliver older events): its `Pending`; else False if it must wait, True if `head` goes first."""
        merge = self.merge
        at = merge.head(partition) if merge is not None else None
        if merge is None or at is None or (head is not None and head.event_time <= at):
            return True
        first = merge.first(partition)
        pack = first.pack.item
        if not self._may_release(partition, Pending(merge.topic, partition, pack.offset, at, pack.arrived_ms), queues,
                                 now):
            return False
        moved = merge.pop(partition)
        if self.pace is not None:
            self.pace.released(merge.topic, partition, at, merge.head(partition))
        return Pending(merge.topic, partition, pack.offset, at, pack.arrived_ms, (pack.payload[0], moved))

    def progress(self, topic: str, partition: int) -> Progress | None:
        """Return the pace progress of an owned `topic[partition]` to publish (None: not known, or closed)."""
        if self.pace is None or self.closed:
            return None
        queued = bool(self._queues.get(partition, {}).get(topic)) or \
            (self.merge is not None and topic == self.merge.topic and self.merge.held(partition) > 0)
        caught_up = not queued and \
            self.backlog(topic, partition, self._received.get((topic, partition), -1)) is Backlog.NONE
        return self.pace.settle(topic, partition, queued, caught_up)

    def requeue(self, items: list[Pending]) -> None:
        """Put released but unprocessed messages back at the front of their queues, in order."""
        for item in reversed(items):
            moved = item.payload[1] if isinstance(item.payload, tuple) else None
            if isinstance(moved, Moved) and self.merge is not None:
                self.merge.requeue(moved)
                continue
            self._queues.setdefault(item.partition, {}).setdefault(item.topic, deque()).appendleft(item)
