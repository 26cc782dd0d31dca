"""When each account is evaluated on stream time: per-partition watermarks and a heap of due instants.

An account is due at the tick boundary `Engine.next_tick_ms` names from its own state (the ticks it
skips could only have moved its evaluation clock within a day), and it is ticked at that very instant,
however far the watermark has moved since, but never more than `CATCH_UP_TICKS` intervals back. A
profile that has had neither an event nor a tick is due at the epoch: it is ticked at the partition's latest
boundary, since its first tick starts its warm-up and its score history, and the account was not known
before the stream reached it. So the instants depend on the account's state, the watermark and the order
of the input only: a replay, or a worker restarted from its saved table, ticks at the same instants as an
uninterrupted run.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from healthmon.core import AccountState
from healthmon.ingest import partition_for

__all__ = ["CATCH_UP_TICKS", "TickSchedule"]

#: How many tick intervals behind its partition's watermark an account is evaluated from, at most.
CATCH_UP_TICKS = 48


class TickSchedule:
    """Partition watermarks and, per partition, the accounts a tick may change, by due instant."""

    def __init__(self, next_tick_ms: Callable[[AccountState], int | None], partitions: int,
                 tick_interval_ms: int) -> None:
        self._next_tick_ms = next_tick_ms
        self.partitions = partitions
        self.tick_interval_ms = tick_interval_ms
        #: per partition: the latest event time applied (its stream time)
        self.watermark: dict[int, int] = {}
        #: per partition, a heap of (next tick instant, account): only accounts a tick may change are ticked
        self._heap: dict[int, list[tuple[int, str]]] = defaultdict(list)
        #: account -> its current due instant (heap entries that disagree are stale)
        self._due: dict[str, int] = {}
        #: whether the schedule was rebuilt from the saved states since the last start or rebalance
        self.resumed = False

    def stream_time(self, account_id: str) -> int:
        """Return the watermark of the account's partition: the instant its snapshot is taken at."""
        return self.watermark.get(partition_for(account_id, self.partitions), 0)

    def boundary(self, partition: int) -> int:
        """Return the latest tick instant the partition's watermark has reached (0: none yet)."""
        wm = self.watermark.get(partition, 0)
        return wm - wm % self.tick_interval_ms

    def schedule(self, partition: int, account_id: str, state: AccountState) -> None:
        """(Re)schedule the account at the next instant a tick may change its state (none: unschedule)."""
        due = self._next_tick_ms(state)
        if due is None:
            self._due.pop(account_id, None)
        elif self._due.get(account_id) != due:
            self._due[account_id] = due
            heapq.heappush(self._heap[partition], (due, account_id))

    def instants(self, partition: int) -> Iterator[int]:
        """Yield each instant some account of `partition` is due that its watermark has passed.

        The caller ticks the accounts `pop_due` returns at each instant before asking for the next.
        """
        wm = self.watermark.get(partition)
        if wm is None:
            return
        boundary = wm - wm % self.tick_interval_ms
        earliest = boundary - CATCH_UP_TICKS * self.tick_interval_ms
        heap = self._heap[partition]
        self._place_unevaluated(heap, boundary)
        while heap and heap[0][0] <= boundary:
            yield max(heap[0][0], earliest)

    def _place_unevaluated(self, heap: list[tuple[int, str]], boundary: int) -> None:
        """Move the accounts never evaluated (due at the epoch's first interval) to `boundary`."""
        if boundary <= self.tick_interval_ms:
            return
        while heap and heap[0][0] <= self.tick_interval_ms:
            at, account_id = heapq.heappop(heap)
            if self._due.get(account_id) == at:  # else a stale entry
                self._due[account_id] = boundary
                heapq.heappush(heap, (boundary, account_id))

    def pop_due(self, partition: int, now_ms: int) -> list[str]:
        """Take the accounts of `partition` due at or before `now_ms` off the schedule, in account order."""
        heap, due = self._heap[partition], self._due
        ready = []
        while heap and heap[0][0] <= now_ms:
            at, account_id = heapq.heappop(heap)
            if due.get(account_id) == at:  # else a stale entry: the account was rescheduled
                del due[account_id]
                ready.append(account_id)
        ready.sort()
        return ready

    def resume(self, saved: Iterable[tuple[str, AccountState]],
               ahead: Callable[[str, AccountState], bool] | None = None) -> dict[int, tuple[int, int]]:
        """Schedule every saved account, and resume each partition's stream time from the saved states.

        Called before the first message after a start or a rebalance. A restarted worker must tick its
        accounts at the very instants an uninterrupted one would have, or an alert's decision time (and
        with it its `alert_id`) would depend on when the worker last restarted. Both come from the saved
        states: an account's next tick from its own state, and a partition's watermark from the latest
        event any of its accounts accepted (a flush saves every account a message changed). A state `ahead`
        of the committed offsets (`healthmon.pipeline.committed_cut`) is scheduled but moves no watermark:
        the input read again from the commit does. Return the partitions where such a state had got further
        (partition -> (stream time resumed, the latest `clock_ms` of a state ahead)).
        """
        self._heap.clear()
        self._due.clear()
        resumed: dict[int, int] = {}
        later: dict[int, int] = {}
        for account_id, state in saved:
            partition = partition_for(account_id, self.partitions)
            if ahead is not None and ahead(account_id, state):
                if state.clock_ms > later.get(partition, 0):
                    later[partition] = state.clock_ms
            elif state.clock_ms > resumed.get(partition, 0):
                resumed[partition] = state.clock_ms
            self.schedule(partition, account_id, state)
        for partition, wm in resumed.items():
            if wm > self.watermark.get(partition, 0):
                self.watermark[partition] = wm
        self.resumed = True
        return {p: (self.watermark.get(p, 0), at) for p, at in sorted(later.items()) if at > self.watermark.get(p, 0)}
