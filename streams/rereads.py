"""Read a stuck input partition again from its committed offset: the Faust side of the stuck-partition watch.

`healthmon.pipeline.StuckPartitionWatch` decides which partitions are stuck and from where
to read them; this gathers its figures from Faust's consumer, and seeks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import faust

from healthmon.pipeline import REREAD_LOG_MARK, Aligner, StuckPartitionWatch
from streams.consumer_probes import describe, partition_progress

__all__ = ["PartitionRereads"]

log = logging.getLogger(__name__)


class PartitionRereads:
    """Check the input partitions a worker owns for stuck commits, and read the stuck ones again."""

    def __init__(self, app: faust.App, topics: set[str], stuck_seconds: float, aligner: Aligner,
                 on_reread: Callable[[str], None] = lambda topic: None,
                 broker_reachable: Callable[[], bool] = lambda: True) -> None:
        self.app = app
        self.topics = topics
        self.stuck_seconds = stuck_seconds
        self.watch = StuckPartitionWatch(int(stuck_seconds * 1000))
        self.aligner = aligner
        self.on_reread = on_reread
        self.broker_reachable = broker_reachable

    @property
    def interval_s(self) -> float:
        """Return how often to check: often enough to read a stuck partition again soon after `stuck_seconds`."""
        return max(self.stuck_seconds / 6, 0.5)

    def reset(self) -> None:
        """Start every clock again (after a rebalance)."""
        self.watch.reset()

    async def check(self) -> None:
        """Read every stuck partition again from its committed offset (logged; counted by `on_reread`)."""
        app, consumer = self.app, self.app.consumer
        settled = not (app.rebalancing or self.aligner.closed or not app.tables.recovery.completed.is_set())
        progress = partition_progress(consumer, self.topics) if settled else []
        for stuck in self.watch.check(int(time.time() * 1000), progress, self.broker_reachable(), settled):
            tp: Any = stuck.key  # a Faust TP (the watch keys partitions by whatever it is given)
            log.warning("%s[%d] " + REREAD_LOG_MARK + " %.0f s with messages left: committed %d of %s, %s; "
                        "reading it again from offset %d", tp.topic, tp.partition, self.stuck_seconds,
                        stuck.committed, stuck.highwater, describe(consumer, tp), stuck.committed)
            await consumer.seek(tp, stuck.committed)
            if (tp.topic, tp.partition) not in self.aligner.paused:
                consumer.resume_partitions({tp})
            self.on_reread(tp.topic)
