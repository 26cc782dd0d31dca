"""Find input partitions whose committed offset stopped moving with messages left to process.

A partition this worker owns must make progress while the broker holds messages past its committed
offset: either some of them are on their way through the worker (fetched, queued, held by the aligner,
being processed), or its committed offset moves. When neither happens for `stall_ms`, the consumer has
lost track of the partition (a fetch dropped after a pause or a rebalance, a delivered message nobody
will ack), and only re-reading it from the committed offset gets it going again. Re-read messages
that were already applied are duplicates the processor ignores (`AccountState.positions`).

While the broker does not answer, no commit can move: the watch holds its clocks until it answers
again, so a broker pause or outage never passes for a stall.

The watch decides; the worker gathers the figures and re-reads (`agents/inputs.py`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["STALL_LOG_MARK", "PartitionProgress", "StallWatch", "describe", "partition_progress"]

#: the words of the worker's log line for each partition read again (drills count them)
STALL_LOG_MARK = "made no progress for"


@dataclass(frozen=True, slots=True)
class PartitionProgress:
    """What the worker knows of one topic-partition it owns, at one instant."""

    key: Hashable
    #: next offset to commit (the committed offset; 0 when none was committed yet)
    committed: int
    #: the broker's end offset as last seen by the consumer (None: not fetched yet)
    highwater: int | None
    #: messages of this topic-partition fetched but not acked yet (queued, held or being processed)
    in_flight: int
    #: processed messages right after the committed offset wait for the next commit (every
    #: `HEALTHMON_COMMIT_INTERVAL_SECONDS`): the committed offset will move without any help
    commit_due: bool = False


class StallWatch:
    """Report each topic-partition stuck at one committed offset for `stall_ms`, once per offset."""

    def __init__(self, stall_ms: int) -> None:
        self.stall_ms = stall_ms
        self._since: dict[Hashable, tuple[int, int]] = {}  # key -> (committed, since when it sat there)
        self._reported: dict[Hashable, int] = {}  # key -> committed offset already reported

    def check(self, now_ms: int, partitions: list[PartitionProgress],
              broker_reachable: bool = True) -> list[PartitionProgress]:
        """Return the partitions that have made no progress for `stall_ms` with messages left to process.

        With `broker_reachable` False nothing is reported and every clock starts again.
        """
        if not broker_reachable:
            self._since = {p.key: (p.committed, now_ms) for p in partitions}
            return []
        stalled = []
        seen = set()
        for p in partitions:
            seen.add(p.key)
            at = self._since.get(p.key)
            if at is None or at[0] != p.committed or p.in_flight or p.commit_due or p.highwater is None \
                    or p.committed >= p.highwater:
                self._since[p.key] = (p.committed, now_ms)  # moving, busy, or nothing left: not stuck
                continue
            if now_ms - at[1] >= self.stall_ms and self._reported.get(p.key) != p.committed:
                self._reported[p.key] = p.committed
                stalled.append(p)
        for key in set(self._since) - seen:  # no longer ours
            del self._since[key]
            self._reported.pop(key, None)
        return stalled

    def reset(self) -> None:
        """Forget every partition (after a rebalance, clocks start again)."""
        self._since.clear()
        self._reported.clear()


def partition_progress(consumer: Any, topics: set[str]) -> list[PartitionProgress]:
    """Read what a Faust consumer knows of each topic-partition of `topics` it owns."""
    unacked: dict[Any, list[int]] = {}
    for message in list(consumer._unacked_messages):  # Faust has no public view of these
        if message.topic in topics:
            unacked.setdefault(message.tp, []).append(message.offset)
    rows = []
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        acked = consumer._acked.get(tp)
        first_acked = min(acked) if acked else None
        # Only a message below the first acked offset can move the committed offset: one above it that
        # is in flight does not help a hole below (a message delivered that nobody will ack).
        in_flight = sum(1 for offset in unacked.get(tp, ()) if first_acked is None or offset < first_acked)
        committed = consumer._committed_offset.get(tp) or 0
        # Faust's next commit moves past acked offsets that follow the committed one (it lets one offset
        # between them go, a transaction marker, and checks nothing before a first commit), so those are
        # no hole, only not committed yet.
        commit_due = first_acked is not None and (not committed or first_acked - committed <= 1)
        rows.append(PartitionProgress(tp, committed, consumer.highwater(tp), in_flight, commit_due))
    return rows


def describe(consumer: Any, tp: Any) -> str:
    """Return what the consumer knows of `tp`, for the log line of a stall."""
    acked = consumer._acked.get(tp) or []
    active = tp in consumer._get_active_partitions()
    return (f"read up to {consumer._read_offset.get(tp)}, {len(acked)} acked past the commit "
            f"(first {min(acked) if acked else None}), {'fetching' if active else 'not fetching'}; "
            f"Kafka client: {_client_view(consumer, tp)}")


def _client_view(consumer: Any, tp: Any) -> str:
    client = getattr(getattr(consumer, "_thread", None), "_consumer", None)
    try:
        state = client._subscription.subscription.assignment.state_value(tp)  # type: ignore[union-attr]
        fetcher = client._fetcher  # type: ignore[union-attr]
    except (AttributeError, KeyError, TypeError):
        return "unknown"
    if state is None:
        return "not assigned"
    position = state.position if state.has_valid_position else None
    buffered = type(fetcher._records.get(tp)).__name__ if tp in fetcher._records else None
    return (f"position {position}, paused {state.paused}, awaiting reset {state.awaiting_reset}, "
            f"buffered {buffered}, fetch tasks {len(getattr(fetcher, '_pending_tasks', ()) or ())}")
