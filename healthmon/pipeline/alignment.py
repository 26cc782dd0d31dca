"""Merge the input topics of a partition in event-time order before processing (a k-way merge).

A consumer fetches each topic-partition on its own, so after a pause, a rebalance or an outage one
input's backlog can reach the worker long before another's. Handled in arrival order, tickets from
Friday would be applied before Monday's product usage, and accounts would look idle. Kafka Streams
merges a task's partitions by timestamp and, since KIP-695, waits *without a timeout* for a partition
that is known to lag (its position is below its high watermark), idling at most `max.task.idle.ms`
only for one that is caught up. This module does the same for healthmon's inputs, on the events' own
time (a backfill producer writes weeks of events within seconds, so record timestamps say nothing).

The release order depends only on what the topics hold, not on when it was fetched: a message leaves
once it is the oldest head and every other input of its partition either has a head too, or has
nothing left to read. "Nothing left" is the broker's answer to a fetch that came after the message
arrived (`fetched_ms`): an answer from before may predate an older record of that input, sent at
about the same time by its own producer. Only for an input that the consumer has read to its end, with
nothing of it seen on its way to the agent, or whose newer fetch has not come yet, does the wall clock
matter, and then for `max_wait_ms` at most from when that was first seen (not from its last message:
after a broker pause a fetch can bring a backlog's last records a minute after its previous ones).
While it waits, the inputs that run ahead queue up to `max_queued` messages each and are then paused
at the consumer, so memory stays bounded however long the catch-up. The partitions of a topic not keyed
by account are also paced against each other across the group (`healthmon.pipeline.pacing`), and the events
they move to a partition are merged into its inputs by event time (`healthmon.pipeline.moved_merge`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from healthmon.pipeline.moved_input import MovedInput
from healthmon.pipeline.moved_merge import MovedMerge
from healthmon.pipeline.pacing import Pace
from healthmon.pipeline.pending import NO_EVENT_TIME, Backlog, Pending

__all__ = ["Aligner", "Backlog", "NO_EVENT_TIME", "Pending"]


class Aligner(MovedInput):
    """Per-partition queues of the `aligned` topics; releases messages in event-time order.

    `backlog(topic, partition, received_offset)` says what the broker still holds past
    `received_offset` (-1: nothing received yet); `fetched_ms(topic, partition)` says when (wall clock, epoch
    ms, as `Pending.arrived_ms`) the broker last answered a fetch of it (None: not known, then a
    caught-up input is not waited for). `pause(topic, partition)` stops fetching a
    topic-partition whose queue is over `max_queued`; `resume(topic, partition, next_offset)` fetches it
    again, right after the last record the consumer delivered (`next_offset` is the one after the last
    received here), and returns False when it cannot now (asked again at the next release). Messages
    already on their way when the pause comes are still queued, so a queue may pass `max_queued` by one
    fetched batch.
    """

    def __init__(self, aligned: list[str], max_wait_ms: int, backlog: Callable[[str, int, int], Backlog],
                 wall_ms: Callable[[], int], *, max_queued: int = 0,
                 pause: Callable[[str, int], None] = lambda topic, partition: None,
                 resume: Callable[[str, int, int], bool] = lambda topic, partition, offset: True,
                 fetched_ms: Callable[[str, int], int | None] = lambda topic, partition: None,
                 gates: list[str] | None = None, partitions: int = 0, pace: Pace | None = None,
                 merge: MovedMerge | None = None) -> None:
        self.aligned = list(aligned)
        #: profile topics whose messages may name any partition's accounts (an inputs file's accounts topics):
        #: a partition's events also wait for these topics' other partitions that this worker owns, whose
        #: profiles the processor applies on the spot (`MappedRouting.owns`), as a native profile goes first
        self.gates = list(gates or ())
        self.partitions = partitions
        #: the topic-partitions assigned to this worker (kept by the input agent)
        self.owned: set[tuple[str, int]] = set()
        self.max_wait_ms = max_wait_ms
        self.backlog = backlog
        self.wall_ms = wall_ms
        self.max_queued = max_queued
        self._pause, self._resume = pause, resume
        self.fetched_ms = fetched_ms
        #: the pace of the topics not keyed by account, across the group (None: none is paced)
        self.pace = pace
        #: the moved events (the repartition topic's entries) merged in by event time (None: in arrival order,
        #: as any other input)
        self.merge = merge
        self._queues: dict[int, dict[str, deque[Pending]]] = {}
        self._received: dict[tuple[str, int], int] = {}
        #: topic-partition -> when it was first seen read to its end with nothing on its way (IN_FLIGHT)
        self._in_flight_since: dict[tuple[str, int], int] = {}
        #: topic-partition -> when the broker answered the fetch that found it read to its end, within one release
        #: pass (see `_lags`)
        self._confirmed: dict[tuple[str, int], int] = {}
        #: topic-partitions this aligner paused (and so must resume)
        self.paused: set[tuple[str, int]] = set()
        #: when the worker last finished processing released messages (see `processed`)
        self._processed_at = 0
        #: closed for a rebalance or a stop: nothing is held (see `close`)
        self.closed = False
        #: partition -> (topic it waits for, what that topic still holds, since when), for diagnosis
        self.blocked: dict[int, tuple[str, Backlog, int]] = {}
        #: (topic, partition) -> ms waited, for each bounded wait that ended without its messages, once
        #: per wait, for diagnosis (the input agent logs and clears it)
        self.gave_up: dict[tuple[str, int], int] = {}
        self._gave_up_on: dict[tuple[str, int], int] = {}  # topic-partition -> start of the wait given up
        self._long_waits: dict[int, tuple[str, int]] = {}  # partition -> the long wait already reported
        #: partition -> (event time, topic) of the newest message released, to tell a release behind it
        self._merged: dict[int, tuple[int, str]] = {}
        #: (topic, partition) -> messages released older than a message of another input released before
        #: them in their partition (an input's record that reached the broker after the wait for it ended),
        #: for diagnosis (the input agent logs and clears it)
        self.behind: dict[tuple[str, int], int] = {}

    def __len__(self) -> int:
        return sum(len(q) for topics in self._queues.values() for q in topics.values())

    def add(self, item: Pending) -> bool:
        """Queue a message as it arrives from the consumer; False if closed (the caller lets it go)."""
        if self.closed:
            return False
        queues = self._queues.get(item.partition)
        if queues is None:
            queues = self._queues[item.partition] = {t: deque() for t in self.aligned}
        queue = queues.get(item.topic)
        if queue is None:
            queue = queues[item.topic] = deque()
        queue.append(item)
        if self.pace is not None and len(queue) == 1:
            self.pace.queued(item.topic, item.partition, item.event_time)
        key = (item.topic, item.partition)
        self._received[key] = item.offset
        self._in_flight_since.pop(key, None)
        if 0 < self.max_queued <= len(queue) and key not in self.paused:
            self.paused.add(key)
            self._pause(*key)
        return True

    def release(self, partition: int | None = None) -> list[Pending]:
        """Return the messages that may be processed now, in the order to process them."""
        out: list[Pending] = []
        now = self.wall_ms()
        self._confirmed.clear()
        parts = self._queues if partition is None else {partition: self._queues.get(partition, {})}
        for p, queues in parts.items():
            while True:
                head: Pending | None = None
                for queue in queues.values():
                    if queue and (head is None or queue[0].event_time < head.event_time):
                        head = queue[0]
                moved = self._release_moved(p, head, queues, now)
                if isinstance(moved, Pending):
                    out.append(moved)
                    continue
                if not moved:
                    break
                if head is None:
                    self.blocked.pop(p, None)
                    break
                if not self._may_release(p, head, queues, now):
                    break
                self.blocked.pop(p, None)
                queue = queues[head.topic]
                out.append(queue.popleft())
                if self.pace is not None:
                    self.pace.released(head.topic, p, head.event_time, queue[0].event_time if queue else None)
                self._note_merged(p, head)
        if self.paused:
            self._resume_drained()
        return out

    def _may_release(self, partition: int, head: Pending, queues: dict[str, deque[Pending]], now: int) -> bool:
        if head.event_time <= NO_EVENT_TIME:
            return True
        for topic in self.aligned:
            if topic == head.topic or queues.get(topic):
                continue  # a queued message there is not older than head (head is the oldest)
            if self._lags(partition, (topic, partition), head, now):
                return False
        for topic in self.gates:
            for other in range(self.partitions):
                if other == partition or (topic, other) not in self.owned:
                    continue
                if self._queues.get(other, {}).get(topic):  # a profile, released first in its own partition
                    self._block(partition, topic, Backlog.QUEUED, now)
                    return False
                if self._lags(partition, (topic, other), head, now):
                    return False
        if self.merge is not None and not self.merge.allows(partition, head.event_time, now):
            self._block(partition, self.merge.topic, Backlog.ON_BROKER, now)  # a moved event may go before head
            return False
        return self.pace is None or self.pace.allows(head.topic, partition, head.event_time, now)

    def _lags(self, partition: int, key: tuple[str, int], head: Pending, now: int) -> bool:
        """Return whether `partition` must wait for input `key` (nothing of it queued) before releasing `head`."""
        # Found read to its end by an answer that came after `head` arrived: nothing is queued or received of it
        # since (a pass adds nothing), and a later answer could not undo what that one said, so it is not asked
        # again for each head of the pass (a partition's events ask the profile gates' every owned partition).
        confirmed = self._confirmed.get(key)
        if confirmed is not None and confirmed > head.arrived_ms:
            return False
        topic = key[0]
        backlog = self.backlog(topic, key[1], self._received.get(key, -1))
        if backlog is Backlog.NONE:
            fetched = self.fetched_ms(*key)
            if fetched is None or fetched > head.arrived_ms:
                self._in_flight_since.pop(key, None)
                if fetched is not None:
                    self._confirmed[key] = fetched
                return False
            # Caught up as of an answer that predates head: wait for the next one (one fetch round).
            backlog = Backlog.UNCONFIRMED
        if backlog is not Backlog.IN_FLIGHT and backlog is not Backlog.UNCONFIRMED:
            self._in_flight_since.pop(key, None)
            self._block(partition, topic, backlog, now)
            return True  # it lags, or its messages are on their way: wait, however long it takes
        # Read by the consumer, nothing of it seen on its way (or its next answer not here yet): its clock
        # starts when that is first seen.
        since = self._in_flight_since.setdefault(key, now)
        # Time the worker spent processing is not waiting: nothing could arrive meanwhile.
        waited = now - max(since, self._processed_at)
        if waited < self.max_wait_ms:
            self._block(partition, topic, backlog, now)
            return True
        if self._gave_up_on.get(key) != since:
            self._gave_up_on[key] = since
            self.gave_up[key] = waited
        return False

    def _note_merged(self, partition: int, item: Pending) -> None:
        if item.event_time <= NO_EVENT_TIME:
            return
        merged = self._merged.get(partition)
        if merged is None or item.event_time >= merged[0]:
            self._merged[partition] = (item.event_time, item.topic)
        elif item.topic != merged[1]:
            key = (item.topic, partition)
            self.behind[key] = self.behind.get(key, 0) + 1

    def _block(self, partition: int, topic: str, backlog: Backlog, now: int) -> None:
        held = self.blocked.get(partition)
        if held is None or held[:2] != (topic, backlog):
            self.blocked[partition] = (topic, backlog, now)

    def _resume_drained(self) -> None:
        for key in list(self.paused):
            topic, partition = key
            queue = self._queues.get(partition, {}).get(topic)
            if (not queue or len(queue) <= self.max_queued // 2) and \
                    self._resume(topic, partition, self._received.get(key, -1) + 1):
                self.paused.discard(key)

    def processed(self) -> None:
        """Note that the worker has just finished processing released messages.

        While it processes, it takes no new messages in, so a topic's silence then says nothing about
        the broker: under load a burst of one topic could otherwise outlast `max_wait_ms` and let
        the next burst jump ahead of the messages already queued behind it.
        """
        self._processed_at = self.wall_ms()
        if self.pace is not None:
            self.pace.processed()

    def long_waits(self, now_ms: int, at_least_ms: int) -> list[tuple[int, str, Backlog, int]]:
        """Return (partition, topic, backlog, ms waited) of each wait longer than `at_least_ms`, once per wait."""
        found = []
        for partition, (topic, backlog, since) in list(self.blocked.items()):
            if now_ms - since >= at_least_ms and self._long_waits.get(partition) != (topic, since):
                self._long_waits[partition] = (topic, since)
                found.append((partition, topic, backlog, now_ms - since))
        return found

    def drop_partitions(self, partitions: set[int]) -> list[Pending]:
        """Forget queued messages of revoked partitions (they are redelivered elsewhere); return them."""
        dropped: list[Pending] = []
        for p in partitions:
            for queue in self._queues.pop(p, {}).values():
                dropped.extend(queue)
        self._received = {k: v for k, v in self._received.items() if k[1] not in partitions}
        self._in_flight_since = {k: v for k, v in self._in_flight_since.items() if k[1] not in partitions}
        self._gave_up_on = {k: v for k, v in self._gave_up_on.items() if k[1] not in partitions}
        self.paused = {k for k in self.paused if k[1] not in partitions}
        if self.pace is not None:
            self.pace.forget(partitions)
        if self.merge is not None:
            dropped.extend(self.merge.drop_partitions(partitions))
        for p in partitions:
            self.blocked.pop(p, None)
            self._merged.pop(p, None)
        return dropped

    def close(self) -> list[Pending]:
        """Let go of every queued message and hold none until `reopen` (a rebalance or a stop).

        A held message is never acked, so the consumer would wait for it forever; let go unprocessed,
        it is not committed either, and whoever owns its partition next reads it again.
        """
        self.closed = True
        return self.drop_partitions(set(self._queues))

    def reopen(self) -> None:
        """Hold messages again (new partitions are assigned)."""
        self.closed = False
