"""Find stuck input partitions: a committed offset that stopped moving with messages left to process.

A partition this worker owns must make progress while the broker holds messages past its committed
offset: either some of them are on their way through the worker (fetched and waiting in the
Kafka client, queued, held by the aligner, being processed), or its committed offset moves. When
neither happens for `stuck_ms`, the consumer has lost track of the partition (a fetch dropped after
a pause or a rebalance, a delivered message nobody will ack), and only reading it again from the
committed offset gets it going. Re-read messages that were already applied are duplicates the
processor ignores (`AccountState.positions`).

While the broker does not answer, no commit can move: the watch holds its clocks until it answers
again, so a broker pause or outage never passes for a stuck partition. Nor does a rebalance or a
table recovery, while which the consumer is not settled.

The watch decides which partitions to read again and from where; `streams.rereads` gathers the
figures from Faust's consumer and seeks.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["REREAD_LOG_MARK", "PartitionProgress", "StuckPartitionWatch"]

#: the words of the worker's log line for each partition read again (drills count them)
REREAD_LOG_MARK = "made no progress for"


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
    #: the Kafka client holds fetched records of it that the consumer has not handed over yet: they wait
    #: their turn behind records of other partitions (a catch-up fetches every input partition far ahead)
    fetched: bool = False


class StuckPartitionWatch:
    """Report each topic-partition stuck at one committed offset for `stuck_ms`, once per offset."""

    def __init__(self, stuck_ms: int) -> None:
        self.stuck_ms = stuck_ms
        self._since: dict[Hashable, tuple[int, int]] = {}  # key -> (committed, since when it sat there)
        self._reported: dict[Hashable, int] = {}  # key -> committed offset already reported

    def check(self, now_ms: int, partitions: list[PartitionProgress], broker_reachable: bool = True,
              settled: bool = True) -> list[PartitionProgress]:
        """Return the partitions to read again from their committed offset: no progress for `stuck_ms`.

        With `settled` False (a rebalance, a stop, a table recovery) the watch forgets every partition;
        with `broker_reachable` False nothing is reported and every clock starts again.
        """
        if not settled:
            self.reset()
            return []
        if not broker_reachable:
            self._since = {p.key: (p.committed, now_ms) for p in partitions}
            return []
        stuck = []
        seen = set()
        for p in partitions:
            seen.add(p.key)
            at = self._since.get(p.key)
            if at is None or at[0] != p.committed or p.in_flight or p.commit_due or p.fetched or p.highwater is None \
                    or p.committed >= p.highwater:
                self._since[p.key] = (p.committed, now_ms)  # moving, busy, or nothing left: not stuck
                continue
            if now_ms - at[1] >= self.stuck_ms and self._reported.get(p.key) != p.committed:
                self._reported[p.key] = p.committed
                stuck.append(p)
        for key in set(self._since) - seen:  # no longer ours
            del self._since[key]
            self._reported.pop(key, None)
        return stuck

    def reset(self) -> None:
        """Forget every partition (after a rebalance, clocks start again)."""
        self._since.clear()
        self._reported.clear()

