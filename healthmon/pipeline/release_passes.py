"""When the input agent asks the aligner to release: once per run of messages the consumer has handed over.

The aligner decides what may go (`alignment.py`); this decides when to ask. Asked after every message,
it makes a pass over the partition's queues, and probes the backlog of each partner input with nothing
queued, once per message. The messages already waiting in the stream's buffer would be queued behind
it anyway, so the agent queues them first and asks once: when the buffer is empty, or after
`max_messages`, so that a buffer that never empties does not hold processing back.
"""

from __future__ import annotations

__all__ = ["ReleasePasses"]


class ReleasePasses:
    """The partitions that got messages since the last release, and when to release them."""

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._partitions: set[int] = set()
        self._count = 0

    def add(self, partition: int) -> None:
        """Note a message queued in the aligner for `partition`."""
        self._partitions.add(partition)
        self._count += 1

    def take(self, more_waiting: bool) -> set[int]:
        """Return the partitions to release now; empty while `more_waiting` messages should be queued first."""
        if not self._count or (more_waiting and self._count < self.max_messages):
            return set()
        partitions, self._partitions, self._count = self._partitions, set(), 0
        return partitions
