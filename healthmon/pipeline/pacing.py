"""Pace the partitions of a topic against each other: none runs more than `drift_ms` of event time ahead.

An input that is not keyed by account (Segment sends no key, librdkafka keys by CRC32, Debezium by row
key) holds events of every account on every partition. With a backlog, its partitions drain at their own
speed, so an account would get one partition's events days ahead of another's, and the engine would
reject the older ones as too late. Flink's watermark alignment of sources (max drift) bounds that skew;
this does the same on the events' own time, across every worker of the group.

A partition's progress is a lower bound of what it can still deliver: the event time of its queued head,
else of the last message it released. A paced head may be released only if its event time is at most
`drift_ms` past the *floor* of its topic: the least progress of the topic's other partitions, leaving out
those that are caught up (nothing queued, nothing left on the broker). The partition at the floor is never
held by the pace, so the group always moves. Progress of partitions this worker owns is kept here as it
changes; the others' comes from their owners (`remote`, through the progress topic). A partition nobody
has told of yet holds its topic for `unknown_wait_ms` at most (wall clock), then is left out until known.

Most of such an input's events reach their account through the repartition topic, behind whatever the
worker has fetched already: in a backlog that is days of event time. So that topic's progress counts in
every floor too (`moved`; its own heads are never held), and events a worker has just moved count as in
flight on their partition until its progress passes them (`Pace.moved`): the broker shows them only later. For
the same reason a partition's releases move its progress only once processed (`Pace.processed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from healthmon.pipeline.pending import NO_EVENT_TIME as _NO_EVENT_TIME

__all__ = ["Pace", "Progress"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where one partition of a paced topic stands: `event_time` (epoch ms; -1: none known yet) is a lower bound
    of what it can still deliver, `caught_up` says it delivers nothing now (nothing queued, nothing on the broker)."""

    event_time: int
    caught_up: bool


class Pace:
    """The pace condition of the `paced` topics (topic -> its partition count).

    `moved` is the topic that brings each partition the events moved from the others' (the repartition
    topic): never held, but its progress counts in every paced topic's floor, since an account's events
    that took it are as much behind as it is.
    """

    def __init__(self, paced: dict[str, int], drift_ms: int, unknown_wait_ms: int,
                 moved: dict[str, int] | None = None) -> None:
        on = drift_ms > 0 and bool(paced)
        #: topic -> partition count of every topic whose progress is followed (the paced ones and `moved`)
        self.partitions = {**paced, **(moved or {})} if on else {}
        self._paced = set(paced) if on else set()
        self._moved = next(iter(moved or {}), None) if on else None
        #: (moved topic, partition) -> (least event time sent there and not seen delivered yet, since when)
        self._marks: dict[tuple[str, int], tuple[int, int]] = {}
        #: paced topic -> the partitions whose progress makes its floor
        self._floors = {t: [(u, p) for u in (t, *(moved or {})) for p in range(self.partitions[u])]
                        for t in self._paced}
        #: (paced topic, partition) -> its floor's partitions but itself (`allows` runs for every head released)
        self._others = {(t, p): [k for k in floor if k != (t, p)] for t, floor in self._floors.items()
                        for p in range(self.partitions[t])}
        self.drift_ms = drift_ms
        self.unknown_wait_ms = unknown_wait_ms
        #: (topic, partition) -> progress of a partition this worker owns
        self.local: dict[tuple[str, int], Progress] = {}
        #: (topic, partition) -> progress once the messages released are processed (see `processed`)
        self._released: dict[tuple[str, int], Progress] = {}
        #: (topic, partition) -> progress as its owner last published it (any worker, this one too)
        self.remote: dict[tuple[str, int], Progress] = {}
        self._unknown_since: dict[tuple[str, int], int] = {}
        self._gave_up_on: set[tuple[str, int]] = set()
        #: (topic, partition) -> ms waited, for each partition no owner told of in time, once (the agent logs and
        #: clears it)
        self.gave_up: dict[tuple[str, int], int] = {}

    def paces(self, topic: str) -> bool:
        """Return whether `topic`'s heads are held by the pace."""
        return topic in self._paced

    def allows(self, topic: str, partition: int, event_time: int, now_ms: int) -> bool:
        """Return whether a head of `topic[partition]` with this event time may be released now."""
        if event_time <= _NO_EVENT_TIME or topic not in self._paced:
            return True
        lowest = event_time - self.drift_ms
        # its own progress is this head's event time: never ahead of itself
        others = self._others.get((topic, partition))
        if others is None:  # a partition the topic did not have when the pace was made
            others = [k for k in self._floors[topic] if k != (topic, partition)]
        # called for every head released: the dicts are read through locals (none is replaced meanwhile)
        local, remote, marks, unknown_since = self.local, self.remote, self._marks, self._unknown_since
        for key in others:
            progress = local.get(key) or remote.get(key)
            if marks and key in marks:
                progress = self._in_flight(key, progress, now_ms)
            if progress is None or (progress.event_time <= _NO_EVENT_TIME and not progress.caught_up):
                if not self._unknown_holds(key, now_ms):
                    continue
                return False
            if unknown_since:
                unknown_since.pop(key, None)
            if not progress.caught_up and progress.event_time < lowest:
                return False
        return True

    def moved(self, partition: int, event_time: int, now_ms: int) -> None:
        """Note events as old as `event_time` sent to `partition` of the moved topic: until its progress passes
        them (or `unknown_wait_ms`), they are in flight, whatever the broker said of it before."""
        if self._moved is None or event_time <= _NO_EVENT_TIME:
            return
        key = (self._moved, partition)
        mark = self._marks.get(key)
        if mark is None or event_time < mark[0]:
            self._marks[key] = (event_time, now_ms if mark is None else mark[1])

    def _in_flight(self, key: tuple[str, int], progress: Progress | None, now_ms: int) -> Progress | None:
        sent, since = self._marks[key]
        if (progress is not None and progress.event_time >= sent) or now_ms - since >= self.unknown_wait_ms:
            del self._marks[key]
            return progress
        return Progress(sent if progress is None or progress.event_time <= _NO_EVENT_TIME else progress.event_time,
                        False)

    def _unknown_holds(self, key: tuple[str, int], now_ms: int) -> bool:
        since = self._unknown_since.setdefault(key, now_ms)
        if now_ms - since < self.unknown_wait_ms:
            return True
        if key not in self._gave_up_on:
            self._gave_up_on.add(key)
            self.gave_up[key] = now_ms - since
        return False

    def queued(self, topic: str, partition: int, event_time: int) -> None:
        """Note a message queued at the head of an empty queue of `topic[partition]`."""
        if topic in self.partitions and event_time > _NO_EVENT_TIME:
            key = (topic, partition)
            (self._released if key in self._released else self.local)[key] = Progress(event_time, False)

    def released(self, topic: str, partition: int, event_time: int, next_head: int | None) -> None:
        """Note a message of `topic[partition]` released; `next_head` is the event time of the one behind it."""
        if topic not in self.partitions:
            return
        key = (topic, partition)
        if next_head is not None and next_head > _NO_EVENT_TIME:
            self._released[key] = Progress(next_head, False)
        elif event_time > _NO_EVENT_TIME:
            # caught up or not, only the broker says (`settle`)
            self._released[key] = Progress(event_time, False)
        # a message with no event time leaves the progress where it was

    def processed(self) -> None:
        """Move the progress past the messages released: they are processed now, so the events they moved are
        marked in flight (`moved`). Until then the others are paced on the progress from before them."""
        self.local.update(self._released)
        self._released.clear()

    def settle(self, topic: str, partition: int, queued: bool, caught_up: bool) -> Progress | None:
        """Note what the broker says of an owned `topic[partition]`; return its progress to publish (None: unknown)."""
        key = (topic, partition)
        found = self.local.get(key)
        if queued:
            return found
        if caught_up or found is not None:
            found = Progress(found.event_time if found else _NO_EVENT_TIME, caught_up)
            self.local[key] = found
        return found

    def marks(self, owned: Iterable[tuple[str, int]]) -> list[tuple[str, int, int, bool]]:
        """Return the progress of the owned paced partitions as marks for the moved events' receivers
        (`healthmon.pipeline.moved_merge`): none is caught up while messages it released are being processed."""
        out = []
        for key in owned:
            progress = self.local.get(key)
            if key[0] in self._paced and progress is not None:
                out.append((key[0], key[1], progress.event_time, progress.caught_up and key not in self._released))
        return out

    def forget(self, partitions: set[int]) -> None:
        """Forget the local progress of revoked partitions (their new owner publishes it)."""
        self.local = {k: v for k, v in self.local.items() if k[1] not in partitions}
        self._released = {k: v for k, v in self._released.items() if k[1] not in partitions}
