"""Align the input topics of a partition by record timestamp before processing (a k-way merge).

A consumer fetches each topic-partition on its own, so one topic's messages can be handled seconds
before another's that were written at the same time. Live, that is noise; in a catch-up or a fast
replay, seconds of log are days of event time, and a ticket processed "days" before the usage that
came with it makes accounts look idle. Kafka Streams solves this by always taking the record with the
lowest timestamp among a task's partitions, waiting a bounded time (`max.task.idle.ms`) for a partition
that has data on the broker but none buffered. This module does the same for healthmon's inputs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Aligner", "Pending"]


@dataclass(slots=True)
class Pending:
    """A message waiting for its turn."""

    topic: str
    partition: int
    offset: int
    timestamp: float
    arrived_ms: int
    payload: Any = field(default=None, repr=False)


class Aligner:
    """Per-partition queues of the `aligned` topics; releases messages in record-timestamp order.

    `has_backlog(topic, partition, received_offset)` says whether the broker holds messages of that
    topic-partition past `received_offset` (-1: none received yet). A message is released when every
    other aligned topic of its partition either has a queued message that is not older, or has nothing
    left to read, or has delivered nothing for `max_wait_ms` of the worker's idle time (a slow fetch
    must not stall the others; a topic that is flowing, however far behind, is always waited for).
    """

    def __init__(self, aligned: list[str], max_wait_ms: int,
                 has_backlog: Callable[[str, int, int], bool], wall_ms: Callable[[], int]) -> None:
        self.aligned = list(aligned)
        self.max_wait_ms = max_wait_ms
        self.has_backlog = has_backlog
        self.wall_ms = wall_ms
        self._queues: dict[int, dict[str, deque[Pending]]] = {}
        self._received: dict[tuple[str, int], int] = {}
        self._last_arrival: dict[tuple[str, int], int] = {}
        #: when the worker last finished processing released messages (see `processed`)
        self._processed_at = 0

    def __len__(self) -> int:
        return sum(len(q) for topics in self._queues.values() for q in topics.values())

    def add(self, item: Pending) -> None:
        """Queue a message as it arrives from the consumer."""
        queues = self._queues.get(item.partition)
        if queues is None:
            queues = self._queues[item.partition] = {t: deque() for t in self.aligned}
        queue = queues.get(item.topic)
        if queue is None:
            queue = queues[item.topic] = deque()
        queue.append(item)
        self._received[(item.topic, item.partition)] = item.offset
        self._last_arrival[(item.topic, item.partition)] = item.arrived_ms

    def release(self, partition: int | None = None) -> list[Pending]:
        """Return the messages that may be processed now, in the order to process them."""
        out: list[Pending] = []
        now = self.wall_ms()
        parts = self._queues if partition is None else {partition: self._queues.get(partition, {})}
        for p, queues in parts.items():
            while True:
                head: Pending | None = None
                for queue in queues.values():
                    if queue and (head is None or queue[0].timestamp < head.timestamp):
                        head = queue[0]
                if head is None or not self._may_release(p, head, queues, now):
                    break
                out.append(queues[head.topic].popleft())
        return out

    def _may_release(self, partition: int, head: Pending, queues: dict[str, deque[Pending]], now: int) -> bool:
        for topic in self.aligned:
            if topic == head.topic or queues.get(topic):
                continue  # a queued message there is not older than head (head is the oldest)
            key = (topic, partition)
            if not self.has_backlog(topic, partition, self._received.get(key, -1)):
                continue
            # Never heard from it yet: start its clock now, so an unfetched topic is waited for too.
            last = self._last_arrival.setdefault(key, now)
            # Time the worker spent processing is not waiting: nothing could arrive meanwhile.
            if now - max(last, self._processed_at) < self.max_wait_ms:
                return False
        return True

    def processed(self) -> None:
        """Note that the worker has just finished processing released messages.

        While it processes, it takes no new messages in, so a topic's silence then says nothing about
        the broker: under load a burst of one topic could otherwise outlast `max_wait_ms` and let
        the next burst jump ahead of the messages already queued behind it.
        """
        self._processed_at = self.wall_ms()

    def requeue(self, items: list[Pending]) -> None:
        """Put released but unprocessed messages back at the front of their queues, in order."""
        for item in reversed(items):
            self._queues.setdefault(item.partition, {}).setdefault(item.topic, deque()).appendleft(item)

    def drop_partitions(self, partitions: set[int]) -> list[Pending]:
        """Forget queued messages of revoked partitions (they are redelivered elsewhere); return them."""
        dropped = []
        for p in partitions:
            for queue in self._queues.pop(p, {}).values():
                dropped.extend(queue)
        self._received = {k: v for k, v in self._received.items() if k[1] not in partitions}
        self._last_arrival = {k: v for k, v in self._last_arrival.items() if k[1] not in partitions}
        return dropped
